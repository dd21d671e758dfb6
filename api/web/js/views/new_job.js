// New job: a source (URL or file upload with a progress bar) and the clip settings.

import { api, idempotencyKey, sendWithProgress } from "../api.js";
import { field, h, mount, uid } from "../dom.js";
import { navigate } from "../router.js";
import { announce, clearError, showError } from "../status.js";
import { finishingFields } from "./finishing.js";

// The renderer's styles (clipped/render/captions_ass.py), used only when /api/caption-styles cannot be read.
export const FALLBACK_CAPTION_STYLES = [
  { id: "highlight_word", name: "Highlight word", description: "" },
  { id: "karaoke", name: "Karaoke", description: "" },
  { id: "pop_in", name: "Pop in", description: "" },
  { id: "typewriter", name: "Typewriter", description: "" },
  { id: "bounce", name: "Bounce", description: "" },
];

/** Caption styles from the API, or the fallback when the route is unavailable. */
export async function loadCaptionStyles() {
  try {
    const styles = await api.captionStyles();
    return styles.length ? styles : FALLBACK_CAPTION_STYLES;
  } catch {
    return FALLBACK_CAPTION_STYLES;
  }
}

function numberInput(name, value, min, max, step = 1) {
  return h("input", { name, type: "number", value: String(value), min: String(min), max: String(max), step: String(step), required: true, inputmode: "numeric" });
}

export async function newJobView(_params, outlet) {
  const kindName = uid("kind");
  const urlRadio = h("input", { type: "radio", name: kindName, value: "url", id: uid() });
  const fileRadio = h("input", { type: "radio", name: kindName, value: "upload", id: uid(), checked: true });
  const url = h("input", { name: "source_url", type: "url", placeholder: "https://…", autocomplete: "off" });
  const file = h("input", { name: "file", type: "file", accept: "video/*" });
  const urlField = field("Video URL", url, "An https link on the allowed list (e.g. a YouTube or Vimeo video).");
  const fileField = field("Video file", file, "MP4, MOV, MKV or WebM, up to the size limit. Or drop a video on this form.");

  const maxClips = numberInput("max_clips", 3, 1, 50);
  const finishing = finishingFields();
  const minDuration = numberInput("min_duration_s", 15, 5, 600);
  const maxDuration = numberInput("max_duration_s", 90, 5, 600);
  const aspect = h(
    "select",
    { name: "aspect" },
    [["9:16", "9:16 vertical"], ["1:1", "1:1 square"], ["16:9", "16:9 landscape"]].map(([value, label]) =>
      h("option", { value }, label),
    ),
  );
  const captionStyle = h("select", { name: "caption_style" });
  const styles = await loadCaptionStyles();
  mount(captionStyle, styles.map((style) => h("option", { value: style.id }, style.name)));

  const uploadBar = h("progress", { max: 1, value: 0, "aria-label": "Upload progress" });
  const uploadText = h("span", { class: "percent" }, "0%");
  const uploadBox = h("div", { class: "upload-progress", hidden: true }, uploadBar, uploadText);
  const submit = h("button", { type: "submit", class: "primary" }, "Start job");

  const syncKind = () => {
    const isUrl = urlRadio.checked;
    urlField.hidden = !isUrl;
    fileField.hidden = isUrl;
    url.required = isUrl;
    file.required = !isUrl;
  };
  urlRadio.addEventListener("change", syncKind);
  fileRadio.addEventListener("change", syncKind);
  syncKind();

  // One key per filled-in form: a double submit or a retry after a network error creates one job, not two.
  let key = idempotencyKey();
  const form = h("form", { class: "card", "aria-labelledby": "new-job-title" });
  form.addEventListener("input", () => {
    key = idempotencyKey();
  });

  const settings = () => ({
    max_clips: Number(maxClips.value),
    min_duration_s: Number(minDuration.value),
    max_duration_s: Number(maxDuration.value),
    aspect: aspect.value,
    caption_style: captionStyle.value,
    effects: finishing.value(),
  });

  // The last confirmed upload: retrying after a failed job creation reuses it instead of uploading again
  // (and keeps the request body, so the Idempotency-Key still matches).
  let uploaded = { file: null, uploadId: null };

  async function uploadFile(chosen) {
    if (uploaded.file === chosen) return uploaded.uploadId;
    uploadBox.hidden = false;
    const setProgress = (fraction) => {
      uploadBar.value = fraction;
      uploadText.textContent = `${Math.round(fraction * 100)}%`;
      uploadBar.setAttribute("aria-label", `Upload progress, ${Math.round(fraction * 100)}%`);
    };
    setProgress(0);
    const target = await api.createUpload({
      filename: chosen.name,
      content_type: chosen.type || "application/octet-stream",
      size: chosen.size,
    });
    announce("Uploading…");
    await sendWithProgress(target, chosen, setProgress);
    announce("Upload complete; checking the file");
    await api.confirmUpload(target.upload_id);
    uploaded = { file: chosen, uploadId: target.upload_id };
    return target.upload_id;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    if (Number(minDuration.value) >= Number(maxDuration.value)) {
      showError(new Error("The shortest clip length must be below the longest."));
      minDuration.focus();
      return;
    }
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    try {
      const body = { settings: settings() };
      if (urlRadio.checked) {
        body.source_url = url.value.trim();
      } else {
        const chosen = file.files[0];
        if (!chosen) throw new Error("Choose a video file to upload.");
        body.upload_id = await uploadFile(chosen);
      }
      const job = await api.createJob(body, key);
      announce("Job created");
      navigate(`/jobs/${encodeURIComponent(job.id)}`);
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    }
  });

  mount(
    form,
    h("h1", { id: "new-job-title", tabindex: "-1" }, "New job"),
    h(
      "fieldset",
      {},
      h("legend", {}, "Source"),
      h(
        "div",
        { class: "radios" },
        h("span", {}, fileRadio, h("label", { for: fileRadio.id }, "Upload a file")),
        h("span", {}, urlRadio, h("label", { for: urlRadio.id }, "From a URL")),
      ),
      fileField,
      urlField,
      uploadBox,
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Clips"),
      h(
        "div",
        { class: "grid-fields" },
        field("Max clips", maxClips),
        field("Shortest clip (s)", minDuration),
        field("Longest clip (s)", maxDuration),
        field("Aspect", aspect),
        field("Caption style", captionStyle),
      ),
    ),
    finishing.element,
    h("div", { class: "actions" }, submit, h("a", { href: "#/jobs", class: "button" }, "Cancel")),
  );
  acceptDroppedVideo(form, file, fileRadio, syncKind);
  mount(outlet, form);
}

/** Dropping a video anywhere on the form picks it as the file to upload (what the file input would do). */
function acceptDroppedVideo(form, file, fileRadio, syncKind) {
  const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  form.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", (event) => {
    if (!form.contains(event.relatedTarget)) form.classList.remove("dropping");
  });
  form.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    form.classList.remove("dropping");
    const dropped = event.dataTransfer.files;
    if (!dropped.length) return;
    file.files = dropped;
    fileRadio.checked = true;
    syncKind();
    announce(`${dropped[0].name} is ready to upload`);
  });
}
