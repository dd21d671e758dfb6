// Status messages: one polite live region for progress and confirmations, and an alert box for errors,
// so screen readers hear what changed without focus moving.

import { ApiError } from "./api.js";
import { h, mount } from "./dom.js";

const VISIBLE_MS = 10_000;
let hideTimer = null;
let showTimer = null;

/** Say `message` through the polite live region (and show it in the status bar for a while). */
export function announce(message) {
  const region = document.getElementById("status");
  // Clearing first makes a repeated identical message be spoken again.
  region.textContent = "";
  window.clearTimeout(hideTimer);
  window.clearTimeout(showTimer);
  showTimer = window.setTimeout(() => {
    region.textContent = message;
    hideTimer = window.setTimeout(() => {
      region.textContent = "";
    }, VISIBLE_MS);
  }, 50);
}

/** Show an error in the alert region; ApiErrors include their trace id so a report can be matched to logs. */
export function showError(error) {
  // What the status bar said ("Uploading…") is over once an error is shown: clear it so it cannot contradict it.
  window.clearTimeout(hideTimer);
  window.clearTimeout(showTimer);
  document.getElementById("status").textContent = "";
  const box = document.getElementById("error");
  const message = error instanceof Error ? error.message : String(error);
  const trace = error instanceof ApiError && error.traceId ? ` (trace ${error.traceId})` : "";
  mount(
    box,
    h("p", {}, message + trace),
    h("button", { type: "button", class: "link", onclick: () => clearError() }, "Dismiss"),
  );
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById("error");
  box.replaceChildren();
  box.hidden = true;
}

/**
 * Run `action` with `button` disabled and marked busy; errors go to the alert region.
 * Returns the action's result, or undefined when it failed.
 */
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  clearError();
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
