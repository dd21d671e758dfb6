// Clip grid (players, scores, reasons, approve/reject, batch actions) used on a job's page and on the
// all-clips page.

import { api } from "../api.js";
import { field, h, mount, uid } from "../dom.js";
import { clock, duration, score } from "../format.js";
import { announce, busy, showError } from "../status.js";
import { statusBadge } from "./progress.js";

const PAGE_SIZE = 12;

export function clipTitle(clip) {
  return clip.title || `Clip ${clip.rank ?? ""}`.trim();
}

function linksOf(clip) {
  return { video: clip.video_url, poster: clip.thumbnail_url };
}

/**
 * A player for signed media links (`video_url`, `thumbnail_url`). Links expire (about an hour): when the video
 * fails to load, `freshLinks()` asks the API for new ones ({video, poster}), at most once a minute so a file that
 * is really gone does not loop, and playback resumes where it was.
 */
export function clipPlayer(clip, freshLinks = () => api.clip(clip.id).then(linksOf)) {
  const video = h("video", {
    controls: true,
    preload: "metadata",
    playsinline: true,
    src: clip.video_url,
    poster: clip.thumbnail_url,
    "aria-label": `Video: ${clipTitle(clip)}`,
  });
  let renewedAt = 0;
  video.addEventListener("error", async () => {
    if (Date.now() - renewedAt < 60_000) return;
    renewedAt = Date.now();
    try {
      const links = await freshLinks();
      const at = video.currentTime;
      if (links.poster) video.poster = links.poster;
      video.src = links.video;
      if (at) video.addEventListener("loadedmetadata", () => (video.currentTime = at), { once: true });
    } catch {
      // the clip is gone or we are signed out: the player shows its own error state
    }
  });
  return video;
}

/** Approve and Reject buttons whose pressed state shows the clip's review status. */
export function reviewButtons(clip, onChange) {
  const approve = h("button", { type: "button", class: "approve" }, "Approve");
  const reject = h("button", { type: "button", class: "reject" }, "Reject");
  const sync = (current) => {
    approve.setAttribute("aria-pressed", String(current.status === "approved"));
    reject.setAttribute("aria-pressed", String(current.status === "rejected"));
  };
  const decide = (button, call, verb) =>
    busy(button, async () => {
      const next = await call(clip.id);
      clip = next;
      sync(next);
      announce(`${clipTitle(next)} ${verb}`);
      onChange(next);
    });
  approve.addEventListener("click", () => decide(approve, api.approveClip, "approved"));
  reject.addEventListener("click", () => decide(reject, api.rejectClip, "rejected"));
  sync(clip);
  return [approve, reject];
}

/** What an empty clip list says to do next, for the filter it shows. */
function emptyClips(status, jobId) {
  if (status) return `No ${status} clips here. Choose “All” under Status to see the others.`;
  if (jobId) return "No clips yet: they appear here when the job's rendering finishes.";
  return h(
    "span",
    {},
    "No clips yet. ",
    h("a", { href: "#/jobs/new" }, "Start a job"),
    " with a video file or link: its best moments appear here as vertical clips to review.",
  );
}

function clipCard(clip, selection) {
  const titleId = uid("clip-title");
  const statusSlot = h("span", {}, statusBadge(clip.status));
  const select = h("input", { type: "checkbox", class: "select-clip", value: clip.id });
  select.addEventListener("change", () => (select.checked ? selection.add(clip.id) : selection.delete(clip.id)));
  const tags = (clip.hashtags || []).map((tag) => `#${tag}`).join(" ");
  return h(
    "li",
    { class: "card clip-card", dataset: { clipId: clip.id } },
    h(
      "article",
      { "aria-labelledby": titleId },
      clipPlayer(clip),
      h(
        "div",
        { class: "clip-body" },
        h("h3", { id: titleId }, h("a", { href: `#/clips/${encodeURIComponent(clip.id)}` }, clipTitle(clip))),
        h(
          "p",
          { class: "clip-facts" },
          h("span", { class: "score", title: "Score out of 100" }, `Score ${score(clip.score)}`),
          ` · #${clip.rank ?? "–"} · ${clock(clip.start_s)}–${clock(clip.end_s)} · ${duration(clip.duration_s)} · `,
          statusSlot,
        ),
        clip.reason ? h("p", { class: "reason" }, clip.reason) : null,
        tags ? h("p", { class: "tags" }, tags) : null,
        h(
          "div",
          { class: "actions" },
          h(
            "span",
            { class: "check" },
            select,
            h("label", { for: (select.id = uid()) }, "Select", h("span", { class: "visually-hidden" }, ` ${clipTitle(clip)}`)),
          ),
          reviewButtons(clip, (next) => mount(statusSlot, statusBadge(next.status))),
          h("a", { class: "button", href: `#/clips/${encodeURIComponent(clip.id)}` }, "Review & edit"),
        ),
      ),
    ),
  );
}

