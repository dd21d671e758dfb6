// Entry point: routes, the signed-in header (workspace switcher, sign out), and focus management.

import { api, logout, onSignedOut, session } from "./js/api.js";
import { field, h, mount } from "./js/dom.js";
import { currentPath, navigate, route, start } from "./js/router.js";
import { announce, clearError, showError } from "./js/status.js";
import { installThemeToggle } from "./js/theme.js";
import { accountsView } from "./js/views/accounts.js";
import { analyticsView } from "./js/views/analytics.js";
import { signInView, registerView } from "./js/views/auth.js";
import { brandView } from "./js/views/brand.js";
import { clipView } from "./js/views/clip_detail.js";
import { allClipsView } from "./js/views/clips.js";
import { jobListView, jobView } from "./js/views/jobs.js";
import { newJobView } from "./js/views/new_job.js";
import { canPublish } from "./js/views/publishing.js";
import { queueView } from "./js/views/queue.js";
import { searchView } from "./js/views/search.js";
import { streamListView, streamView } from "./js/views/streams.js";

const outlet = document.getElementById("main");
let me = null;
let afterSignIn = "/jobs";

/** Load the user and their workspaces, pick a workspace, draw the header. */
async function loadAccount() {
  me = await api.me();
  const ids = me.workspaces.map((w) => w.id);
  if (!ids.includes(session.workspaceId)) session.workspaceId = ids[0] || null;
  drawHeader();
}

/** Queue and Accounts only for roles with Publish access in the current workspace (viewers have none). */
function drawNav() {
  const current = me ? me.workspaces.find((w) => w.id === session.workspaceId) : null;
  const publishing = Boolean(current && canPublish(current.role));
  for (const name of ["queue", "accounts"]) {
    const link = document.querySelector(`#nav a[data-nav="${name}"]`);
    if (link) link.parentElement.hidden = !publishing;
  }
}

function drawHeader() {
  const nav = document.getElementById("nav");
  const account = document.getElementById("account");
  if (!me) {
    nav.hidden = true;
    account.replaceChildren();
    return;
  }
  nav.hidden = false;
  drawNav();
  let switcher = null;
  if (me.workspaces.length > 1) {
    const select = h(
      "select",
      { name: "workspace" },
      me.workspaces.map((w) => h("option", { value: w.id, selected: w.id === session.workspaceId }, `${w.name} (${w.role})`)),
    );
    select.addEventListener("change", () => {
      session.workspaceId = select.value;
      drawNav();
      const chosen = me.workspaces.find((w) => w.id === select.value);
      announce(`Switched to workspace ${chosen ? chosen.name : ""}`);
      // Objects of the previous workspace are 404 in the new one, so go back to the list.
      navigate("/jobs");
    });
    switcher = h("div", { class: "workspace-switcher" }, field("Workspace", select));
  } else if (me.workspaces.length === 1) {
    switcher = h("span", { class: "muted workspace-name" }, me.workspaces[0].name);
  }
  const user = me.user || {};
  mount(
    account,
    switcher,
    h("span", { class: "user" }, user.display_name || user.email || ""),
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          await logout();
          // Whoever signs in next starts at the job list, not at the page the last user was on.
          afterSignIn = "/jobs";
          announce("Signed out");
        },
      },
      "Sign out",
    ),
  );
}

onSignedOut(() => {
  me = null;
  drawHeader();
  if (!["/login", "/register"].includes(currentPath())) {
    afterSignIn = currentPath();
    navigate("/login");
  }
});

const afterSignedIn = () => loadAccount();

route("/login", (p, o) => signInView(p, o, { after: () => afterSignIn, onSignedIn: afterSignedIn }), {
  title: "Sign in",
  public: true,
});
route("/register", (p, o) => registerView(p, o, { onSignedIn: afterSignedIn }), {
  title: "Create an account",
  public: true,
});
route("/jobs", jobListView, { title: "Jobs" });
route("/jobs/new", newJobView, { title: "New job" });
route("/jobs/:id", jobView, { title: "Job" });
route("/clips", allClipsView, { title: "Clips" });
route("/clips/:id", clipView, { title: "Clip" });
route("/queue", queueView, { title: "Queue" });
route("/search", searchView, { title: "Search" });
route("/accounts", accountsView, { title: "Accounts" });
route("/analytics", analyticsView, { title: "Analytics" });
route("/streams", streamListView, { title: "Streams" });
route("/streams/:id", streamView, { title: "Stream" });
route("/brand", brandView, { title: "Brand kit" });

let firstRender = true;

async function boot() {
  if (session.signedIn) {
    try {
      await loadAccount();
    } catch (error) {
      if (error.status !== 401) showError(error);
    }
  }
  start({
    outlet,
    guard: (match, path) => {
      if (path === "/") return session.signedIn ? "/jobs" : "/login";
      if (match && !match.isPublic && !session.signedIn) {
        afterSignIn = path;
        return "/login";
      }
      if (match && match.isPublic && session.signedIn) return "/jobs";
      return null;
    },
    notFound: (o) => mount(o, h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "#/jobs" }, "Go to jobs"))),
    onRender: () => {
      clearError();
      for (const link of document.querySelectorAll("#nav a")) {
        if (link.getAttribute("href") === "#" + currentPath()) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
    },
    onRendered: () => {
      // After a navigation, move focus to the new page's heading so screen readers start there; on the
      // first load keep it at the top of the document so Tab starts with the skip link.
      if (firstRender) {
        firstRender = false;
        return;
      }
      const heading = outlet.querySelector("h1");
      if (heading) heading.focus();
    },
  });
}

// The skip link must not change the hash (the router owns it): move focus to <main> by hand.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  outlet.focus();
  outlet.scrollIntoView();
});

window.addEventListener("unhandledrejection", (event) => showError(event.reason));
installThemeToggle();
boot();
