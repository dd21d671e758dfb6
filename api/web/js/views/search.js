// Moment search ("ClipAnything"): find what was said or shown across the workspace's sources, by meaning or
// exact words, and make a clip of a found moment (rendered by the pipeline like any clip).

import { request } from "../api.js";
import { field, h, mount } from "../dom.js";
import { clock, score } from "../format.js";
import { currentQuery, navigate } from "../router.js";
import { announce, busy, showError } from "../status.js";

const KIND_LABEL = { speech: "Said", screen: "On screen" };

const searchMoments = (q) => request(`/api/search?${new URLSearchParams({ q, limit: "10" })}`);
const makeClip = (body) => request("/api/search/clips", { method: "POST", body });

export async function searchView(_params, outlet) {
  const query = currentQuery().get("q") || "";
  const input = h("input", { type: "search", name: "q", value: query, maxlength: "200", autocomplete: "off" });
  const form = h(
    "form",
    { class: "toolbar", role: "search" },
    field("Find a moment", input, "What was said or shown, in any words: “the part about pricing”."),
    h("button", { type: "submit", class: "primary" }, "Search"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value.trim();
    navigate(q ? `/search?q=${encodeURIComponent(q)}` : "/search");
  });
  const results = h("ol", { class: "moment-list found-moments", "aria-label": "Moments found" });
  mount(outlet, h("h1", { tabindex: "-1" }, "Search"), form, results);
  if (!query) return;
  try {
    const found = await searchMoments(query);
    if (!found.results.length) {
      mount(results, h("li", { class: "hint" }, `No moment matches “${query}” yet. Sources are searchable once their job has finished.`));
      return;
    }
    mount(results, found.results.map((moment) => momentItem(moment, query)));
    announce(`${found.results.length} moments found`);
  } catch (error) {
    showError(error);
  }
}

function momentItem(moment, query) {
  const make = h("button", { type: "button" }, "Make a clip");
  const outcome = h("span", { class: "hint", role: "status" });
  make.addEventListener("click", () =>
    busy(make, async () => {
      const clip = await makeClip({ job_id: moment.job_id, start_s: moment.start_s, end_s: moment.end_s, query });
      mount(outcome, "Rendering… ", h("a", { href: `#/clips/${encodeURIComponent(clip.id)}` }, clip.title || "the new clip"));
      announce("Clip made: it renders in the background");
    }),
  );
  return h(
    "li",
    { class: "moment card" },
    moment.thumbnail ? h("img", { src: moment.thumbnail, alt: "", width: 160, loading: "lazy" }) : null,
    h(
      "div",
      { class: "moment-body" },
      h(
        "p",
        { class: "moment-meta" },
        h("a", { href: `#/jobs/${encodeURIComponent(moment.job_id)}` }, moment.source),
        ` · ${clock(moment.start_s)}–${clock(moment.end_s)} · `,
        h("span", { class: "badge" }, KIND_LABEL[moment.kind] || moment.kind),
        ` · match ${score(moment.score)}`,
      ),
      h("p", { class: "moment-text" }, moment.text),
      moment.context && moment.context !== moment.text ? h("p", { class: "hint" }, moment.context) : null,
      h("p", {}, make, " ", outcome),
    ),
  );
}
