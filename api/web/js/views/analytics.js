// Analytics: how the workspace's posts do, read from the dbt marts (GET /api/workspaces/{id}/analytics/*).
// Headline numbers, engagement over time, top and bottom clips with their scores, performance by feature, best
// posting hours per account, account growth, and the ranking weights the selector learned with their history.
// Every chart has a text summary and a table with the same numbers; every section says when there is no data yet.

import { api, session } from "../api.js";
import {
  ChartSet,
  chartFigure,
  count,
  dataTable,
  hourLabel,
  palette,
  percent,
  shortDay,
  tooltipLabel,
  valueAxis,
} from "../charts.js";
import { field, h, mount } from "../dom.js";
import { duration, score, when } from "../format.js";
import { showError } from "../status.js";
import { platformName } from "./publishing.js";

const SUB_SCORE_NAMES = { hook: "Hook", flow: "Flow", value: "Value", energy: "Energy" };
const HOOK_TYPES = {
  how_to: "How to",
  question: "Question",
  number: "Number",
  exclamation: "Exclamation",
  statement: "Statement",
  none: "No hook",
};

function section(id, title, intro) {
  const body = h("div", { class: "section-body" }, h("p", { class: "muted", "aria-busy": "true" }, "Loading…"));
  const element = h(
    "section",
    { class: "card analytics-section", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    intro ? h("p", { class: "hint lead" }, intro) : null,
    body,
  );
  return { element, body };
}

function empty(message) {
  return h("p", { class: "empty no-data" }, message || "No data yet.");
}

function accountName(item) {
  return `${platformName(item.platform)} · ${item.account_name || "(disconnected account)"}`;
}

/** The highest value of `key` in `series` and the label of its row, for a chart's one-line summary. */
function peak(series, key, label) {
  let best = null;
  for (const row of series) if (row[key] !== null && (best === null || row[key] > best[key])) best = row;
  return best ? { value: best[key], label: label(best) } : null;
}

/** A link that opens outside the app; only http(s) URLs (the API sends nothing else, this makes sure). */
function externalLink(url, text, label) {
  if (!/^https?:\/\//i.test(url || "")) return h("span", { class: "muted" }, "–");
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", "aria-label": label }, text);
}

// ---- headline numbers -----------------------------------------------------------------------------------------

function renderSummary(body, data) {
  if (!data.has_data) {
    mount(body, empty(data.message));
    return;
  }
  const tile = (label, value) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value));
  mount(
    body,
    h(
      "dl",
      { class: "stats" },
      tile("Posts", count(data.posts)),
      tile("Views", count(data.views)),
      tile("Likes", count(data.likes)),
      tile("Engagement rate", percent(data.mean_engagement_rate)),
      tile("Accounts", count(data.accounts)),
    ),
    h("p", { class: "hint" }, `Lifetime totals as of ${shortDay(data.data_as_of)} (the latest metrics pull).`),
  );
}

// ---- engagement over time ---------------------------------------------------------------------------------------

async function renderEngagement(body, data, charts) {
  if (!data.has_data) {
    mount(body, empty(data.message));
    return;
  }
  const series = data.series;
  const top = peak(series, "views_gained", (row) => shortDay(row.day));
  const first = shortDay(series[0].day);
  const last = shortDay(series[series.length - 1].day);
  const summary =
    `Line chart of views and likes gained per day and the engagement rate, ${first} to ${last}` +
    (top ? `; most views on ${top.label} (${count(top.value)}).` : ".");
  const table = dataTable(
    "Engagement per day",
    [
      { label: "Day", value: (r) => shortDay(r.day) },
      { label: "Posts measured", value: (r) => count(r.posts), numeric: true },
      { label: "Views gained", value: (r) => count(r.views_gained), numeric: true },
      { label: "Likes gained", value: (r) => count(r.likes_gained), numeric: true },
      { label: "Lifetime views", value: (r) => count(r.views), numeric: true },
      { label: "Engagement rate", value: (r) => percent(r.engagement_rate), numeric: true },
    ],
    series,
  );
  const figure = chartFigure({ title: "Views, likes and engagement rate per day", summary, table, name: "engagement" });
  mount(body, figure.element);
  const colors = palette();
  await charts.draw(figure.canvas, {
    type: "line",
    data: {
      labels: series.map((r) => shortDay(r.day)),
      datasets: [
        { label: "Views gained", data: series.map((r) => r.views_gained), borderColor: colors[0], backgroundColor: colors[0], yAxisID: "y", tension: 0.25 },
        { label: "Likes gained", data: series.map((r) => r.likes_gained), borderColor: colors[1], backgroundColor: colors[1], yAxisID: "y", tension: 0.25 },
        { label: "Engagement rate", data: series.map((r) => r.engagement_rate), borderColor: colors[2], backgroundColor: colors[2], borderDash: [6, 4], yAxisID: "rate", tension: 0.25 },
      ],
    },
    options: {
      scales: { y: valueAxis({ title: "Per day" }), rate: valueAxis({ rate: true, position: "right", grid: false, title: "Rate" }) },
      plugins: { tooltip: tooltipLabel(new Set(["Engagement rate"])) },
    },
  });
}

