// Job list (live progress for the jobs still running) and a job's page (steps, cancel/retry, its clips).

import { api } from "../api.js";
import { field, h, mount } from "../dom.js";
import { TERMINAL_JOB_STATUSES, clock, when } from "../format.js";
import { currentQuery, navigate } from "../router.js";
import { announce, busy, showError } from "../status.js";
import { clipGrid } from "./clips.js";
import { exportApprovedButton } from "./downloads.js";
import { jobProgress, statusBadge, watchJob } from "./progress.js";

const PAGE_SIZE = 20;
// Browsers allow ~6 HTTP/1.1 connections per host; an EventSource holds one open, so the list streams
// only a few jobs and polls the rest.
const MAX_STREAMS = 3;

function jobTitle(job) {
  return (job.source && job.source.display_name) || `Job ${job.id}`;
}

function jobCard(job) {
  const progressSlot = h("div", { class: "progress-slot" }, jobProgress(job));
  const statusSlot = h("span", { class: "status-slot" }, statusBadge(job.status));
  const clipsSlot = h("span", { class: "clips-slot" }, clipCount(job));
  const card = h(
    "li",
    { class: `card job-card${job.thumbnail_url ? " with-thumb" : ""}`, dataset: { jobId: job.id } },
    // The best clip's first frame stands for the video (decorative: the title next to it names the job).
    job.thumbnail_url ? h("img", { class: "job-thumb", src: job.thumbnail_url, alt: "", loading: "lazy" }) : null,
    h(
      "div",
      { class: "job-head" },
      h("h2", { class: "job-title" }, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, jobTitle(job))),
      statusSlot,
    ),
    h("p", { class: "muted" }, `Created ${when(job.created_at)}`, " · ", clipsSlot),
    progressSlot,
  );
  const update = (next) => {
    mount(progressSlot, jobProgress(next));
    mount(statusSlot, statusBadge(next.status));
    mount(clipsSlot, clipCount(next));
    if (next.status !== job.status) announce(`${jobTitle(next)}: ${next.status}`);
    job = next;
  };
  return { card, update };
}

function clipCount(job) {
  const count = Number(job.clip_count) || 0;
  return `${count} clip${count === 1 ? "" : "s"}`;
}

export async function jobListView(_params, outlet) {
  const query = currentQuery();
  const page = Math.max(1, Number(query.get("page")) || 1);
  const status = query.get("status") || "";
  const stops = [];

  const filter = h(
    "select",
    {
      name: "status",
      onchange: () => navigate(`/jobs?${new URLSearchParams({ status: filter.value, page: "1" })}`),
    },
    ["", "queued", "running", "succeeded", "failed", "canceled"].map((value) =>
      h("option", { value, selected: value === status }, value || "All"),
    ),
  );
  const list = h("ul", { class: "job-list", "aria-label": "Jobs" });
  const pager = h("nav", { class: "pager", "aria-label": "Job pages" });
  mount(
    outlet,
    h(
      "div",
      { class: "page-head" },
      h("h1", { tabindex: "-1" }, "Jobs"),
      h("a", { class: "button primary", href: "#/jobs/new" }, "New job"),
    ),
    h("div", { class: "toolbar" }, field("Show", filter)),
    list,
    pager,
  );

  let result;
  try {
    const params = { page: String(page), limit: String(PAGE_SIZE) };
    if (status) params.status = status;
    result = await api.jobs(params);
  } catch (error) {
    showError(error);
    return undefined;
  }
  if (!result.items.length) {
    list.append(h("li", { class: "empty" }, status ? `No ${status} jobs.` : "No jobs yet. Start one with “New job”."));
  }
  let streams = 0;
  for (const job of result.items) {
    const { card, update } = jobCard(job);
    list.append(card);
    if (!TERMINAL_JOB_STATUSES.has(job.status)) {
      // Streams for the first few running jobs; the rest poll (pollMs) straight away.
      const useStream = streams < MAX_STREAMS;
      streams += useStream ? 1 : 0;
      stops.push(useStream ? watchJob(job, update) : pollOnly(job, update));
    }
  }
  const pages = Math.max(1, Math.ceil(result.total / result.limit));
  const goto = (p) => navigate(`/jobs?${new URLSearchParams({ status, page: String(p) })}`);
  if (pages > 1) {
    mount(
      pager,
      h("button", { type: "button", disabled: page <= 1, onclick: () => goto(page - 1) }, "Previous"),
      h("span", {}, `Page ${page} of ${pages}`),
      h("button", { type: "button", disabled: page >= pages, onclick: () => goto(page + 1) }, "Next"),
    );
  }
  return () => stops.forEach((stop) => stop());
}

