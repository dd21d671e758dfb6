// A clip's scores explained, and its transcript: the hook highlighted, a trim chosen on the words, and the
// caption text corrected; both go to a re-render (a new version, rendered by Dagster).

import { api } from "../api.js";
import { field, h, mount, uid } from "../dom.js";
import { clock } from "../format.js";
import { announce, busy } from "../status.js";

const SCORE_WHY = {
  hook: "How strongly the opening seconds grab attention: a question, a bold claim, a number.",
  flow: "Whether it starts and ends on complete thoughts, so it makes sense on its own.",
  value: "How much useful, self-contained content it carries for a viewer.",
  energy: "How lively it sounds: peaks in the voice's loudness and pace.",
};
const SCORE_ORDER = ["hook", "flow", "value", "energy"];

function level(value) {
  if (value >= 0.7) return "strong";
  if (value >= 0.4) return "fair";
  return "weak";
}

/** The four sub-scores as labelled bars, each with a plain-language why. */
export function scoreBars(clip) {
  const scores = clip.scores || {};
  const names = SCORE_ORDER.filter((name) => typeof scores[name] === "number");
  if (!names.length) return null;
  return h(
    "dl",
    { class: "score-bars" },
    names.map((name) => {
      const value = Math.max(0, Math.min(1, scores[name]));
      const id = uid("score");
      return h(
        "div",
        { class: "score-row" },
        h("dt", { id }, `${name[0].toUpperCase()}${name.slice(1)}`),
        h(
          "dd",
          {},
          h("meter", { min: 0, max: 1, low: 0.4, high: 0.7, optimum: 1, value, "aria-labelledby": id }),
          h("span", { class: "score-value" }, `${Math.round(value * 100)} · ${level(value)}`),
          h("p", { class: "hint" }, SCORE_WHY[name]),
        ),
      );
    }),
  );
}

/**
 * The transcript card: words of the source around the clip (the clip's own in full colour, its hook marked);
 * choosing a word sets the start or the end there. `onQueued(version)` runs after a re-render was queued.
 */
export async function transcriptSection(clip, { chosenStyle, onQueued }) {
  const section = h("section", { class: "card", "aria-labelledby": "transcript-title" });
  const title = h("h2", { id: "transcript-title" }, "Transcript and edits");
  let transcript;
  try {
    transcript = await api.clipTranscript(clip.id);
  } catch {
    mount(section, title, h("p", { class: "muted" }, "The transcript of this clip is not available."));
    return section;
  }
  const start = h("input", { type: "number", name: "start_s", step: "0.01", min: "0", value: transcript.start_s });
  const end = h("input", { type: "number", name: "end_s", step: "0.01", min: "0", value: transcript.end_s });
  const original = transcript.words.map((w) => w.word).join(" ");
  const text = h("textarea", { name: "caption_text", rows: 4 }, original);
  const setsGroup = uid("sets");
  const setsStart = h("input", { type: "radio", name: setsGroup, value: "start", checked: true, id: uid() });
  const setsEnd = h("input", { type: "radio", name: setsGroup, value: "end", id: uid() });
  const words = h("p", { class: "transcript", id: uid("words") });

  const drawWords = () => {
    const from = Number(start.value);
    const to = Number(end.value);
    mount(
      words,
      transcript.context.map((word) => {
        const inside = word.end_s > from && word.start_s < to;
        const hook = inside && word.start_s < transcript.hook_end_s && word.start_s >= transcript.start_s;
        const button = h(
          "button",
          {
            type: "button",
            class: `word${inside ? " in-clip" : ""}`,
            title: clock(word.start_s),
            onclick: () => {
              if (setsEnd.checked) end.value = word.end_s.toFixed(2);
              else start.value = word.start_s.toFixed(2);
              drawWords();
              announce(`${setsEnd.checked ? "End" : "Start"} set to “${word.word}” at ${clock(word.start_s)}`);
            },
          },
          word.word,
        );
        return [hook ? h("mark", { class: "hook" }, button) : button, " "];
      }),
    );
  };
  start.addEventListener("change", drawWords);
  end.addEventListener("change", drawWords);
  drawWords();

  const submit = h("button", { type: "submit", class: "primary" }, "Re-render with these edits");
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { caption_style: chosenStyle() };
        if (Number(start.value) !== transcript.start_s) body.start_s = Number(start.value);
        if (Number(end.value) !== transcript.end_s) body.end_s = Number(end.value);
        const typed = text.value.trim().split(/\s+/).join(" ");
        if (typed !== original) body.caption_text = typed;
        await busy(submit, async () => {
          const version = await api.rerenderClip(clip.id, body);
          announce(`Edits queued as version ${version.version}`);
          onQueued(version);
        });
      },
    },
    h(
      "fieldset",
      { class: "inline-options" },
      h("legend", {}, "Choosing a word sets the"),
      h("span", {}, setsStart, h("label", { for: setsStart.id }, "start")),
      h("span", {}, setsEnd, h("label", { for: setsEnd.id }, "end")),
    ),
    words,
    h(
      "div",
      { class: "trim-fields" },
      field("Start (s in the source)", start),
      field("End (s in the source)", end),
    ),
    field("Caption text", text, "Fix misheard words; each keeps the timing of the words it replaces."),
    h("div", { class: "actions" }, submit),
  );
  mount(
    section,
    title,
    h("p", { class: "hint" }, "The hook, the first seconds a viewer decides in, is highlighted. Times snap to whole words."),
    form,
  );
  return section;
}