function engagementFilters(platforms, values, onApply) {
  const platform = h(
    "select",
    { name: "platform" },
    h("option", { value: "" }, "All platforms"),
    platforms.map((p) => h("option", { value: p, selected: p === values.platform }, platformName(p))),
  );
  const start = h("input", { type: "date", name: "start", value: values.start || "" });
  const end = h("input", { type: "date", name: "end", value: values.end || "" });
  return h(
    "form",
    {
      class: "toolbar",
      "aria-label": "Engagement filters",
      onsubmit: (event) => {
        event.preventDefault();
        if (start.value && end.value && start.value > end.value) {
          showError(new Error("“From” must be on or before “To”."));
          start.focus();
          return;
        }
        onApply({ platform: platform.value, start: start.value, end: end.value });
      },
    },
    field("Platform", platform),
    field("From", start),
    field("To", end),
    h("button", { type: "submit" }, "Apply"),
  );
}

// ---- top and bottom clips -----------------------------------------------------------------------------------------

function clipColumns() {
  return [
    { label: "#", value: (c) => String(c.rank), numeric: true },
    {
      label: "Clip",
      value: (c) =>
        h(
          "div",
          { class: "clip-cell" },
          c.clip_id ? h("a", { href: `#/clips/${encodeURIComponent(c.clip_id)}` }, c.title || "(untitled)") : c.title || "(untitled)",
          h("div", { class: "hint" }, accountName(c)),
        ),
    },
    { label: "Views", value: (c) => count(c.views), numeric: true },
    { label: "Engagement", value: (c) => percent(c.engagement_rate), numeric: true },
    { label: "Score", value: (c) => score(c.score), numeric: true },
    ...Object.entries(SUB_SCORE_NAMES).map(([key, label]) => ({ label, value: (c) => score(c.sub_scores[key]), numeric: true })),
    { label: "Caption", value: (c) => c.caption_style || "–" },
    { label: "Duration", value: (c) => (c.duration_s === null ? "–" : duration(c.duration_s)), numeric: true },
    { label: "Hook", value: (c) => HOOK_TYPES[c.hook_type] || c.hook_type },
    { label: "Post", value: (c) => externalLink(c.post_url, "Open", `Open the ${platformName(c.platform)} post of ${c.title || "this clip"}`) },
  ];
}

function renderClips(body, data, onMetric) {
  const metric = h(
    "select",
    { name: "metric" },
    h("option", { value: "views", selected: data.metric === "views" }, "Views"),
    h("option", { value: "engagement_rate", selected: data.metric === "engagement_rate" }, "Engagement rate"),
  );
  metric.addEventListener("change", () => onMetric(metric.value));
  const toolbar = h("div", { class: "toolbar" }, field("Rank by", metric));
  if (!data.has_data) {
    mount(body, toolbar, empty(data.message));
    return;
  }
  const columns = clipColumns();
  const by = data.metric === "views" ? "views" : "engagement rate";
  mount(
    body,
    toolbar,
    h("h3", { class: "table-title" }, `Top clips by ${by}`),
    dataTable(`Top clips by ${by}`, columns, data.top, { className: "clip-table top-clips" }),
    h("h3", { class: "table-title" }, `Bottom clips by ${by}`),
    data.bottom.length
      ? dataTable(`Bottom clips by ${by}`, columns, data.bottom, { className: "clip-table bottom-clips" })
      : empty("Every measured post is in the top list."),
    h("p", { class: "hint" }, `${count(data.measured_posts)} measured posts. Scores are the selector's, out of 100.`),
  );
}

// ---- performance by feature ------------------------------------------------------------------------------------

function bucketLabel(feature, bucket) {
  if (bucket === "unknown") return "Unknown";
  if (feature === "posting_hour") return hourLabel(bucket);
  if (feature === "hook_type") return HOOK_TYPES[bucket] || bucket;
  if (feature === "score_quintile") return `${bucket.replace("q", "Q")}${bucket === "q1" ? " (lowest)" : bucket === "q5" ? " (highest)" : ""}`;
  return bucket;
}

