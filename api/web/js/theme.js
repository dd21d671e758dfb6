// The colour theme: the system's by default, or the one the user picked with the footer's toggle (kept in
// localStorage). The choice is a data-theme attribute on <html>, which styles.css reads.

import { h } from "./dom.js";
import { announce } from "./status.js";

const KEY = "clipped.theme";

function systemIsDark() {
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

function apply(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

/** Apply the saved theme and put a "Dark theme" toggle in a footer after the page's content (last in the tab
order: it is a preference, not part of any task). */
export function installThemeToggle() {
  let saved = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch {
    // storage blocked: the system's theme, and the toggle still works for this page
  }
  apply(saved);
  const isDark = () => (document.documentElement.dataset.theme || (systemIsDark() ? "dark" : "light")) === "dark";
  const toggle = h("button", { type: "button", class: "theme-toggle", "aria-pressed": String(isDark()) }, "Dark theme");
  toggle.addEventListener("click", () => {
    const next = isDark() ? "light" : "dark";
    apply(next);
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // not kept across visits; applied anyway
    }
    toggle.setAttribute("aria-pressed", String(next === "dark"));
    announce(`${next === "dark" ? "Dark" : "Light"} theme`);
  });
  const footer = h("footer", { class: "site-footer" }, toggle);
  document.body.insertBefore(footer, document.getElementById("status"));
}
