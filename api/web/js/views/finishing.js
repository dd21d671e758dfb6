// Finishing options of a job's clips (clipped/effects.py): platform safe area, words per line, keyword emphasis
// and emoji, the hook overlay and what happens to profanity. Used by the new-job form.

import { field, h } from "../dom.js";

const PLATFORMS = [
  ["generic", "Any platform (keeps clear of all their buttons)"],
  ["tiktok", "TikTok"],
  ["shorts", "YouTube Shorts"],
  ["reels", "Instagram Reels"],
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

/** The finishing controls as one fieldset, and a function reading them as a job's `effects` settings. */
export function finishingFields() {
  const platform = select("platform", PLATFORMS, "generic");
  const perLine = select("words_per_line", [["3", "Up to 3"], ["2", "Up to 2"], ["1", "One word"]], "3");
  const profanity = select("profanity", PROFANITY, "mute");
  const emphasis = checkbox("keyword_emphasis", "Emphasise keywords (colour and size)", true);
  const emoji = checkbox("keyword_emoji", "Emoji after keywords (love ❤, warning ⚠)", true);
  const hook = checkbox("hook_overlay", "Show the hook over the opening seconds", true);
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
  );
  const value = () => ({
    platform: platform.value,
    words_per_line: Number(perLine.value),
    keyword_emphasis: emphasis.box.checked,
    keyword_emoji: emoji.box.checked,
    hook_overlay: hook.box.checked,
    profanity: profanity.value,
  });
  return { element, value };
}