async function renderFeatures(body, data, charts) {
  if (!data.has_data) {
    mount(body, empty(data.message));
    return;
  }
  const colors = palette();
  const figures = [];
  const grid = h("div", { class: "chart-grid" });
  for (const [index, feature] of data.features.entries()) {
    if (!feature.buckets.length) {
      grid.append(h("div", { class: "chart-figure" }, h("p", { class: "chart-title" }, feature.label), empty()));
      continue;
    }
    const labels = feature.buckets.map((b) => bucketLabel(feature.feature, b.bucket));
    const best = peak(feature.buckets, "mean_engagement_rate", (b) => bucketLabel(feature.feature, b.bucket));
    const summary =
      `Bar chart of mean engagement rate by ${feature.label.toLowerCase()}` +
      (best ? `; highest: ${best.label} (${percent(best.value)}).` : ".");
    const table = dataTable(
      `Performance by ${feature.label.toLowerCase()}`,
      [
        { label: feature.label, value: (b) => bucketLabel(feature.feature, b.bucket) },
        { label: "Posts", value: (b) => count(b.posts), numeric: true },
        { label: "Measured", value: (b) => count(b.measured_posts), numeric: true },
        { label: "Mean rate", value: (b) => percent(b.mean_engagement_rate), numeric: true },
        { label: "Median rate", value: (b) => percent(b.median_engagement_rate), numeric: true },
        { label: "Mean views", value: (b) => count(b.mean_views === null ? null : Math.round(b.mean_views)), numeric: true },
      ],
      feature.buckets,
    );
    const figure = chartFigure({ title: feature.label, summary, table, name: `feature-${feature.feature}` });
    grid.append(figure.element);
    figures.push({ figure, labels, feature, color: colors[index % colors.length] });
  }
  mount(body, grid);
  for (const { figure, labels, feature, color } of figures) {
    await charts.draw(figure.canvas, {
      type: "bar",
      data: {
        labels,
        datasets: [{ label: "Mean engagement rate", data: feature.buckets.map((b) => b.mean_engagement_rate), backgroundColor: color }],
      },
      options: {
        scales: { y: valueAxis({ rate: true }) },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => {
                const bucket = feature.buckets[item.dataIndex];
                return `${percent(item.raw)} mean engagement (${count(bucket.measured_posts)} of ${count(bucket.posts)} posts measured)`;
              },
            },
          },
        },
      },
    });
  }
}

// ---- best posting hours ----------------------------------------------------------------------------------------

async function renderHours(body, data, charts) {
  if (!data.has_data) {
    mount(body, empty(data.message));
    return;
  }
  const colors = palette();
  const figures = data.accounts.map((account) => {
    const best = account.hours.find((hour) => hour.rank === 1);
    const summary =
      `Bar chart of mean engagement rate by local posting hour for ${accountName(account)}` +
      (best ? `; best hour ${hourLabel(best.hour)} (${percent(best.mean_engagement_rate)}).` : ".");
    const table = dataTable(
      `Posting hours of ${accountName(account)}`,
      [
        { label: "Hour", value: (r) => hourLabel(r.hour) },
        { label: "Rank", value: (r) => String(r.rank), numeric: true },
        { label: "Measured posts", value: (r) => count(r.measured_posts), numeric: true },
        { label: "Mean rate", value: (r) => percent(r.mean_engagement_rate), numeric: true },
        { label: "Mean views", value: (r) => count(r.mean_views === null ? null : Math.round(r.mean_views)), numeric: true },
      ],
      account.hours,
    );
    return { account, figure: chartFigure({ title: accountName(account), summary, table, name: "posting-hours" }) };
  });
  mount(
    body,
    h("div", { class: "chart-grid" }, figures.map(({ figure }) => figure.element)),
    h("p", { class: "hint" }, `Hours with at least ${data.min_posts} measured posts on the account; the best is marked “best”.`),
  );
  for (const { account, figure } of figures) {
    await charts.draw(figure.canvas, {
      type: "bar",
      data: {
        labels: account.hours.map((r) => (r.rank === 1 ? `${hourLabel(r.hour)} (best)` : hourLabel(r.hour))),
        datasets: [
          {
            label: "Mean engagement rate",
            data: account.hours.map((r) => r.mean_engagement_rate),
            backgroundColor: account.hours.map((r) => (r.rank === 1 ? colors[2] : colors[0])),
          },
        ],
      },
      options: {
        scales: { y: valueAxis({ rate: true }) },
        plugins: { legend: { display: false }, tooltip: tooltipLabel(new Set(["Mean engagement rate"])) },
      },
    });
  }
}

