// Live streams: start one from a URL, the list with health badges, and a stream's page that polls its health,
// shows moments as they are detected and clips as they are rendered, and stops it.

import { api, session } from "../api.js";
import { field, h, mount } from "../dom.js";
import { clock, duration, score, when } from "../format.js";
import { navigate } from "../router.js";
import { announce, busy, showError } from "../status.js";

const LIST_POLL_MS = 5000;
const STREAM_POLL_MS = 2000;
const ACTIVE = new Set(["starting", "recording", "stalled", "reconnecting"]);

/** A state badge with words, so colour is never the only signal (stale: should record, but no heartbeat). */
export function streamBadge(stream) {
  const state = stream.stale ? "stale" : stream.state;
  return h("span", { class: `badge badge-stream-${state}` }, state);
}

function healthLine(stream) {
  const parts = [];
  if (stream.last_segment_age_s !== null && stream.last_segment_age_s !== undefined) {
    parts.push(`last segment ${duration(stream.last_segment_age_s)} ago`);
  }
  if (stream.bitrate_kbps) parts.push(`${Math.round(stream.bitrate_kbps)} kb/s`);
  parts.push(`${stream.dropped_segments} dropped`);
  parts.push(`${stream.gaps} gap${stream.gaps === 1 ? "" : "s"}`);
  parts.push(`${stream.moment_count} moment${stream.moment_count === 1 ? "" : "s"}`);
  parts.push(`${stream.clip_count} clip${stream.clip_count === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

function streamCard(stream) {
  return h(
    "li",
    { class: "card stream-card", dataset: { streamId: stream.id } },
    h(
      "div",
      { class: "job-head" },
      h("h2", { class: "job-title" }, h("a", { href: `#/streams/${encodeURIComponent(stream.id)}` }, stream.display_name)),
      streamBadge(stream),
    ),
    h("p", { class: "muted stream-url" }, stream.url),
    h("p", { class: "stream-health" }, healthLine(stream)),
  );
}

