// Downloads: a clip's Download menu (video, captions, NLE timelines) and a job's "Export approved (zip)" button.
// A download is a plain link the browser opens, so it cannot carry the Authorization header: the API hands out
// short-lived links naming one file, fetched when the menu opens (they expire, so they are never cached here).

import { request } from "../api.js";
import { h, mount } from "../dom.js";
import { announce, busy, showError } from "../status.js";

const enc = encodeURIComponent;

/** A disclosure menu listing every download of the clip's current version. */
export function downloadMenu(clip) {
  const list = h("ul", { class: "download-list" });
  const menu = h(
    "details",
    {
      class: "download-menu",
      ontoggle: async () => {
        if (!menu.open) return;
        mount(list, h("li", { class: "muted" }, "Preparing links…"));
        try {
          const downloads = await request(`/api/clips/${enc(clip.id)}/downloads`);
          mount(
            list,
            downloads.map((item) =>
              h("li", {}, h("a", { href: item.url, download: item.filename, dataset: { format: item.format } }, item.label)),
            ),
          );
        } catch (error) {
          mount(list);
          menu.open = false;
          showError(error);
        }
      },
    },
    h("summary", { class: "button" }, "Download"),
    list,
  );
  return menu;
}

/** A button that downloads the zip of the job's approved clips (MP4 + SRT each, and their metadata). */
export function exportApprovedButton(job) {
  const button = h(
    "button",
    {
      type: "button",
      onclick: () =>
        busy(button, async () => {
          const link = await request(`/api/jobs/${enc(job.id)}/export-link`, { method: "POST" });
          const anchor = h("a", { href: link.url, download: link.filename, hidden: true });
          document.body.append(anchor);
          anchor.click();
          anchor.remove();
          announce(`Downloading ${link.clips} approved clip${link.clips === 1 ? "" : "s"}`);
        }),
    },
    "Export approved (zip)",
  );
  return button;
}