// ---- account growth ----------------------------------------------------------------------------------------------

async function renderGrowth(body, data, charts) {
  if (!data.has_data || !data.accounts.length) {
    mount(body, empty(data.message));
    return;
  }
  const days = [...new Set(data.accounts.flatMap((a) => a.series.map((r) => r.day)))].sort();
  const colors = palette();
  const latest = data.accounts.map((account) => ({ account, last: account.series[account.series.length - 1] }));
  const leader = latest.reduce((best, item) => ((item.last.cumulative_views ?? -1) > (best.last.cumulative_views ?? -1) ? item : best));
  const summary =
    `Line chart of lifetime views per account, ${shortDay(days[0])} to ${shortDay(days[days.length - 1])}; ` +
    `most views: ${accountName(leader.account)} (${count(leader.last.cumulative_views)}).`;
  const table = dataTable(
    "Account growth, latest day",
    [
      { label: "Account", value: (item) => accountName(item.account) },
      { label: "Day", value: (item) => shortDay(item.last.day) },
      { label: "Posts", value: (item) => count(item.last.cumulative_posts), numeric: true },
      { label: "Views", value: (item) => count(item.last.cumulative_views), numeric: true },
      { label: "Likes", value: (item) => count(item.last.cumulative_likes), numeric: true },
    ],
    latest,
  );
  const figure = chartFigure({ title: "Lifetime views per account", summary, table, name: "growth" });
  mount(body, figure.element);
  await charts.draw(figure.canvas, {
    type: "line",
    data: {
      labels: days.map(shortDay),
      datasets: data.accounts.map((account, index) => {
        const byDay = new Map(account.series.map((r) => [r.day, r.cumulative_views]));
        const color = colors[index % colors.length];
        return { label: accountName(account), data: days.map((d) => byDay.get(d) ?? null), borderColor: color, backgroundColor: color, tension: 0.2 };
      }),
    },
    options: { scales: { y: valueAxis({ title: "Views" }) }, plugins: { tooltip: tooltipLabel() } },
  });
}

// ---- ranking weights ---------------------------------------------------------------------------------------------

function heldOut(version, key) {
  const scores = version.held_out;
  if (!scores) return "–";
  const before = scores[`${key}_current`];
  const after = scores[`${key}_new`];
  return `${before === null ? "–" : before.toFixed(2)} → ${after === null ? "–" : after.toFixed(2)}`;
}

async function renderWeights(body, data, charts) {
  const current = data.current;
  const colors = palette();
  const names = data.sub_scores.map((key) => SUB_SCORE_NAMES[key] || key);
  const inUse = current.version === 0 ? "Defaults (v0, in use)" : `In use (v${current.version})`;
  const summary =
    `Bar chart of the ranking weights in use (version ${current.version}) beside the defaults: ` +
    data.sub_scores.map((key, i) => `${names[i]} ${percent(current.weights[key], 0)}`).join(", ") +
    ".";
  const weightTable = dataTable(
    "Ranking weights",
    [
      { label: "Sub-score", value: (key) => SUB_SCORE_NAMES[key] || key },
      { label: inUse, value: (key) => percent(current.weights[key]), numeric: true },
      { label: "Defaults", value: (key) => percent(data.defaults[key]), numeric: true },
    ],
    data.sub_scores,
  );
  const figure = chartFigure({ title: "Sub-score weights", summary, table: weightTable, name: "weights" });
  const history = dataTable(
    "Ranking weights history",
    [
      { label: "Version", value: (v) => `v${v.version}` },
      {
        label: "Status",
        value: (v) =>
          h(
            "span",
            { class: `badge ${v.in_use ? "badge-in-use" : v.accepted ? "badge-accepted" : "badge-refused"}` },
            v.in_use ? "in use" : v.accepted ? "accepted" : "not accepted",
          ),
      },
      { label: "Fitted", value: (v) => (v.fitted_at ? when(v.fitted_at) : "built in") },
      { label: "Posts", value: (v) => count(v.n_posts), numeric: true },
      { label: "Held-out Spearman", value: (v) => heldOut(v, "spearman"), numeric: true },
      { label: "Held-out NDCG", value: (v) => heldOut(v, "ndcg"), numeric: true },
      ...data.sub_scores.map((key) => ({ label: SUB_SCORE_NAMES[key] || key, value: (v) => percent(v.weights[key], 0), numeric: true })),
      { label: "Why", value: (v) => v.reason },
    ],
    data.history,
    { className: "weights-history" },
  );
  mount(
    body,
    data.has_data ? null : empty(data.message),
    figure.element,
    h("h3", { class: "table-title" }, "History"),
    h("p", { class: "hint" }, "Each fit is judged on held-out posts against the weights in use then (before → after); only a better one is used."),
    history,
  );
  await charts.draw(figure.canvas, {
    type: "bar",
    data: {
      labels: names,
      datasets: [
        { label: inUse, data: data.sub_scores.map((key) => current.weights[key]), backgroundColor: colors[0] },
        ...(current.version === 0 ? [] : [{ label: "Defaults (v0)", data: data.sub_scores.map((key) => data.defaults[key]), backgroundColor: colors[3] }]),
      ],
    },
    options: {
      indexAxis: "y",
      scales: { x: valueAxis({ rate: true }) },
      plugins: { tooltip: tooltipLabel(new Set([inUse, "Defaults (v0)"])) },
    },
  });
}

