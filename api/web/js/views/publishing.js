// Shared pieces of the publishing views: platform names, the caller's role, health and status badges, and the
// list of publications (used by the queue and by a clip's page) with Publish now / Unschedule.

import { api, session } from "../api.js";
import { h, mount } from "../dom.js";
import { when } from "../format.js";
import { announce, busy } from "../status.js";

export const PLATFORM_NAMES = { youtube: "YouTube", tiktok: "TikTok", instagram: "Instagram", x: "X" };
const HEALTH_LABELS = {
  active: "active",
  rate_limited: "rate limited",
  needs_reconnect: "needs reconnect",
  disabled: "disabled",
};
export const OPEN_STATUSES = new Set(["scheduled", "publishing"]);

export function platformName(platform) {
  return PLATFORM_NAMES[platform] || platform;
}

/** The caller's role in `workspaceId` (default: the current workspace); "viewer" when unknown. */
export async function workspaceRole(workspaceId = session.workspaceId) {
  const me = await api.me();
  const workspace = me.workspaces.find((w) => w.id === workspaceId);
  return workspace ? workspace.role : "viewer";
}

export const canEdit = (role) => ["editor", "admin", "owner"].includes(role);
export const canManage = (role) => ["admin", "owner"].includes(role);
// The seed's role table: viewers have no Publish access (the API answers them 403), editors and up do.
export const canPublish = canEdit;

/** What a viewer sees instead of a publishing page they opened by its address. */
export function noPublishAccess() {
  return h(
    "p",
    { class: "empty no-access" },
    "Publishing is for editors and admins of this workspace. Ask an admin if you need to schedule posts.",
  );
}

export function healthBadge(health) {
  return h("span", { class: `badge badge-health-${health}` }, HEALTH_LABELS[health] || health);
}

export function publicationBadge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

/** "TikTok · Clipped Creator" (or "(disconnected)" when the account is gone). */
export function accountLabel(publication) {
  return `${platformName(publication.platform)} · ${publication.account_name || "(disconnected account)"}`;
}

function publicationItem(publication, { editable, showClip, onChanged }) {
  const who = accountLabel(publication);
  const clipName = publication.clip_title || "Untitled clip";
  const context = h("span", { class: "visually-hidden" }, ` ${clipName} on ${who}`);
  const actions = [];
  if (editable && publication.status === "scheduled") {
    const now = h("button", { type: "button", class: "primary" }, "Publish now", context.cloneNode(true));
    now.addEventListener("click", () =>
      busy(now, async () => {
        const next = await api.publishNow(publication.id);
        announce(`Publishing ${clipName} on ${who}`);
        onChanged(next);
      }),
    );
    const cancel = h("button", { type: "button", class: "danger" }, "Unschedule", context.cloneNode(true));
    cancel.addEventListener("click", () =>
      busy(cancel, async () => {
        const next = await api.unschedule(publication.id);
        announce(`Unscheduled ${clipName} on ${who}`);
        onChanged(next);
      }),
    );
    actions.push(now, cancel);
  }
  const retrying = publication.status === "scheduled" && publication.next_attempt_at;
  const time = publication.published_at || (retrying ? publication.next_attempt_at : publication.scheduled_at);
  return h(
    "li",
    { class: "card publication", dataset: { publicationId: publication.id, status: publication.status } },
    h(
      "p",
      { class: "publication-head" },
      h("time", { datetime: time }, when(time)),
      " ",
      publicationBadge(publication.status),
    ),
    h(
      "p",
      { class: "publication-what" },
      h("strong", {}, who),
      showClip
        ? [" · ", h("a", { href: `#/clips/${encodeURIComponent(publication.clip_id)}` }, clipName)]
        : ` · version ${publication.clip_version}`,
      publication.privacy !== "public" ? ` · ${publication.privacy}` : "",
    ),
    publication.post_url
      ? h(
          "p",
          {},
          h(
            "a",
            { href: publication.post_url, target: "_blank", rel: "noopener noreferrer", class: "post-link" },
            `View the post on ${platformName(publication.platform)}`,
            h("span", { class: "visually-hidden" }, ` (${clipName}, opens in a new tab)`),
          ),
        )
      : null,
    publication.error
      ? h(
          "p",
          { class: publication.status === "failed" ? "job-error" : "muted" },
          publication.status === "failed" ? "Failed: " : retrying ? "Retrying: " : "",
          publication.error,
        )
      : null,
    actions.length ? h("div", { class: "actions" }, actions) : null,
  );
}

/**
 * A list of publications that keeps itself current: `load()` fetches them, and while any post is publishing or
 * due, it polls. Returns {element, reload, stop}.
 */
export function publicationList({ load, editable, showClip = true, emptyText = "Nothing here yet.", groupByDay = false }) {
  const element = h("div", { class: "publication-list" });
  let timer = null;
  let stopped = false;
  let last = new Map();

  const render = (items) => {
    const itemFor = (publication) => publicationItem(publication, { editable, showClip, onChanged: () => reload() });
    if (!items.length) {
      mount(element, h("p", { class: "empty" }, emptyText));
      return;
    }
    if (!groupByDay) {
      mount(element, h("ul", { class: "publications" }, items.map(itemFor)));
      return;
    }
    const days = new Map();
    for (const publication of items) {
      const at = new Date(publication.published_at || publication.scheduled_at);
      const day = at.toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
      if (!days.has(day)) days.set(day, []);
      days.get(day).push(publication);
    }
    mount(
      element,
      [...days.entries()].map(([day, dayItems], index) => {
        const id = `day-${index}`;
        return h(
          "section",
          { class: "day", "aria-labelledby": id },
          h("h2", { id }, day),
          h("ul", { class: "publications" }, dayItems.map(itemFor)),
        );
      }),
    );
  };

  const announceChanges = (items) => {
    for (const publication of items) {
      const before = last.get(publication.id);
      if (before && before !== publication.status) {
        announce(`${publication.clip_title || "Clip"} on ${accountLabel(publication)}: ${publication.status}`);
      }
    }
    last = new Map(items.map((p) => [p.id, p.status]));
  };

  async function reload() {
    window.clearTimeout(timer);
    element.setAttribute("aria-busy", "true");
    let items = [];
    try {
      items = await load();
      announceChanges(items);
      render(items);
    } finally {
      element.removeAttribute("aria-busy");
    }
    if (stopped) return items;
    const soon = Date.now() + 60_000;
    const moving = items.some(
      (p) => p.status === "publishing" || (p.status === "scheduled" && new Date(p.next_attempt_at || p.scheduled_at) <= soon),
    );
    if (moving) timer = window.setTimeout(() => reload().catch(() => {}), 2000);
    return items;
  }

  const stop = () => {
    stopped = true;
    window.clearTimeout(timer);
  };
  return { element, reload, stop };
}
