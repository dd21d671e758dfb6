// One clip: player, review, metadata editing, caption style with preview and re-render, versions, comments.

import { api } from "../api.js";
import { field, h, mount, uid } from "../dom.js";
import { clock, duration, parseHashtags, score, when } from "../format.js";
import { navigate } from "../router.js";
import { announce, busy, showError } from "../status.js";
import { scoreBars, transcriptSection } from "./clip_edit.js";
import { clipPlayer, clipTitle, reviewButtons } from "./clips.js";
import { downloadMenu } from "./downloads.js";
import { finishingFields } from "./finishing.js";
import { loadCaptionStyles } from "./new_job.js";
import { statusBadge } from "./progress.js";
import { platformName } from "./publishing.js";
import { variationsSection } from "./variations.js";
import { publishSection } from "./schedule.js";

const UNFINISHED_VERSION_STATUSES = new Set(["queued", "pending", "running", "rendering"]);

function authorName(author) {
  if (!author) return "Someone";
  if (typeof author === "string") return author;
  return author.display_name || author.email || "Someone";
}

function playVersion(video, version) {
  video.dataset.version = String(version.version);
  video.src = version.video_url;
}

// The ranker's caption per platform (used when posting unless the description is filled in).
function writtenCaptions(clip) {
  const captions = Object.entries(clip.post_captions || {});
  if (!captions.length) return null;
  return h(
    "details",
    { class: "written-captions" },
    h("summary", {}, "Suggested captions"),
    h("dl", {}, ...captions.flatMap(([platform, text]) => [h("dt", {}, platformName(platform)), h("dd", {}, text)])),
  );
}

export async function clipView({ id }, outlet) {
  let clip;
  try {
    clip = await api.clip(id);
  } catch (error) {
    mount(outlet, h("h1", { tabindex: "-1" }, "Clip not found"), h("p", {}, h("a", { href: "#/jobs" }, "All jobs")));
    showError(error);
    return undefined;
  }
  const timers = [];
  const heading = h("h1", { tabindex: "-1" }, clipTitle(clip));
  // A renewed link must be for the version in the player (playVersion keeps data-version current).
  const video = clipPlayer(clip, async () => {
    const [current, versions] = await Promise.all([api.clip(id), api.clipVersions(id)]);
    const playing = versions.find((v) => String(v.version) === video.dataset.version);
    return { video: playing ? playing.video_url : current.video_url, poster: current.thumbnail_url };
  });
  video.dataset.version = String(clip.version);
  const statusSlot = h("span", {}, statusBadge(clip.status));
  const publish = publishSection(clip);
  timers.push(publish.stop);

  const review = h(
    "section",
    { class: "card", "aria-labelledby": "review-title" },
    h("h2", { id: "review-title" }, "Review"),
    h(
      "p",
      { class: "clip-facts" },
      h("span", { class: "score" }, `Score ${score(clip.score)}`),
      ` · #${clip.rank ?? "–"} · ${clock(clip.start_s)}–${clock(clip.end_s)} in the source · ${duration(clip.duration_s)} · `,
      statusSlot,
    ),
    clip.reason ? h("p", { class: "reason" }, h("strong", {}, "Why: "), clip.reason) : null,
    clip.hook ? h("p", { class: "hook" }, h("strong", {}, "Hook overlay: "), clip.hook) : null,
    writtenCaptions(clip),
    scoreBars(clip),
    h("p", { class: "hint shortcuts" }, "Keys: ", h("kbd", {}, "A"), " approve · ", h("kbd", {}, "R"), " reject · ",
      h("kbd", {}, "N"), " next clip · ", h("kbd", {}, "P"), " previous"),
    h(
      "div",
      { class: "actions" },
      reviewButtons(clip, (next) => {
        mount(statusSlot, statusBadge(next.status));
        publish.update(next);
      }),
      downloadMenu(clip),
    ),
  );

  const crumbs = h(
    "p",
    { class: "crumbs" },
    clip.job_id ? h("a", { href: `#/jobs/${encodeURIComponent(clip.job_id)}` }, "← Back to the job") : h("a", { href: "#/clips" }, "← All clips"),
  );

  const captions = await captionSection(clip, video, timers);
  const variations = variationsSection(clip, {
    play: (version) => {
      playVersion(video, version);
      video.focus();
      announce(`Playing version ${version.version}`);
    },
    onQueued: () => captions.followVersions(),
  });
  timers.push(variations.stop);
  const transcript = await transcriptSection(clip, {
    chosenStyle: captions.chosenStyle,
    onQueued: captions.followVersions,
  });
  mount(
    outlet,
    crumbs,
    heading,
    h(
      "div",
      { class: "clip-layout" },
      h(
        "div",
        { class: "clip-main" },
        h("div", { class: "player" }, video),
        review,
        transcript,
        commentsSection(clip, video),
      ),
      h(
        "div",
        { class: "clip-side" },
        metadataForm(clip, (next) => {
          clip = next;
          heading.textContent = clipTitle(next);
          document.title = `${clipTitle(next)} · Clipped`;
          publish.update(next);
        }),
        publish.element,
        captions,
        variations.element,
      ),
    ),
  );
  timers.push(reviewShortcuts(clip, review));
  return () => timers.forEach((stop) => stop());
}

