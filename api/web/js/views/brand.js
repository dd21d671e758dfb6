// Brand kit of the workspace: caption font and colours, hook colours, logo watermark, intro and outro clips, own
// profanity words.
// Stored by the API in the workspace's storage; every later render uses it.

import { request, session } from "../api.js";
import { field, h, mount } from "../dom.js";
import { announce, clearError, showError } from "../status.js";

const COLOURS = [
  ["caption_colour", "Caption text"],
  ["highlight_colour", "Spoken word"],
  ["emphasis_colour", "Keywords"],
  ["hook_text_colour", "Hook text"],
  ["hook_box_colour", "Hook box"],
];
const POSITIONS = [["top_left", "Top left"], ["top_right", "Top right"], ["bottom_left", "Bottom left"], ["bottom_right", "Bottom right"]];

const kitPath = () => `/api/workspaces/${encodeURIComponent(session.workspaceId)}/brand-kit`;

function words(text) {
  return text.split(/[\n,]/).map((w) => w.trim()).filter(Boolean);
}

export async function brandView(_params, outlet) {
  let kit = await request(kitPath());
  const font = h("select", { name: "caption_font" });
  for (const name of ["DejaVu Sans", "DejaVu Serif"]) font.append(h("option", { value: name, selected: name === kit.caption_font }, name));
  const colours = Object.fromEntries(COLOURS.map(([name]) => [name, h("input", { type: "color", name, value: kit[name].toLowerCase() })]));
  const position = h("select", { name: "logo_position" });
  for (const [id, label] of POSITIONS) position.append(h("option", { value: id, selected: id === kit.logo_position }, label));
  const width = h("input", { type: "range", name: "logo_width_frac", min: "0.05", max: "0.5", step: "0.01", value: String(kit.logo_width_frac) });
  const opacity = h("input", { type: "range", name: "logo_opacity", min: "0.1", max: "1", step: "0.05", value: String(kit.logo_opacity) });
  const blocked = h("textarea", { name: "profanity_words", rows: "3" }, kit.profanity_words.join(", "));
  const allowed = h("textarea", { name: "profanity_allowed", rows: "2" }, kit.profanity_allowed.join(", "));
  const logoFile = h("input", { type: "file", name: "logo", accept: "image/png,image/jpeg,image/webp" });
  const logoPreview = h("img", { class: "brand-logo", alt: "Current logo", height: "60", hidden: true });
  const removeLogo = h("button", { type: "button", class: "secondary" }, "Remove logo");

  async function showLogo() {
    logoPreview.hidden = !kit.has_logo;
    removeLogo.hidden = !kit.has_logo;
    if (!kit.has_logo) return;
    const response = await request(`${kitPath()}/logo`, { raw: true });
    logoPreview.src = URL.createObjectURL(await response.blob());
  }

  logoFile.addEventListener("change", async () => {
    const [file] = logoFile.files;
    if (!file) return;
    clearError();
    try {
      kit = await request(`${kitPath()}/logo`, { method: "PUT", body: file, headers: { "Content-Type": file.type } });
      announce("Logo saved");
      await showLogo();
    } catch (error) {
      showError(error);
    }
  });
  removeLogo.addEventListener("click", async () => {
    kit = await request(`${kitPath()}/logo`, { method: "DELETE" });
    announce("Logo removed");
    await showLogo();
  });

  // Intro and outro clips: uploaded at once (like the logo), played before and after every clip rendered later.
  const bumpers = ["intro", "outro"].map((kind) => {
    const label = kind === "intro" ? "Intro" : "Outro";
    const input = h("input", { type: "file", name: kind, accept: "video/mp4,video/quicktime,video/webm" });
    const state = h("p", { class: "muted", "aria-live": "polite" });
    const remove = h("button", { type: "button", class: "secondary" }, `Remove ${kind}`);
    const show = () => {
      state.textContent = kit[`has_${kind}`] ? `${label} set: it plays ${kind === "intro" ? "before" : "after"} every new clip.` : `No ${kind}.`;
      remove.hidden = !kit[`has_${kind}`];
    };
    input.addEventListener("change", async () => {
      const [file] = input.files;
      if (!file) return;
      clearError();
      state.textContent = `Uploading the ${kind}…`;
      try {
        kit = await request(`${kitPath()}/${kind}`, { method: "PUT", body: file, headers: { "Content-Type": file.type || "video/mp4" } });
        announce(`${label} saved`);
      } catch (error) {
        showError(error);
      }
      show();
    });
    remove.addEventListener("click", async () => {
      kit = await request(`${kitPath()}/${kind}`, { method: "DELETE" });
      announce(`${label} removed`);
      show();
    });
    show();
    return [field(label, input, "A video of at most 10 s, fitted to each clip's frame."), state, remove];
  });

  const form = h("form", { class: "card", "aria-labelledby": "brand-title" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const body = {
      caption_font: font.value,
      ...Object.fromEntries(Object.entries(colours).map(([name, input]) => [name, input.value.toUpperCase()])),
      has_logo: kit.has_logo,
      has_intro: kit.has_intro,
      has_outro: kit.has_outro,
      logo_position: position.value,
      logo_width_frac: Number(width.value),
      logo_opacity: Number(opacity.value),
      profanity_words: words(blocked.value),
      profanity_allowed: words(allowed.value),
    };
    try {
      kit = await request(kitPath(), { method: "PUT", body });
      announce("Brand kit saved; new renders use it");
    } catch (error) {
      showError(error);
    }
  });
  mount(
    form,
    h("h1", { id: "brand-title", tabindex: "-1" }, "Brand kit"),
    field("Caption font", font),
    ...COLOURS.map(([name, label]) => field(label, colours[name])),
    field("Logo", logoFile, "PNG, JPEG or WebP up to 5 MB; drawn as a watermark on every clip."),
    logoPreview,
    removeLogo,
    field("Logo corner", position),
    field("Logo width", width, "Share of the video's width."),
    field("Logo opacity", opacity),
    ...bumpers.flat(),
    field("Words to treat as profanity", blocked, "Added to the maintained list; commas or one per line."),
    field("Words to allow", allowed, "Never muted or masked."),
    h("button", { type: "submit" }, "Save brand kit"),
  );
  mount(outlet, form);
  await showLogo();
}
