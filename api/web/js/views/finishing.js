// Finishing options of a job's clips (clipped/effects.py): platform safe area, words per line, keyword emphasis
// and emoji, the hook overlay and what happens to profanity; with `cuts`, also the layout and the clean-up cuts.
// Used by the new-job form and by the re-render form on the clip page (prefilled with the job's settings).

import { field, h } from "../dom.js";

const PLATFORMS = [
  ["generic", "Any platform (keeps clear of all their buttons)"],
  ["tiktok", "TikTok"],
  ["shorts", "YouTube Shorts"],
  ["reels", "Instagram Reels"],
];
const LAYOUTS = [
  ["auto", "Automatic (split screen when two people share the shot)"],
  ["single", "One crop"],
  ["split", "Split screen, two people stacked"],
  ["speaker", "Follow whoever is talking"],
];
const PROFANITY = [
  ["mute", "Mute the word, mask it in captions (f***)"],
  ["bleep", "Bleep the word, mask it in captions"],
  ["off", "Leave it as spoken"],
];

function select(name, options, value) {
  const el = h("select", { name });
  for (const [id, label] of options) el.append(h("option", { value: id, selected: id === value }, label));
  return el;
}

function checkbox(name, label, checked) {
  const box = h("input", { type: "checkbox", name, checked });
  return { box, element: h("label", { class: "checkbox" }, box, ` ${label}`) };
}

/**
 * The finishing controls as one fieldset, and a function reading them as `effects` settings.
 * `effects`: the values to start from (a job's settings.effects); `cuts`: add the layout and clean-up cuts.
 */
export function finishingFields({ effects = {}, cuts = false } = {}) {
  const cleanup = effects.cleanup || {};
  const platform = select("platform", PLATFORMS, effects.platform || "generic");
  const perLine = select(
    "words_per_line",
    [["3", "Up to 3"], ["2", "Up to 2"], ["1", "One word"]],
    String(effects.words_per_line || 3),
  );
  const profanity = select("profanity", PROFANITY, effects.profanity || "mute");
  const emphasis = checkbox("keyword_emphasis", "Emphasise keywords (colour and size)", effects.keyword_emphasis ?? true);
  const emoji = checkbox("keyword_emoji", "Emoji after keywords (love ❤, warning ⚠)", effects.keyword_emoji ?? true);
  const hook = checkbox("hook_overlay", "Show the hook over the opening seconds", effects.hook_overlay ?? true);
  const layout = select("layout", LAYOUTS, effects.layout || "auto");
  const fillers = checkbox("remove_fillers", "Cut filler words (um, uh)", Boolean(cleanup.remove_fillers));
  const pauses = checkbox("remove_pauses", "Shorten long pauses", Boolean(cleanup.remove_pauses));
  const maxPause = h("input", {
    type: "number",
    name: "max_pause_s",
    min: "0.2",
    max: "5",
    step: "0.1",
    value: String(cleanup.max_pause_s ?? 0.7),
  });
  const element = h(
    "fieldset",
    { class: "finishing" },
    h("legend", {}, "Captions and finishing"),
    field("Platform", platform, "Captions and the hook stay inside its safe area."),
    field("Words per caption line", perLine),
    emphasis.element,
    emoji.element,
    hook.element,
    field("Profanity", profanity, "Your workspace's own words are in its brand kit."),
    cuts ? field("Layout", layout) : null,
    cuts ? fillers.element : null,
    cuts ? pauses.element : null,
    cuts ? field("Longest pause kept (seconds)", maxPause, "Between 0.2 and 5; longer silences are shortened.") : null,
  );
  const value = () => ({
    platform: platform.value,
    words_per_line: Number(perLine.value),
    keyword_emphasis: emphasis.box.checked,
    keyword_emoji: emoji.box.checked,
    hook_overlay: hook.box.checked,
    profanity: profanity.value,
    ...(cuts
      ? {
          layout: layout.value,
          cleanup: {
            ...cleanup,
            remove_fillers: fillers.box.checked,
            remove_pauses: pauses.box.checked,
            max_pause_s: Number(maxPause.value),
          },
        }
      : {}),
  });
  return { element, value };
}