// ---- the page ------------------------------------------------------------------------------------------------------

export async function analyticsView(_params, outlet) {
  const workspaceId = session.workspaceId;
  delete outlet.dataset.analyticsReady; // set again once every section has loaded (the browser test waits for it)
  const sectionCharts = new Map(); // section id -> its ChartSet, so a reload redraws only that section
  const summary = section("analytics-summary", "Overview");
  const engagement = section("analytics-engagement", "Engagement over time", "Views and likes each day's metrics pull added, and the engagement rate of the posts measured that day.");
  const clips = section("analytics-clips", "Top and bottom clips", "Posts ranked by their latest numbers, with the selector's scores for the clip.");
  const features = section("analytics-features", "Performance by feature", "Mean engagement rate of posts by clip duration, hook type, caption style, local posting hour and selector score.");
  const hours = section("analytics-hours", "Best posting hours", "Per account, the local hours whose posts engage best.");
  const growth = section("analytics-growth", "Account growth");
  const weights = section("analytics-weights", "Ranking weights", "How much each sub-score counts when the selector ranks moments; learned from what your posts realised.");
  mount(
    outlet,
    h("h1", { tabindex: "-1" }, "Analytics"),
    h("p", { class: "hint lead" }, "From the analytics warehouse, rebuilt after each nightly metrics pull."),
    summary.element,
    engagement.element,
    clips.element,
    h("div", { class: "analytics-columns" }, hours.element, growth.element),
    features.element,
    weights.element,
  );

  // Each section loads on its own: one that fails shows its error and the others still draw.
  const load = async (target, fetcher, render) => {
    const previous = sectionCharts.get(target.element.id);
    if (previous) previous.destroy();
    const own = new ChartSet();
    sectionCharts.set(target.element.id, own);
    try {
      await render(target.body, await fetcher(), own);
    } catch (error) {
      mount(target.body, h("p", { class: "error-text" }, `Could not load this section: ${error.message}`));
      showError(error);
    }
  };

  let filters = { platform: "", start: "", end: "" };
  const loadEngagement = () =>
    load(
      engagement,
      () => api.analytics(workspaceId, "engagement", filters),
      async (body, data, own) => {
        if (!data.platforms.length) {
          mount(body, empty(data.message)); // nothing measured at all: no filter to offer
          return;
        }
        const form = engagementFilters(data.platforms, filters, (next) => {
          filters = next;
          loadEngagement();
        });
        const chartArea = h("div");
        mount(body, form, chartArea);
        await renderEngagement(chartArea, data, own);
      },
    );
  const loadClips = (metric = "views") =>
    load(clips, () => api.analytics(workspaceId, "clips", { metric, limit: 5 }), (body, data) => renderClips(body, data, loadClips));

  await Promise.all([
    load(summary, () => api.analytics(workspaceId, "summary"), renderSummary),
    loadEngagement(),
    loadClips(),
    load(features, () => api.analytics(workspaceId, "features"), renderFeatures),
    load(hours, () => api.analytics(workspaceId, "posting-hours"), renderHours),
    load(growth, () => api.analytics(workspaceId, "growth"), renderGrowth),
    load(weights, () => api.analytics(workspaceId, "ranking-weights"), renderWeights),
  ]);
  outlet.dataset.analyticsReady = "true";
  return () => {
    delete outlet.dataset.analyticsReady;
    for (const own of sectionCharts.values()) own.destroy();
  };
}
