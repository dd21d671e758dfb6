"""Accessibility smoke checks run inside the page: names for every control, alt text, landmarks, unique ids."""

from __future__ import annotations

from playwright.sync_api import Page

# Accessible name, simplified from the accname spec: aria-label, aria-labelledby, <label>, title.
_CHECK = """
() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const describe = (el) =>
    `${el.tagName.toLowerCase()}${el.name ? `[name=${el.name}]` : ""}${el.id ? `#${el.id}` : ""}`;
  const accessibleName = (el) => {
    const aria = (el.getAttribute("aria-label") || "").trim();
    if (aria) return aria;
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    const byText = ids.map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim();
    if (byText) return byText;
    const labels = el.labels ? [...el.labels].map((l) => l.textContent).join(" ").trim() : "";
    if (labels) return labels;
    return (el.getAttribute("title") || "").trim();
  };
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea, progress, video")) {
    if (visible(el) && !accessibleName(el)) problems.push(`${describe(el)} has no accessible name`);
  }
  for (const el of document.querySelectorAll("button, a[href], [role=button]")) {
    if (!visible(el)) continue;
    if (el.tagName !== "BUTTON" && el.tagName !== "A") problems.push(`${describe(el)} acts as a button but is not one`);
    if (!(el.getAttribute("aria-label") || el.textContent || "").trim()) problems.push(`${describe(el)} has no text`);
  }
  for (const el of document.querySelectorAll("[onclick], div[tabindex], span[tabindex]")) {
    problems.push(`${describe(el)} is a clickable non-control`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (visible(img) && !img.hasAttribute("alt")) problems.push(`${describe(img)} has no alt`);
  }
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`duplicate id ${id}`);
  if (!document.documentElement.lang) problems.push("html has no lang");
  if (document.querySelectorAll("main").length !== 1) problems.push("not exactly one <main>");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one <h1>");
  if (!document.querySelector("[aria-live], [role=status], [role=alert]")) problems.push("no live region");
  return problems;
}
"""


def accessibility_problems(page: Page) -> list[str]:
    """What the smoke check finds wrong on the current page (an empty list when it passes)."""
    return page.evaluate(_CHECK)


def assert_accessible(page: Page, where: str) -> None:
    problems = accessibility_problems(page)
    assert not problems, f"accessibility problems on {where}: {problems}"


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def focused(page: Page) -> str:
    """The focused element, described by what a user would recognise: its name, label or text."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return "body";
          const tag = el.tagName.toLowerCase();
          if (tag === "input" || tag === "select" || tag === "textarea") return `${tag}:${el.name}`;
          return `${tag}:${(el.getAttribute("aria-label") || el.textContent || "").trim()}`;
        }"""
    )
