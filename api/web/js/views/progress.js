// A job's progress: an overall bar plus one bar per pipeline step, and the live feed that keeps it current.

import { api } from "../api.js";
import { h } from "../dom.js";
import { duration, TERMINAL_JOB_STATUSES } from "../format.js";

const STEP_LABELS = {
  source_video: "Ingest",
  transcript: "Transcribe",
  scenes: "Scenes",
  audio_features: "Audio",
  candidates: "Find moments",
  moment_index: "Search index",
  source_summary: "Summary",
  faces: "Faces",
  rendered_clips: "Render",
};

export function stepLabel(name) {
  return STEP_LABELS[name] || name.replace(/_/g, " ");
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

/** "40 s" / "3 min": an estimate, so no false precision. */
export function timeLeft(seconds) {
  const value = Math.max(0, Number(seconds) || 0);
  return value < 60 ? `${Math.max(5, Math.round(value / 5) * 5)} s` : `${Math.round(value / 60)} min`;
}

/** Overall bar and per-step bars. Running steps get an indeterminate bar: we know they run, not how far. */
export function jobProgress(job, { detailed = false } = {}) {
  const fraction = Math.max(0, Math.min(1, Number(job.progress) || 0));
  const percent = Math.round(fraction * 100);
  const steps = job.steps || [];
  return h(
    "div",
    { class: "progress" },
    h(
      "div",
      { class: "overall" },
      h("progress", { max: 1, value: fraction, "aria-label": `Overall progress, ${percent}%` }),
      h("span", { class: "percent", "aria-hidden": "true" }, `${percent}%`),
      job.seconds_left !== null && job.seconds_left !== undefined
        ? h("span", { class: "eta" }, `about ${timeLeft(job.seconds_left)} left`)
        : null,
    ),
    steps.length
      ? h(
          "ol",
          { class: detailed ? "steps detailed" : "steps", "aria-label": "Pipeline steps" },
          steps.map((step) => {
            const bar = h("progress", { max: 1, "aria-label": `${stepLabel(step.name)}: ${step.status}` });
            // A <progress> without a value attribute is indeterminate: a running step without a reported
            // fraction gets that; every other state gets a value.
            if (step.status !== "running") bar.value = ["succeeded", "failed"].includes(step.status) ? 1 : 0;
            else if (Number(step.progress) > 0) bar.value = Math.min(1, Number(step.progress));
            return h(
              "li",
              { class: `step step-${step.status}`, dataset: { step: step.name, status: step.status } },
              h("span", { class: "step-name" }, stepLabel(step.name)),
              bar,
              h(
                "span",
                { class: "step-status" },
                step.status,
                detailed && step.duration_s !== null && step.duration_s !== undefined
                  ? ` · ${duration(step.duration_s)}`
                  : "",
              ),
            );
          }),
        )
      : null,
  );
}

/**
 * Follow a job until it ends: Server-Sent Events first (over a stream link from POST .../stream-token), polling
 * GET /api/jobs/{id} when the stream fails (a proxy that buffers, a reconnect after the link expired). Calls onUpdate(job) on every change; returns stop().
 */
export function watchJob(job, onUpdate, { pollMs = 3000 } = {}) {
  let stopped = false;
  let source = null;
  let timer = null;
  let last = JSON.stringify(job);

  const deliver = (next) => {
    const text = JSON.stringify(next);
    if (text === last) return;
    last = text;
    onUpdate(next);
    if (TERMINAL_JOB_STATUSES.has(next.status)) stop();
  };

  const poll = async () => {
    if (stopped) return;
    try {
      deliver(await api.job(job.id));
    } catch {
      // transient; try again on the next tick
    }
    if (!stopped) timer = window.setTimeout(poll, pollMs);
  };

  const stream = async () => {
    if (!window.EventSource) {
      poll();
      return;
    }
    let link;
    try {
      link = await api.streamToken(job.id); // through request(): a stale access token is refreshed first
    } catch {
      if (!stopped) poll();
      return;
    }
    if (stopped) return;
    source = new EventSource(link.url);
    source.addEventListener("job", (event) => {
      try {
        deliver(JSON.parse(event.data));
      } catch {
        // a malformed event is ignored; the next one carries the full job again
      }
    });
    source.onerror = () => {
      // EventSource retries on its own after network blips, but not after an HTTP error status:
      // once it gives up (CLOSED), or keeps failing, poll instead.
      if (stopped) return;
      source.close();
      source = null;
      poll();
    };
  };

  function stop() {
    stopped = true;
    if (source) source.close();
    if (timer) window.clearTimeout(timer);
  }

  if (!TERMINAL_JOB_STATUSES.has(job.status)) stream();
  return stop;
}