export async function streamListView(_params, outlet) {
  const workspaceId = session.workspaceId;
  const url = h("input", { type: "url", name: "url", required: true, autocomplete: "off", inputmode: "url" });
  const keywords = h("input", { type: "text", name: "keywords", autocomplete: "off" });
  const submit = h("button", { type: "submit", class: "primary" }, "Start recording");
  const form = h(
    "form",
    {
      class: "card stream-form",
      "aria-labelledby": "start-title",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { url: url.value.trim() };
        const words = keywords.value.split(/[\s,]+/).filter(Boolean);
        if (words.length) body.keywords = words;
        const started = await busy(submit, () => api.startStream(workspaceId, body));
        if (started) {
          announce(`Recording ${started.display_name}`);
          navigate(`/streams/${encodeURIComponent(started.id)}`);
        }
      },
    },
    h("h2", { id: "start-title" }, "Record a live stream"),
    field("Stream URL", url, "A live channel on an allowed site (Twitch, YouTube…) or an HLS playlist (.m3u8)"),
    field("Keywords (optional)", keywords, "Words that mark a moment, separated by spaces or commas"),
    submit,
  );
  const list = h("ul", { class: "job-list stream-list", "aria-label": "Streams" });
  mount(outlet, h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Streams")), form, list);

  let timer = null;
  let stopped = false;
  const refresh = async () => {
    try {
      const streams = await api.streams(workspaceId);
      mount(list, streams.length ? streams.map(streamCard) : h("li", { class: "empty" }, "No streams yet."));
    } catch (error) {
      showError(error);
      return;
    }
    if (!stopped) timer = window.setTimeout(refresh, LIST_POLL_MS);
  };
  await refresh();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

function momentItem(moment) {
  const events = moment.events.map((e) => `${e.kind.replace(/_/g, " ")} at ${clock(e.at_s)}`).join(", ");
  const scores = Object.entries(moment.scores)
    .filter(([, value]) => value > 0)
    .map(([name, value]) => `${name.replace(/_/g, " ")} ${score(value)}`)
    .join(", ");
  return h(
    "li",
    { class: "card moment", dataset: { momentId: moment.id } },
    h(
      "div",
      { class: "job-head" },
      h("h3", {}, `Moment at ${clock(moment.at_s)}`),
      h("span", { class: `badge badge-${moment.status}` }, moment.status),
    ),
    h("p", {}, h("strong", {}, `Score ${score(moment.score)}`), " · ", moment.reason),
    h("p", { class: "muted" }, `Clip window ${clock(moment.start_s)}–${clock(moment.end_s)}`, scores ? ` · ${scores}` : ""),
    events ? h("p", { class: "muted" }, events) : null,
    moment.error ? h("p", { class: "error-text" }, moment.error) : null,
  );
}

function clipItem(clip) {
  const label = `${clip.title || "Live clip"}, ${clock(clip.start_s)} to ${clock(clip.end_s)}`;
  const video = h("video", {
    controls: true,
    preload: "metadata",
    playsinline: true,
    src: clip.video_url,
    poster: clip.thumbnail_url,
    "aria-label": label,
  });
  return h(
    "li",
    { class: "card live-clip", dataset: { clipId: clip.id } },
    h("div", { class: "player" }, video),
    h("h3", {}, clip.title || `Clip of moment ${clip.moment_id}`),
    h("p", {}, `Score ${score(clip.score)} · ${duration(clip.duration_s)} · ${clip.reason}`),
    h("p", { class: "muted" }, `Rendered ${when(clip.rendered_at)}`),
    h("p", {}, h("a", { href: clip.video_url, download: `${clip.id}.mp4` }, "Download video")),
  );
}

export async function streamView({ id }, outlet) {
  let stream;
  try {
    stream = await api.stream(id);
  } catch (error) {
    mount(outlet, h("h1", { tabindex: "-1" }, "Stream not found"), h("p", {}, h("a", { href: "#/streams" }, "All streams")));
    showError(error);
    return undefined;
  }
  const statusSlot = h("p", { class: "stream-status" });
  const healthSlot = h("dl", { class: "stream-health-detail" });
  const stop = h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: async () => {
        const answer = await busy(stop, () => api.stopStream(id));
        if (answer) {
          announce(`Stopping ${answer.display_name}: the recorder finishes its segment and clips, then exits`);
          await tick(false);
        }
      },
    },
    "Stop recording",
  );
  const moments = h("ol", { class: "moment-list", "aria-label": "Moments" });
  const clips = h("ul", { class: "clip-list live-clips", "aria-label": "Clips" });
  mount(
    outlet,
    h("p", { class: "crumbs" }, h("a", { href: "#/streams" }, "Streams")),
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, stream.display_name), h("div", { class: "actions" }, stop)),
    h("p", { class: "muted stream-url" }, stream.url),
    statusSlot,
    h("section", { class: "card", "aria-labelledby": "health-title" }, h("h2", { id: "health-title" }, "Health"), healthSlot),
    h("section", { "aria-labelledby": "moments-title" }, h("h2", { id: "moments-title" }, "Moments"), moments),
    h("section", { "aria-labelledby": "clips-title" }, h("h2", { id: "clips-title" }, "Clips"), clips),
  );

  const shownMoments = new Map(); // id -> status, so a moment's item is redrawn only when it changes
  const shownClips = new Set(); // a drawn clip is never redrawn: its player would restart
  const draw = (next, first) => {
    mount(statusSlot, streamBadge(next), " ", healthLine(next));
    const health = next.health || {};
    const rows = [
      ["State", next.stale ? `${next.state} (no heartbeat for ${duration(next.heartbeat_age_s)})` : next.state],
      ["Last segment", next.last_segment_age_s === null ? "none yet" : `${duration(next.last_segment_age_s)} ago`],
      ["Bitrate", health.bitrate_kbps ? `${Math.round(health.bitrate_kbps)} kb/s` : "–"],
      ["Recorded", health.live_edge_s ? clock(health.live_edge_s) : "–"],
      ["Dropped segments", String(health.dropped_segments || 0)],
      ["Gaps", `${health.gaps || 0} (${duration(health.gap_s || 0)})`],
      ["Stalls", String(health.stalls || 0)],
      ["Reconnects", String(health.reconnects || 0)],
    ];
    if (health.error) rows.push(["Error", health.error]);
    mount(healthSlot, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
    stop.hidden = !(next.desired === "running" && (next.active || ACTIVE.has(next.state)));
    if (!next.moments.length) mount(moments, h("li", { class: "empty" }, "No moments yet: they appear here as they are detected."));
    else if (!shownMoments.size) moments.replaceChildren();
    for (const moment of next.moments) {
      const known = shownMoments.get(moment.id);
      if (known === moment.status) continue;
      const item = momentItem(moment);
      const old = moments.querySelector(`[data-moment-id="${moment.id}"]`);
      if (old) old.replaceWith(item);
      else moments.append(item);
      if (known === undefined && !first) announce(`New moment at ${clock(moment.at_s)}, score ${score(moment.score)}`);
      shownMoments.set(moment.id, moment.status);
    }
    if (!next.clips.length) mount(clips, h("li", { class: "empty" }, "No clips yet: each moment's clip appears here once rendered."));
    else if (!shownClips.size) clips.replaceChildren();
    for (const clip of next.clips) {
      if (shownClips.has(clip.id)) continue;
      clips.append(clipItem(clip));
      shownClips.add(clip.id);
      if (!first) announce(`Clip ready: ${clip.title || clip.id}`);
    }
  };
  draw(stream, true);

  let timer = null;
  let stopped = false;
  async function tick(schedule = true) {
    try {
      stream = await api.stream(id);
      draw(stream, false);
    } catch {
      // transient; the next tick tries again
    }
    if (schedule && !stopped) timer = window.setTimeout(tick, STREAM_POLL_MS);
  }
  timer = window.setTimeout(tick, STREAM_POLL_MS);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
