// The clip page's "Publish" card: schedule an approved clip to connected accounts (each account's next free slot,
// or a set time), and this clip's posts with Publish now / Unschedule.

import { api, idempotencyKey } from "../api.js";
import { field, h, mount, uid } from "../dom.js";
import { announce, busy, showError } from "../status.js";
import { canEdit, canPublish, healthBadge, platformName, publicationList, workspaceRole } from "./publishing.js";

const UNUSABLE = new Set(["needs_reconnect", "disabled"]);

function scheduleForm(clip, accounts, onScheduled) {
  const boxes = accounts.map((account) => {
    const input = h("input", { type: "checkbox", name: "account", value: account.id, disabled: UNUSABLE.has(account.health) });
    input.id = uid();
    return h(
      "div",
      { class: "check-option" },
      input,
      h("label", { for: input.id }, `${platformName(account.platform)} · ${account.display_name}`),
      account.health !== "active" ? [" ", healthBadge(account.health)] : null,
    );
  });
  const group = uid("when");
  const nextSlot = h("input", { type: "radio", name: group, value: "next", checked: true });
  const setTime = h("input", { type: "radio", name: group, value: "at" });
  const at = h("input", { type: "datetime-local", name: "at", disabled: true });
  for (const radio of [nextSlot, setTime]) radio.addEventListener("change", () => (at.disabled = !setTime.checked));
  nextSlot.id = uid();
  setTime.id = uid();
  const privacy = h(
    "select",
    { name: "privacy" },
    ["public", "unlisted", "private"].map((value) => h("option", { value }, value)),
  );
  const submit = h("button", { type: "submit", class: "primary" }, "Schedule");
  let key = idempotencyKey();
  return h(
    "form",
    {
      class: "schedule-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const chosen = boxes.map((box) => box.querySelector("input")).filter((input) => input.checked).map((input) => input.value);
        if (!chosen.length) {
          showError("Pick at least one account.");
          return;
        }
        const body = { account_ids: chosen, privacy: privacy.value };
        if (setTime.checked) {
          if (!at.value) {
            showError("Pick the date and time, or choose the next free slot.");
            return;
          }
          body.at = new Date(at.value).toISOString(); // the browser's local time, sent with its zone (UTC)
        }
        await busy(submit, async () => {
          const created = await api.schedule(clip.id, body, key);
          key = idempotencyKey(); // a new request from now on; the same key only for a retry of this one
          for (const box of boxes) box.querySelector("input").checked = false;
          announce(`Scheduled to ${created.length} account${created.length === 1 ? "" : "s"}`);
          await onScheduled();
        });
      },
    },
    h("fieldset", {}, h("legend", {}, "Accounts"), boxes),
    h(
      "fieldset",
      {},
      h("legend", {}, "When"),
      h("div", { class: "radio-option" }, nextSlot, h("label", { for: nextSlot.id }, "Next free slot of each account's posting plan")),
      h("div", { class: "radio-option" }, setTime, h("label", { for: setTime.id }, "At a set time")),
      field("Date and time", at, "Your local time. Each further account posts 20 minutes later."),
    ),
    field("Privacy", privacy, "X and Instagram posts are always public."),
    h("div", { class: "actions" }, submit),
  );
}

/** The card, and update(clip) to call when the clip's status changes (only approved clips can be scheduled). */
export function publishSection(clip) {
  const formSlot = h("div");
  // Hidden until the caller's role is known: viewers have no Publish access, so they never see the card.
  const section = h("section", { class: "card", hidden: true, "aria-labelledby": "publish-title" }, h("h2", { id: "publish-title" }, "Publish"), formSlot);
  let role = "viewer";
  let accounts = [];
  let list = null;
  let stopped = false;

  const drawForm = () => {
    if (!canEdit(role)) {
      mount(formSlot, null);
      return;
    }
    if (clip.status !== "approved") {
      mount(formSlot, h("p", { class: "hint" }, "Approve this clip to schedule it."));
      return;
    }
    if (!accounts.length) {
      mount(formSlot, h("p", { class: "hint" }, "No account is connected yet. ", h("a", { href: "#/accounts" }, "Accounts"), " (admins connect them)."));
      return;
    }
    mount(formSlot, scheduleForm(clip, accounts, () => list.reload()));
  };

  const load = async () => {
    try {
      // The clip's own workspace, whichever one the header has selected (a clip page can be opened by its link).
      role = await workspaceRole(clip.workspace_id);
      if (!canPublish(role)) return;
      accounts = await api.accounts(clip.workspace_id);
    } catch (error) {
      showError(error);
    }
    if (stopped || !canPublish(role)) return;
    section.hidden = false;
    // Editors also publish now and unschedule this clip's posts here.
    list = publicationList({
      load: () => api.clipPublications(clip.id),
      editable: canEdit(role),
      showClip: false,
      emptyText: "Not scheduled anywhere yet.",
    });
    mount(section, h("h2", { id: "publish-title" }, "Publish"), formSlot, h("h3", { class: "subhead" }, "Posts of this clip"), list.element);
    drawForm();
    try {
      await list.reload();
    } catch (error) {
      showError(error);
    }
  };
  load();
  return {
    element: section,
    update(next) {
      clip = next;
      drawForm();
    },
    stop: () => {
      stopped = true;
      if (list) list.stop();
    },
  };
}
