// Variations of a clip's moment: ask for N variants (other boundaries, hook, caption style, layout), rendered as
// versions in one run, and list the latest set under the moment with how unique each is against its closest sibling.

import { api } from "../api.js";
import { h, mount } from "../dom.js";
import { clock, duration } from "../format.js";
import { announce, busy } from "../status.js";
import { statusBadge } from "./progress.js";

const POLL_MS = 4000;

function percent(value) {
  return `${Math.round((value || 0) * 200)} %`; // 0.5 (unrelated) reads as 100 %
}

/** The card; ``play(version)`` puts a version in the clip's player, ``onQueued`` refreshes the versions list. */
export function variationsSection(clip, { play, onQueued }) {
  const body = h("div", { "aria-live": "polite" });
  const count = h("select", { id: "variation-count" }, [2, 3, 4].map((n) => h("option", { value: String(n) }, String(n))));
  const start = h("button", { type: "button" }, "Render variations");
  let timer = null;
  let stopped = false;

  function row(variant) {
    const watch = variant.video_url
      ? h("button", { type: "button", class: "link", onclick: () => play(variant) }, `Watch v${variant.version}`)
      : statusBadge(variant.status);
    return h(
      "tr",
      {},
      h("td", {}, `v${variant.version}`),
      h("td", {}, `${clock(variant.start_s)}–${clock(variant.end_s)} · ${duration(variant.duration_s)}`),
      h("td", {}, variant.hook || "–"),
      h("td", {}, `${variant.caption_style} · ${variant.layout}`),
      h("td", { title: `frames ${percent(variant.uniqueness.frames)}, audio ${percent(variant.uniqueness.audio)}` },
        percent(variant.uniqueness.overall)),
      h("td", {}, watch),
    );
  }

  async function load() {
    const set = await api.clipVariations(clip.id);
    if (stopped) return;
    const head = ["Version", "Window", "Hook", "Style", "Unique", "Video"].map((name) => h("th", { scope: "col" }, name));
    mount(
      body,
      set.rendering ? h("p", { class: "muted" }, "Rendering…") : null,
      set.variants.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "variations-table" },
            h("caption", { class: "visually-hidden" }, "Variations of this moment"),
            h("thead", {}, h("tr", {}, head)), h("tbody", {}, set.variants.map(row))))
        : set.rendering ? null : h("p", { class: "muted" }, "No variations yet."),
    );
    if (set.rendering) timer = window.setTimeout(load, POLL_MS);
  }

  start.addEventListener("click", () =>
    busy(start, async () => {
      const versions = await api.requestVariations(clip.id, Number(count.value));
      announce(`${versions.length} variations queued as versions ${versions.map((v) => v.version).join(", ")}`);
      onQueued();
      window.clearTimeout(timer);
      await load();
    }),
  );
  load().catch(() => mount(body, h("p", { class: "muted" }, "Variations unavailable.")));

  const element = h(
    "section",
    { class: "card", "aria-labelledby": "variations-title" },
    h("h2", { id: "variations-title" }, "Variations"),
    h("p", { class: "hint" }, `Of this moment (${clock(clip.start_s)}–${clock(clip.end_s)} in the source): `
      + "other clean start and end words, hook, caption style and layout. Unique: how far each is from its closest "
      + "sibling (0 % identical, 100 % unrelated)."),
    h("div", { class: "actions" }, h("label", { for: "variation-count" }, "Variants "), count, start),
    body,
  );
  const stop = () => {
    stopped = true;
    window.clearTimeout(timer);
  };
  return { element, stop };
}