/** A filterable, sortable, paginated grid of clips (of one job when jobId is given). */
export function clipGrid({ jobId = null } = {}) {
  let page = 1;
  const selection = new Set();
  const status = h(
    "select",
    { name: "clip_status" },
    ["", "proposed", "approved", "rejected"].map((value) => h("option", { value }, value || "All")),
  );
  const sort = h(
    "select",
    { name: "sort" },
    [["-score", "Best score first"], ["score", "Lowest score first"], ["created_at", "Oldest first"]].map(
      ([value, label]) => h("option", { value }, label),
    ),
  );
  const list = h("ul", { class: "clip-grid", "aria-label": "Clips" });
  const pager = h("nav", { class: "pager", "aria-label": "Clip pages" });
  const batch = (action, verb) => async (event) => {
    if (!selection.size) {
      announce("Select clips first");
      return;
    }
    if (action === "delete" && !window.confirm(`Delete ${selection.size} clip(s)? This cannot be undone.`)) return;
    await busy(event.currentTarget, async () => {
      const result = await api.batchClips(action, [...selection]);
      announce(`${result.updated.length} clip(s) ${verb}`);
      await reload();
    });
  };
  const element = h(
    "div",
    { class: "clip-grid-wrap" },
    h(
      "div",
      { class: "toolbar" },
      field("Status", status),
      field("Sort", sort),
      h(
        "div",
        { class: "batch", role: "group", "aria-label": "Batch actions on selected clips" },
        h("button", { type: "button", onclick: batch("approve", "approved") }, "Approve selected"),
        h("button", { type: "button", onclick: batch("reject", "rejected") }, "Reject selected"),
        h("button", { type: "button", class: "danger", onclick: batch("delete", "deleted") }, "Delete selected"),
      ),
    ),
    list,
    pager,
  );

  async function reload() {
    selection.clear();
    const params = { page: String(page), limit: String(PAGE_SIZE), sort: sort.value };
    if (jobId) params.job_id = jobId;
    if (status.value) params.status = status.value;
    list.setAttribute("aria-busy", "true");
    try {
      const result = await api.clips(params);
      mount(
        list,
        result.items.length
          ? result.items.map((clip) => clipCard(clip, selection))
          : h("li", { class: "empty" }, emptyClips(status.value, jobId)),
      );
      const pages = Math.max(1, Math.ceil(result.total / result.limit));
      mount(
        pager,
        pages > 1
          ? [
              h("button", { type: "button", disabled: page <= 1, onclick: () => ((page -= 1), reload()) }, "Previous"),
              h("span", {}, `Page ${page} of ${pages}`),
              h("button", { type: "button", disabled: page >= pages, onclick: () => ((page += 1), reload()) }, "Next"),
            ]
          : null,
      );
    } catch (error) {
      showError(error);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }
  status.addEventListener("change", () => ((page = 1), reload()));
  sort.addEventListener("change", () => ((page = 1), reload()));
  reload();
  return { element, reload };
}

export function allClipsView(_params, outlet) {
  const grid = clipGrid();
  mount(outlet, h("h1", { tabindex: "-1" }, "Clips"), grid.element);
}