/**
 * Keys for reviewing without the mouse: A approves, R rejects, N and P open the job's next and previous clip
 * (by rank). Ignored while typing in a field or with a modifier held; returns the function that removes them.
 */
function reviewShortcuts(clip, review) {
  const onKey = async (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key.toLowerCase();
    if (key === "a" || key === "r") {
      event.preventDefault();
      review.querySelector(key === "a" ? "button.approve" : "button.reject").click();
    } else if ((key === "n" || key === "p") && clip.job_id) {
      event.preventDefault();
      const page = await api.clips({ job_id: clip.job_id, sort: "rank", limit: "100" });
      const ids = page.items.map((item) => item.id);
      const next = ids[ids.indexOf(clip.id) + (key === "n" ? 1 : -1)];
      if (next) navigate(`/clips/${encodeURIComponent(next)}`);
      else announce(key === "n" ? "This is the job's last clip" : "This is the job's first clip");
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}

function metadataForm(clip, onSaved) {
  const title = h("input", { name: "title", type: "text", value: clip.title || "", maxlength: 200 });
  const description = h(
    "textarea",
    { name: "description", rows: 4, placeholder: "What viewers get from this clip" },
    clip.description || "",
  );
  const hashtags = h("input", {
    name: "hashtags",
    type: "text",
    value: (clip.hashtags || []).map((tag) => `#${tag}`).join(" "),
  });
  const save = h("button", { type: "submit", class: "primary" }, "Save details");
  return h(
    "form",
    {
      class: "card",
      "aria-labelledby": "details-title",
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(save, async () => {
          const next = await api.updateClip(clip.id, {
            title: title.value.trim(),
            description: description.value.trim(),
            hashtags: parseHashtags(hashtags.value),
          });
          hashtags.value = (next.hashtags || []).map((tag) => `#${tag}`).join(" ");
          onSaved(next);
          announce("Details saved");
        });
      },
    },
    h("h2", { id: "details-title" }, "Details"),
    field("Title", title),
    field("Description", description, "Posted with the clip. Why it was picked is under Review, not here."),
    field("Hashtags", hashtags, "Separated by spaces or commas; the # is optional."),
    h("div", { class: "actions" }, save),
  );
}

async function captionSection(clip, video, timers) {
  const styles = await loadCaptionStyles();
  const groupName = uid("style");
  const current = clip.caption_style || styles[0].id;
  const preview = h("img", { class: "preview", alt: "", hidden: true });
  const previewNote = h("p", { class: "muted", "aria-live": "polite" });
  const versionsBody = h("tbody");
  const rerender = h("button", { type: "button", class: "primary" }, "Re-render with these settings");
  let objectUrl = null;
  // Finishing options start from the defaults and take the job's own settings once they arrive (the first job
  // read can be slow), unless the editor has already changed something.
  let finishing = finishingFields({ cuts: true });
  let finishingTouched = false;
  const finishingSlot = h("div", { class: "finishing-slot" }, finishing.element);
  finishingSlot.addEventListener("change", () => {
    finishingTouched = true;
  });
  if (clip.job_id) {
    api
      .job(clip.job_id)
      .then((job) => {
        const effects = job && job.settings && job.settings.effects;
        if (!effects || finishingTouched) return;
        finishing = finishingFields({ effects, cuts: true });
        mount(finishingSlot, finishing.element);
      })
      .catch(() => {}); // the defaults stay; a re-render still works
  }

  const chosen = () => {
    const input = document.querySelector(`input[name="${groupName}"]:checked`);
    return input ? input.value : current;
  };

  async function showPreview(styleId) {
    const style = styles.find((s) => s.id === styleId) || { name: styleId };
    previewNote.textContent = `Loading a preview of ${style.name}…`;
    try {
      // fetch (not <img src>) so the request carries the bearer token and a refresh when it expired.
      const response = await api.preview(clip.id, styleId);
      const blob = await response.blob();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(blob);
      preview.src = objectUrl;
      preview.alt = `A frame of this clip with the ${style.name} caption style`;
      preview.hidden = false;
      previewNote.textContent = `Preview: ${style.name}`;
    } catch {
      preview.hidden = true;
      previewNote.textContent = `No preview available for ${style.name}.`;
    }
  }

  const radios = styles.map((style) => {
    const input = h("input", { type: "radio", name: groupName, value: style.id, checked: style.id === current });
    input.id = uid();
    input.addEventListener("change", () => showPreview(style.id));
    const hintId = uid("hint");
    if (style.description) input.setAttribute("aria-describedby", hintId);
    return h(
      "div",
      { class: "radio-option" },
      input,
      h("label", { for: input.id }, style.name),
      style.description ? h("p", { class: "hint", id: hintId }, style.description) : null,
    );
  });

  async function loadVersions() {
    try {
      const versions = await api.clipVersions(clip.id);
      mount(
        versionsBody,
        versions.map((version) =>
          h(
            "tr",
            {},
            h("td", {}, `v${version.version}`),
            h("td", { class: "col-style" }, version.caption_style || ""),
            h(
              "td",
              {},
              statusBadge(version.status || "ready"),
              version.error ? h("span", { class: "job-error" }, ` ${version.error}`) : null,
            ),
            h("td", { class: "col-created" }, when(version.created_at)),
            h(
              "td",
              {},
              version.video_url && (version.status || "ready") === "ready"
                ? h(
                    "button",
                    {
                      type: "button",
                      class: "link",
                      onclick: async () => {
                        playVersion(video, version);
                        video.focus();
                        announce(`Playing version ${version.version}`);
                      },
                    },
                    `Watch v${version.version}`,
                  )
                : "",
            ),
          ),
        ),
      );
      return versions;
    } catch (error) {
      mount(versionsBody, h("tr", {}, h("td", { colspan: 5 }, `Versions unavailable: ${error.message}`)));
      return [];
    }
  }

  // While a re-render runs, poll the versions; stop when none is unfinished or the view goes away.
  let pollTimer = null;
  let stopped = false;
  const pollVersions = async () => {
    const versions = await loadVersions();
    if (stopped) return;
    if (versions.some((v) => UNFINISHED_VERSION_STATUSES.has(v.status))) {
      pollTimer = window.setTimeout(pollVersions, 4000);
    } else if (pollTimer !== null) {
      pollTimer = null;
      // Show the newest finished version in the player: that is what a reviewer wants to check.
      const newest = versions.filter((v) => v.status === "ready").sort((a, b) => b.version - a.version)[0];
      if (newest && newest.video_url) {
        playVersion(video, newest);
        announce(`Re-render finished: version ${newest.version} is in the player`);
      } else {
        announce("Re-render failed");
      }
    }
  };
  timers.push(() => {
    stopped = true;
    window.clearTimeout(pollTimer);
  });
  timers.push(() => objectUrl && URL.revokeObjectURL(objectUrl));

  rerender.addEventListener("click", () =>
    busy(rerender, async () => {
      const result = await api.rerenderClip(clip.id, { caption_style: chosen(), effects: finishing.value() });
      announce(`Re-render queued${result && result.version ? ` as version ${result.version}` : ""}`);
      pollTimer = 0;
      await pollVersions();
    }),
  );

  const section = h(
    "div",
    {},
    h(
      "section",
      { class: "card", "aria-labelledby": "caption-title" },
      h("h2", { id: "caption-title" }, "Caption style"),
      h("fieldset", {}, h("legend", { class: "visually-hidden" }, "Caption style"), radios),
      previewNote,
      preview,
      finishingSlot,
      h("div", { class: "actions" }, rerender),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "versions-title" },
      h("h2", { id: "versions-title" }, "Versions"),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "versions-table" },
          h("caption", { class: "visually-hidden" }, "Rendered versions of this clip"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Version", "Style", "Status", "Created", "Video"].map((name) =>
                h("th", { scope: "col", class: `col-${name.toLowerCase()}` }, name),
              ),
            ),
          ),
          versionsBody,
        ),
      ),
    ),
  );
  showPreview(current);
  pollVersions();
  section.chosenStyle = chosen;
  section.followVersions = () => {
    pollTimer = 0;
    pollVersions();
  };
  return section;
}

