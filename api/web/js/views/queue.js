// The publishing queue as a calendar: posts by day (upcoming, published with links to them, failed with the
// reason), filterable by status, with Publish now and Unschedule for editors.

import { api, session } from "../api.js";
import { field, h, mount } from "../dom.js";
import { currentQuery, navigate } from "../router.js";
import { showError } from "../status.js";
import { canEdit, canPublish, noPublishAccess, publicationList, workspaceRole } from "./publishing.js";

const STATUSES = ["", "scheduled", "publishing", "published", "failed", "canceled"];

export async function queueView(_params, outlet) {
  const status = currentQuery().get("status") || "";
  const filter = h(
    "select",
    { name: "status" },
    STATUSES.map((value) => h("option", { value, selected: value === status }, value || "All")),
  );
  filter.addEventListener("change", () => navigate(filter.value ? `/queue?status=${filter.value}` : "/queue"));
  let role = "viewer";
  try {
    role = await workspaceRole();
  } catch (error) {
    showError(error);
  }
  if (!canPublish(role)) {
    mount(outlet, h("h1", { tabindex: "-1" }, "Queue"), noPublishAccess());
    return undefined;
  }
  const list = publicationList({
    load: () => api.publications(session.workspaceId, status ? { status } : {}),
    editable: canEdit(role),
    groupByDay: true,
    emptyText: status ? `No ${status} posts.` : "Nothing scheduled yet. Schedule an approved clip from its page.",
  });
  mount(
    outlet,
    h("h1", { tabindex: "-1" }, "Queue"),
    h(
      "p",
      { class: "hint lead" },
      "Posts go out at their time through each platform's official API, one at a time per account. ",
      h("a", { href: "#/accounts" }, "Accounts"),
      " shows each account's posting plan.",
    ),
    h("div", { class: "toolbar" }, field("Status", filter)),
    list.element,
  );
  try {
    await list.reload();
  } catch (error) {
    showError(error);
  }
  return list.stop;
}
