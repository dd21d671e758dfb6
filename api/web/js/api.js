// API client: bearer auth with transparent refresh, workspace header, the contract's error schema.
// Tokens live in sessionStorage: they survive a reload of this tab but not the browser session.
// The access token only ever travels in the Authorization header: URLs the browser opens by itself (<video src>,
// <img src>, EventSource) are signed links from the API, scoped to one file or stream and short-lived.

const ACCESS = "clipped.access_token";
const REFRESH = "clipped.refresh_token";
const WORKSPACE = "clipped.workspace_id";

/** An error answered by the API: {"error": {code, message, trace_id}} plus the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message, traceId) {
    super(message);
    this.status = status;
    this.code = code;
    this.traceId = traceId;
  }
}

const listeners = new Set();
/** Called with no arguments when the session ends (logout, or a refresh that failed). */
export function onSignedOut(listener) {
  listeners.add(listener);
}

export const session = {
  get accessToken() {
    return sessionStorage.getItem(ACCESS);
  },
  get refreshToken() {
    return sessionStorage.getItem(REFRESH);
  },
  get workspaceId() {
    return sessionStorage.getItem(WORKSPACE);
  },
  set workspaceId(id) {
    if (id) sessionStorage.setItem(WORKSPACE, id);
    else sessionStorage.removeItem(WORKSPACE);
  },
  get signedIn() {
    return Boolean(this.accessToken || this.refreshToken);
  },
  store(tokens) {
    sessionStorage.setItem(ACCESS, tokens.access_token);
    sessionStorage.setItem(REFRESH, tokens.refresh_token);
  },
  clear() {
    sessionStorage.removeItem(ACCESS);
    sessionStorage.removeItem(REFRESH);
    sessionStorage.removeItem(WORKSPACE);
  },
};

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's HTML page, say): fall through to the status text
  }
  const error = body && body.error;
  if (error && error.message) return new ApiError(response.status, error.code, error.message, error.trace_id);
  const detail = body && typeof body.detail === "string" ? body.detail : response.statusText || "Request failed";
  return new ApiError(response.status, "http_" + response.status, detail, null);
}

// One refresh in flight at a time: parallel 401s all wait for the same rotation, because a second use of
// the same refresh token would look like token theft to the server and revoke the whole family.
let refreshing = null;

async function refreshTokens() {
  if (!session.refreshToken) return false;
  if (!refreshing) {
    refreshing = (async () => {
      const response = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: session.refreshToken }),
      });
      if (!response.ok) return false;
      session.store(await response.json());
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

function signedOut() {
  session.clear();
  for (const listener of listeners) listener();
}

/**
 * fetch() against the API. `body` objects are sent as JSON; the answer is parsed as JSON (null for 204).
 * options.raw returns the Response itself (for images). A 401 triggers one refresh and one retry.
 */
export async function request(path, { method = "GET", body, headers = {}, raw = false, auth = true } = {}) {
  const send = () => {
    const all = { Accept: "application/json", ...headers };
    if (auth && session.accessToken) all.Authorization = `Bearer ${session.accessToken}`;
    if (auth && session.workspaceId) all["X-Workspace-Id"] = session.workspaceId;
    let payload = body;
    if (body !== undefined && !(body instanceof Blob) && !(body instanceof FormData)) {
      all["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    return fetch(path, { method, headers: all, body: payload });
  };
  let response = await send();
  if (response.status === 401 && auth) {
    if (await refreshTokens()) response = await send();
    else if (session.signedIn) signedOut();
  }
  if (!response.ok) throw await errorFrom(response);
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export async function login(email, password) {
  const tokens = await request("/api/auth/login", { method: "POST", body: { email, password }, auth: false });
  session.store(tokens);
  return tokens;
}

export async function register(email, password, displayName) {
  const body = { email, password };
  if (displayName) body.display_name = displayName;
  return request("/api/auth/register", { method: "POST", body, auth: false });
}

export async function logout() {
  const refreshToken = session.refreshToken;
  try {
    if (refreshToken) await request("/api/auth/logout", { method: "POST", body: { refresh_token: refreshToken } });
  } finally {
    signedOut();
  }
}

/** A random Idempotency-Key; crypto.randomUUID is missing outside secure contexts, so fall back to bytes. */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Send a file to the upload target ({method, url, headers, fields?}) with progress:
 * fetch() has no upload progress, XMLHttpRequest does.
 * Our own /api URLs get the bearer token; a presigned S3 URL must not (it carries its own signature).
 */
export function sendWithProgress(target, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(target.method || "PUT", target.url);
    for (const [name, value] of Object.entries(target.headers || {})) xhr.setRequestHeader(name, value);
    const url = new URL(target.url, location.origin);
    if (url.origin === location.origin && url.pathname.startsWith("/api/") && session.accessToken) {
      xhr.setRequestHeader("Authorization", `Bearer ${session.accessToken}`);
      if (session.workspaceId) xhr.setRequestHeader("X-Workspace-Id", session.workspaceId);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      let message = `Upload failed (HTTP ${xhr.status})`;
      let code = "upload_failed";
      let traceId = null;
      try {
        const error = JSON.parse(xhr.responseText).error;
        if (error) ({ message, code, trace_id: traceId } = error);
      } catch {
        // S3 answers XML; keep the generic message
      }
      reject(new ApiError(xhr.status, code, message, traceId));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "Upload failed: network error", null));
    const fields = Object.entries(target.fields || {});
    if ((target.method || "PUT").toUpperCase() === "POST" && fields.length) {
      // A presigned POST (S3 policy upload): the signed fields first, the file last, as multipart form data.
      const form = new FormData();
      for (const [name, value] of fields) form.append(name, value);
      form.append("file", file);
      xhr.send(form);
    } else {
      xhr.send(file);
    }
  });
}

