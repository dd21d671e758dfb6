// Display formatting shared by the views.

/** 75.4 -> "1:15" (m:ss, or h:mm:ss past an hour). */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A duration in seconds as "12.3 s" / "2 min 5 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const value = Number(seconds);
  if (value < 60) return `${value.toFixed(1)} s`;
  return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
}

/** ISO timestamp -> local date and time, or "" when missing. */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

/** 0.873 -> "87" (scores are 0..1, shown out of 100). */
export function score(value) {
  return value === null || value === undefined ? "–" : String(Math.round(Number(value) * 100));
}

/** Split "#a, b  #c" into ["a", "b", "c"]: users type hashtags with or without "#", commas or spaces. */
export function parseHashtags(text) {
  return String(text)
    .split(/[\s,]+/)
    .map((tag) => tag.replace(/^#+/, "").trim())
    .filter(Boolean);
}

export const TERMINAL_JOB_STATUSES = new Set(["succeeded", "failed", "canceled"]);