function pollOnly(job, update) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try {
      const next = await api.job(job.id);
      update(next);
      if (TERMINAL_JOB_STATUSES.has(next.status)) return;
    } catch {
      // transient; next tick
    }
    if (!stopped) timer = window.setTimeout(tick, 5000);
  };
  timer = window.setTimeout(tick, 5000);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

// The source's summary, key points and chapters, once its source_summary step has made them.
async function showSummary(jobId, section) {
  let made;
  try {
    made = await api.jobSummary(jobId);
  } catch {
    return; // the summary is extra: a failure to load it leaves the page as it was
  }
  if (!made.ready) return;
  const method = made.method === "claude" ? "Written by Claude" : "Extracted from the transcript";
  mount(
    section,
    h("h2", { id: "summary-title" }, "Summary"),
    h("p", {}, made.summary),
    made.key_points.length ? h("h3", {}, "Key points") : null,
    made.key_points.length ? h("ul", { class: "key-points" }, ...made.key_points.map((point) => h("li", {}, point))) : null,
    made.chapters.length ? h("h3", {}, "Chapters") : null,
    made.chapters.length
      ? h(
          "ol",
          { class: "chapters" },
          ...made.chapters.map((c) => h("li", {}, h("span", { class: "chapter-time" }, clock(c.start_s)), " ", c.title)),
        )
      : null,
    h("p", { class: "muted" }, method),
  );
  section.hidden = false;
}

export async function jobView({ id }, outlet) {
  let job;
  try {
    job = await api.job(id);
  } catch (error) {
    mount(outlet, h("h1", { tabindex: "-1" }, "Job not found"), h("p", {}, h("a", { href: "#/jobs" }, "All jobs")));
    showError(error);
    return undefined;
  }
  const heading = h("h1", { tabindex: "-1" }, jobTitle(job));
  const statusSlot = h("p", { class: "job-status" });
  const progressSlot = h("section", { "aria-labelledby": "progress-title", class: "card" });
  const actions = h("div", { class: "actions" });
  const clipsSection = h("section", { "aria-labelledby": "clips-title", class: "clips-section" });
  const summarySection = h("section", { "aria-labelledby": "summary-title", class: "card job-summary", hidden: true });
  let grid = null;
  let summaryShown = false;

  const renderJob = (previous = null) => {
    mount(
      statusSlot,
      "Status: ",
      statusBadge(job.status),
      job.error ? h("span", { class: "job-error" }, ` ${job.error}`) : null,
    );
    mount(
      progressSlot,
      h("h2", { id: "progress-title" }, "Progress"),
      jobProgress(job, { detailed: true }),
      h("p", { class: "muted" }, `Created ${when(job.created_at)} · updated ${when(job.updated_at)}`),
    );
    mount(
      actions,
      ["queued", "running"].includes(job.status)
        ? h("button", { type: "button", onclick: (e) => act(e.currentTarget, api.cancelJob, "Job canceled") }, "Cancel job")
        : null,
      ["failed", "canceled"].includes(job.status)
        ? h("button", { type: "button", onclick: (e) => act(e.currentTarget, api.retryJob, "Job restarted") }, "Retry")
        : null,
      Number(job.clip_count) > 0 ? exportApprovedButton(job) : null,
    );
    if (!summaryShown && TERMINAL_JOB_STATUSES.has(job.status)) {
      summaryShown = true;
      showSummary(job.id, summarySection);
    }
    if (!grid && (job.status === "succeeded" || Number(job.clip_count) > 0)) {
      grid = clipGrid({ jobId: job.id });
      mount(clipsSection, h("h2", { id: "clips-title" }, "Clips"), grid.element);
    } else if (grid) {
      // Reload clips only when their number or the job's outcome changed, not on every step event.
      if (previous && (previous.clip_count !== job.clip_count || previous.status !== job.status)) grid.reload();
    } else {
      mount(clipsSection, h("h2", { id: "clips-title" }, "Clips"), h("p", { class: "muted" }, "Clips appear here when rendering finishes."));
    }
  };

  let stop = () => {};
  const follow = () => {
    stop();
    stop = watchJob(job, (next) => {
      const previous = job;
      const changed = next.status !== previous.status;
      job = next;
      renderJob(previous);
      if (changed) announce(`Job ${next.status}`);
    });
  };

  async function act(button, call, message) {
    const next = await busy(button, () => call(job.id));
    if (!next) return;
    const previous = job;
    job = next;
    renderJob(previous);
    announce(message);
    follow();
  }

  mount(
    outlet,
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "← All jobs")),
    heading,
    statusSlot,
    actions,
    progressSlot,
    summarySection,
    clipsSection,
  );
  renderJob();
  follow();
  return () => stop();
}