// Thin wrappers so views read as what they do.
export const api = {
  me: () => request("/api/me"),
  captionStyles: () => request("/api/caption-styles"),
  jobs: (params) => request(`/api/jobs?${new URLSearchParams(params)}`),
  job: (id) => request(`/api/jobs/${encodeURIComponent(id)}`),
  // {url, token, expires_at}: a short-lived link to this job's event stream (EventSource cannot send headers).
  streamToken: (id) => request(`/api/jobs/${encodeURIComponent(id)}/stream-token`, { method: "POST" }),
  createJob: (body, key) => request("/api/jobs", { method: "POST", body, headers: { "Idempotency-Key": key } }),
  cancelJob: (id) => request(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" }),
  retryJob: (id) => request(`/api/jobs/${encodeURIComponent(id)}/retry`, { method: "POST" }),
  // {ready, method, summary, key_points, chapters: [{start_s, end_s, title}]}: the source summarized.
  jobSummary: (id) => request(`/api/jobs/${encodeURIComponent(id)}/summary`),
  createUpload: (body) => request("/api/uploads", { method: "POST", body }),
  confirmUpload: (id) => request(`/api/uploads/${encodeURIComponent(id)}/confirm`, { method: "POST" }),
  clips: (params) => request(`/api/clips?${new URLSearchParams(params)}`),
  clip: (id) => request(`/api/clips/${encodeURIComponent(id)}`),
  approveClip: (id) => request(`/api/clips/${encodeURIComponent(id)}/approve`, { method: "POST" }),
  rejectClip: (id) => request(`/api/clips/${encodeURIComponent(id)}/reject`, { method: "POST" }),
  updateClip: (id, body) => request(`/api/clips/${encodeURIComponent(id)}`, { method: "PATCH", body }),
  rerenderClip: (id, body) => request(`/api/clips/${encodeURIComponent(id)}/rerender`, { method: "POST", body }),
  clipVersions: (id) => request(`/api/clips/${encodeURIComponent(id)}/versions`),
  clipVariations: (id) => request(`/api/clips/${encodeURIComponent(id)}/variations`),
  requestVariations: (id, count) =>
    request(`/api/clips/${encodeURIComponent(id)}/variations`, { method: "POST", body: { count } }),
  clipTranscript: (id) => request(`/api/clips/${encodeURIComponent(id)}/transcript`),
  batchClips: (action, ids) => request("/api/clips/batch", { method: "POST", body: { action, ids } }),
  comments: (id) => request(`/api/clips/${encodeURIComponent(id)}/comments`),
  addComment: (id, body) => request(`/api/clips/${encodeURIComponent(id)}/comments`, { method: "POST", body }),
  preview: (id, style) =>
    request(`/api/clips/${encodeURIComponent(id)}/preview?${new URLSearchParams({ caption_style: style })}`, {
      raw: true,
      headers: { Accept: "image/jpeg" },
    }),
  // Publishing: connected accounts (tokens never reach the browser) and the posts scheduled to them.
  platforms: () => request("/api/platforms"),
  accounts: (workspaceId) => request(`/api/workspaces/${encodeURIComponent(workspaceId)}/accounts`),
  // {authorize_url}; the response also sets a cookie that binds the flow to this browser.
  connectAccount: (workspaceId, platform) =>
    request(`/api/workspaces/${encodeURIComponent(workspaceId)}/accounts/connect`, { method: "POST", body: { platform } }),
  updateAccount: (id, body) => request(`/api/accounts/${encodeURIComponent(id)}`, { method: "PATCH", body }),
  disconnectAccount: (id) => request(`/api/accounts/${encodeURIComponent(id)}`, { method: "DELETE" }),
  schedule: (clipId, body, key) =>
    request(`/api/clips/${encodeURIComponent(clipId)}/publications`, {
      method: "POST",
      body,
      headers: { "Idempotency-Key": key },
    }),
  publications: (workspaceId, params = {}) =>
    request(`/api/workspaces/${encodeURIComponent(workspaceId)}/publications?${new URLSearchParams(params)}`),
  clipPublications: (clipId) => request(`/api/clips/${encodeURIComponent(clipId)}/publications`),
  unschedule: (id) => request(`/api/publications/${encodeURIComponent(id)}`, { method: "DELETE" }),
  publishNow: (id) => request(`/api/publications/${encodeURIComponent(id)}/publish-now`, { method: "POST" }),
  // Live streams: start in a workspace, list, one stream (health, moments, clips with signed links), stop.
  streams: (workspaceId) => request(`/api/workspaces/${encodeURIComponent(workspaceId)}/streams`),
  startStream: (workspaceId, body) =>
    request(`/api/workspaces/${encodeURIComponent(workspaceId)}/streams`, { method: "POST", body }),
  stream: (id) => request(`/api/streams/${encodeURIComponent(id)}`),
  stopStream: (id) => request(`/api/streams/${encodeURIComponent(id)}/stop`, { method: "POST" }),
  // Analytics from the dbt marts: view is summary|engagement|clips|features|posting-hours|growth|ranking-weights.
  // Empty parameters are left out (an empty platform is not a platform).
  analytics: (workspaceId, view, params = {}) => {
    const query = String(new URLSearchParams(Object.entries(params).filter(([, value]) => value !== "" && value !== null && value !== undefined)));
    return request(`/api/workspaces/${encodeURIComponent(workspaceId)}/analytics/${view}${query ? `?${query}` : ""}`);
  },
};
