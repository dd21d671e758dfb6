// Connected platform accounts. Admins connect (the platform's consent page, then back here), reconnect an account
// that needs it, edit its posting plan, disable or disconnect it; other members see the list read-only.

import { api, session } from "../api.js";
import { field, h, mount, uid } from "../dom.js";
import { when } from "../format.js";
import { currentQuery } from "../router.js";
import { announce, busy, showError } from "../status.js";
import { canManage, canPublish, healthBadge, noPublishAccess, platformName, workspaceRole } from "./publishing.js";

// The callback's outcome flags (#/accounts?error=...): reasons, never a platform's message or code.
const CONNECT_ERRORS = {
  denied: "The connection was cancelled on the platform's page.",
  expired: "That connection attempt expired or was already used. Start again.",
  session_mismatch: "That connection was started in another browser session. Start again here.",
  invalid_state: "The platform sent back an incomplete answer. Start again.",
  forbidden: "Only workspace admins can connect accounts.",
  not_configured: "This platform is not set up on this server.",
  exchange_failed: "The platform did not accept the connection. Try again in a moment.",
};

async function connect(button, platform) {
  await busy(button, async () => {
    const { authorize_url: url } = await api.connectAccount(session.workspaceId, platform);
    announce(`Opening ${platformName(platform)} to connect an account…`);
    window.location.assign(url);
  });
}

function planSummary(plan) {
  const jitter = plan.jitter_minutes ? `, up to ${plan.jitter_minutes} min later at random` : "";
  return `At most one post every ${plan.cadence_hours} h, between ${plan.window_start} and ${plan.window_end} (${plan.timezone})${jitter}.`;
}

function planForm(account, onSaved) {
  const plan = account.plan;
  const cadence = h("input", { name: "cadence_hours", type: "number", min: "0.25", max: "720", step: "0.25", value: String(plan.cadence_hours), required: true });
  const start = h("input", { name: "window_start", type: "time", value: plan.window_start, required: true });
  const end = h("input", { name: "window_end", type: "time", value: plan.window_end, required: true });
  const zone = h("input", { name: "timezone", type: "text", value: plan.timezone, required: true, autocomplete: "off" });
  const jitter = h("input", { name: "jitter_minutes", type: "number", min: "0", max: "240", step: "1", value: String(plan.jitter_minutes), required: true });
  const save = h("button", { type: "submit", class: "primary" }, "Save plan");
  return h(
    "details",
    { class: "plan" },
    h("summary", {}, "Posting plan", h("span", { class: "visually-hidden" }, ` of ${account.display_name}`)),
    h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          await busy(save, async () => {
            const next = await api.updateAccount(account.id, {
              plan: {
                cadence_hours: Number(cadence.value),
                window_start: start.value.slice(0, 5),
                window_end: end.value.slice(0, 5),
                timezone: zone.value.trim(),
                jitter_minutes: Number(jitter.value),
              },
            });
            announce(`Posting plan of ${next.display_name} saved`);
            onSaved();
          });
        },
      },
      h(
        "div",
        { class: "grid-fields" },
        field("Hours between posts", cadence),
        field("Window starts", start),
        field("Window ends", end),
        field("Time zone", zone, "IANA name, e.g. Europe/Paris"),
        field("Random offset (min)", jitter),
      ),
      h("div", { class: "actions" }, save),
    ),
  );
}

