// Charts for the analytics view: Chart.js (vendor/chart.umd.min.js, served with the app: no CDN), loaded on
// first use so other pages never download it. Every chart is a <figure> with a caption, a canvas that has
// role="img" and a one-sentence summary as its accessible name, and the same numbers as a table in a <details>.

import { h, uid } from "./dom.js";

let loading = null;

/** Chart.js, loaded once. The UMD build, imported as a module, registers itself as globalThis.Chart. */
export function loadChartJs() {
  if (!loading) {
    loading = import(new URL("../vendor/chart.umd.min.js", import.meta.url).href).then(() => {
      if (!globalThis.Chart) throw new Error("The chart library did not load.");
      return globalThis.Chart;
    });
    loading.catch(() => {
      loading = null; // a failed download may be retried on the next visit
    });
  }
  return loading;
}

const number = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

/** 1234 -> "1,234"; missing -> "–" (unknown, never 0). */
export function count(value) {
  return value === null || value === undefined ? "–" : number.format(value);
}

/** 0.1234 -> "12.3%"; missing -> "–". */
export function percent(value, digits = 1) {
  return value === null || value === undefined ? "–" : `${(Number(value) * 100).toFixed(digits)}%`;
}

/** "2026-03-01" -> "Mar 1" (the day as the warehouse has it, whatever the browser's zone). */
export function shortDay(isoDay) {
  return new Date(`${isoDay}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

/** 9 -> "09:00". */
export function hourLabel(hour) {
  return `${String(hour).padStart(2, "0")}:00`;
}

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The series colours (light and dark variants come from styles.css). */
export function palette() {
  return [1, 2, 3, 4, 5, 6].map((n) => cssVar(`--chart-${n}`, "#1f5fd1"));
}

function reducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/**
 * A table of `rows` under `columns` ([{label, value: (row) => text|node, numeric?}]), in a scrolling wrapper.
 * `caption` names it for screen readers.
 */
export function dataTable(caption, columns, rows, { className = "" } = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: `data-table ${className}`.trim() },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.value(row))))),
      ),
    ),
  );
}

/**
 * A chart figure: title, the canvas (drawn later by `draw`), and a "Show as table" disclosure.
 * Returns {element, canvas}; `summary` is the canvas's accessible name.
 */
export function chartFigure({ title, summary, table, name }) {
  const captionId = uid("chart");
  const canvas = h("canvas", { role: "img", "aria-label": summary, dataset: { chart: name || "" } }, summary);
  const element = h(
    "figure",
    { class: "chart-figure", "aria-labelledby": captionId },
    h("figcaption", { id: captionId, class: "chart-title" }, title),
    h("div", { class: "chart-box" }, canvas),
    h("details", { class: "chart-table" }, h("summary", {}, "Show as table", h("span", { class: "visually-hidden" }, `: ${title}`)), table),
  );
  return { element, canvas };
}

/** Keeps the charts of a page so they can be destroyed when it goes away (Chart.js holds resize observers). */
export class ChartSet {
  constructor() {
    this.charts = [];
  }

  /** Draw `config` on `canvas` with the app's theme; returns the chart. */
  async draw(canvas, config) {
    const Chart = await loadChartJs();
    const text = cssVar("--text", "#1a1d23");
    const muted = cssVar("--muted", "#545b66");
    const grid = cssVar("--border", "#cfd4dc");
    Chart.defaults.color = muted;
    Chart.defaults.borderColor = grid;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    const chart = new Chart(canvas, {
      ...config,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion() ? false : { duration: 250 },
        interaction: { mode: "index", intersect: false },
        ...config.options,
        plugins: {
          legend: { labels: { color: text, boxWidth: 14 } },
          ...(config.options || {}).plugins,
        },
      },
    });
    this.charts.push(chart);
    return chart;
  }

  destroy() {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }
}

/** Axis options: a value axis with compact numbers, or percentages for rates. */
export function valueAxis({ rate = false, title = "", position = "left", grid = true } = {}) {
  return {
    position,
    beginAtZero: true,
    title: { display: Boolean(title), text: title },
    grid: { drawOnChartArea: grid },
    ticks: { callback: (value) => (rate ? percent(value, 0) : compact.format(value)) },
  };
}

/** Tooltip label callbacks that print rates as percentages and counts in full. */
export function tooltipLabel(rateDatasets = new Set()) {
  return {
    callbacks: {
      label: (item) => {
        const value = item.raw;
        const shown = rateDatasets.has(item.dataset.label) ? percent(value) : count(value);
        return `${item.dataset.label}: ${shown}`;
      },
    },
  };
}