function commentsSection(clip, video) {
  const list = h("ol", { class: "comments", "aria-label": "Comments, by time in the clip" });
  const body = h("textarea", { name: "comment", rows: 3, required: true, maxlength: 2000 });
  const at = h("output", { class: "at-time" }, clock(0));
  video.addEventListener("timeupdate", () => {
    at.textContent = clock(video.currentTime);
  });
  const post = h("button", { type: "submit", class: "primary" }, "Add comment");

  const seek = (seconds) => {
    video.currentTime = Number(seconds) || 0;
    video.focus();
    announce(`Jumped to ${clock(seconds)}`);
  };

  const render = (comments) =>
    mount(
      list,
      comments.length
        ? [...comments]
            .sort((a, b) => a.at_s - b.at_s)
            .map((comment) =>
              h(
                "li",
                {},
                h(
                  "button",
                  { type: "button", class: "comment", onclick: () => seek(comment.at_s) },
                  h("span", { class: "at" }, clock(comment.at_s)),
                  h("span", { class: "author" }, authorName(comment.author)),
                  h("span", { class: "body" }, comment.body),
                ),
                h("time", { datetime: comment.created_at || "", class: "muted" }, when(comment.created_at)),
              ),
            )
        : h("li", { class: "empty" }, "No comments yet."),
    );

  let comments = [];
  const load = async () => {
    try {
      comments = await api.comments(clip.id);
      render(comments);
    } catch (error) {
      showError(error);
    }
  };

  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(post, async () => {
          const atSeconds = Math.round(video.currentTime * 100) / 100;
          const comment = await api.addComment(clip.id, { body: body.value.trim(), at_s: atSeconds });
          comments = [...comments, comment];
          render(comments);
          body.value = "";
          announce(`Comment added at ${clock(atSeconds)}`);
        });
      },
    },
    field("Comment", body),
    h("p", { class: "hint" }, "Anchored to the current playback time: ", at),
    h("div", { class: "actions" }, post),
  );
  load();
  return h(
    "section",
    { class: "card", "aria-labelledby": "comments-title" },
    h("h2", { id: "comments-title" }, "Comments"),
    h("p", { class: "hint" }, "Select a comment to jump to its moment."),
    list,
    form,
  );
}