function accountCard(account, { manage, reload }) {
  const titleId = uid("account");
  const name = `${account.display_name} (${platformName(account.platform)})`;
  const actions = [];
  if (manage) {
    if (account.health === "needs_reconnect") {
      const reconnect = h("button", { type: "button", class: "primary" }, "Reconnect", h("span", { class: "visually-hidden" }, ` ${name}`));
      reconnect.addEventListener("click", () => connect(reconnect, account.platform));
      actions.push(reconnect);
    }
    const disabled = account.health === "disabled";
    const toggle = h("button", { type: "button" }, disabled ? "Enable" : "Disable", h("span", { class: "visually-hidden" }, ` ${name}`));
    toggle.addEventListener("click", () =>
      busy(toggle, async () => {
        await api.updateAccount(account.id, { disabled: !disabled });
        announce(`${name} ${disabled ? "enabled" : "disabled"}`);
        await reload();
      }),
    );
    const disconnect = h("button", { type: "button", class: "danger" }, "Disconnect", h("span", { class: "visually-hidden" }, ` ${name}`));
    disconnect.addEventListener("click", () => {
      if (!window.confirm(`Disconnect ${name}? Its scheduled posts are canceled.`)) return;
      busy(disconnect, async () => {
        await api.disconnectAccount(account.id);
        announce(`${name} disconnected`);
        await reload();
      });
    });
    actions.push(toggle, disconnect);
  }
  return h(
    "li",
    { class: "card account-card", dataset: { accountId: account.id, platform: account.platform } },
    h(
      "article",
      { "aria-labelledby": titleId },
      h("h3", { id: titleId }, account.display_name, h("span", { class: "muted" }, ` · ${platformName(account.platform)}`)),
      h("p", { class: "account-health" }, healthBadge(account.health), account.health_detail ? ` ${account.health_detail}` : ""),
      account.rate_limited_until && account.health === "rate_limited"
        ? h("p", { class: "muted" }, `Posting resumes after ${when(account.rate_limited_until)}.`)
        : null,
      h("p", { class: "muted" }, account.last_post_at ? `Last post ${when(account.last_post_at)}` : "No post yet"),
      h("p", { class: "plan-summary" }, planSummary(account.plan)),
      manage ? planForm(account, reload) : null,
      actions.length ? h("div", { class: "actions" }, actions) : null,
    ),
  );
}

export async function accountsView(_params, outlet) {
  const query = currentQuery();
  const list = h("ul", { class: "account-list", "aria-label": "Connected accounts" });
  const connectSlot = h("div");
  mount(outlet, h("h1", { tabindex: "-1" }, "Accounts"), connectSlot, h("section", { "aria-labelledby": "connected-title" }, h("h2", { id: "connected-title" }, "Connected accounts"), list));

  let role = "viewer";
  let platforms = [];
  try {
    [role, platforms] = await Promise.all([workspaceRole(), api.platforms()]);
  } catch (error) {
    showError(error);
  }
  if (!canPublish(role)) {
    mount(outlet, h("h1", { tabindex: "-1" }, "Accounts"), noPublishAccess());
    return;
  }
  const manage = canManage(role);

  async function reload() {
    list.setAttribute("aria-busy", "true");
    try {
      const accounts = await api.accounts(session.workspaceId);
      mount(
        list,
        accounts.length
          ? accounts.map((account) => accountCard(account, { manage, reload }))
          : h("li", { class: "empty" }, manage ? "No account connected yet." : "No account connected yet. Ask an admin to connect one."),
      );
    } catch (error) {
      showError(error);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  if (manage) {
    const configured = platforms.filter((p) => p.configured);
    const missing = platforms.filter((p) => !p.configured).map((p) => p.name);
    mount(
      connectSlot,
      h(
        "section",
        { class: "card", "aria-labelledby": "connect-title" },
        h("h2", { id: "connect-title" }, "Connect an account"),
        h("p", { class: "hint" }, "You sign in on the platform's own page and allow Clipped to post; Clipped never sees your password."),
        configured.length
          ? h(
              "div",
              { class: "actions" },
              configured.map((platform) => {
                const button = h("button", { type: "button" }, `Connect ${platform.name}`);
                button.addEventListener("click", () => connect(button, platform.id));
                return button;
              }),
            )
          : h("p", {}, "No platform is set up on this server yet."),
        missing.length ? h("p", { class: "hint" }, `Not set up on this server: ${missing.join(", ")}.`) : null,
      ),
    );
  } else {
    mount(connectSlot, h("p", { class: "hint" }, "Only workspace admins connect and change accounts."));
  }

  await reload();
  const connected = query.get("connected");
  const failed = query.get("error");
  if (connected) announce(`${platformName(connected)} account connected`);
  if (failed) showError(CONNECT_ERRORS[failed] || "The account could not be connected.");
}
