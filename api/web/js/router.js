// Hash router: "#/jobs/abc" -> the view registered for "/jobs/:id". Hash URLs need no server-side
// fallback route, and the back button and deep links work.

const routes = [];
let cleanup = null;

/** Register `view(params, outlet)` for `pattern` ("/clips/:id"). A view may return a cleanup function. */
export function route(pattern, view, { title = "", public: isPublic = false } = {}) {
  const names = [];
  const regex = new RegExp(
    "^" +
      pattern.replace(/:(\w+)/g, (_, name) => {
        names.push(name);
        return "([^/]+)";
      }) +
      "$",
  );
  routes.push({ regex, names, view, title, isPublic });
}

export function currentPath() {
  const path = location.hash.replace(/^#/, "") || "/";
  return path.split("?")[0];
}

/** Query parameters after the path in the hash ("#/jobs?status=failed"). */
export function currentQuery() {
  const query = location.hash.split("?")[1] || "";
  return new URLSearchParams(query);
}

export function navigate(path) {
  if (location.hash === "#" + path) render();
  else location.hash = path;
}

let options = {};
/** Start routing. `guard(route)` may return a path to redirect to (e.g. sign-in for private routes). */
export function start({ outlet, guard, notFound, onRender, onRendered }) {
  options = { outlet, guard, notFound, onRender, onRendered };
  window.addEventListener("hashchange", render);
  render();
}

let renders = 0;

export async function render() {
  const { outlet, guard, notFound, onRender, onRendered } = options;
  renders += 1;
  const thisRender = renders;
  const path = currentPath();
  const match = routes.map((r) => ({ r, m: r.regex.exec(path) })).find(({ m }) => m);
  const redirect = guard && guard(match ? match.r : null, path);
  if (redirect && redirect !== path) {
    navigate(redirect);
    return;
  }
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  outlet.replaceChildren();
  if (!match) {
    notFound(outlet);
    if (onRendered) onRendered();
    return;
  }
  const params = Object.fromEntries(match.r.names.map((name, i) => [name, decodeURIComponent(match.m[i + 1])]));
  document.title = match.r.title ? `${match.r.title} · Clipped` : "Clipped";
  if (onRender) onRender(match.r);
  const result = await match.r.view(params, outlet);
  if (thisRender === renders && onRendered) onRendered();
  if (typeof result !== "function") return;
  // A newer navigation happened while this view was loading: its timers and streams must stop now.
  if (thisRender !== renders) result();
  else cleanup = result;
}
