// Every call to the server goes through this module: base paths, the bearer token, Idempotency-Key,
// and problem+json turned into an ApiError that says which field it is about. Works in the page and
// in the service worker (uploads report progress where XMLHttpRequest exists).

const config = { token: null, jurisdiction: null };

/** Set the bearer token and the jurisdiction (slug) the calls are about. */
export function configure({ token = null, jurisdiction = null } = {}) {
  config.token = token;
  config.jurisdiction = jurisdiction;
}

export function newKey() {
  return crypto.randomUUID();
}

/**
 * An answer other than 2xx, or no answer at all (`offline`). `fields` maps a form field name
 * (`description`, `location`, `extra.pole_number`, `contact.email`, ...) to the API's message
 * and its type, so a screen can show the message next to the field.
 */
export class ApiError extends Error {
  constructor({ status = 0, code = "network", detail = "", fields = {}, problem = null, offline = false }) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.problem = problem;
    this.offline = offline;
  }

  /** Worth trying again later: no network, a server error, or the first try still running. */
  get retryable() {
    return this.offline || this.status >= 500 || this.status === 429 || this.code === "request-in-progress";
  }
}

const origin = () => self.location.origin;

export function jurisdictionPath(slug = config.jurisdiction) {
  return `/api/v1/jurisdictions/${encodeURIComponent(slug)}`;
}

/** The form field a pydantic error location is about: ["body", "contact", "email"] -> "contact.email". */
function fieldOf(location) {
  const parts = (location || []).map(String).filter((p) => !["body", "query", "path"].includes(p));
  if (parts[0] === "location") return "location";
  if (parts[0] === "photo_ids") return "photos";
  return parts.filter((p) => !/^\d+$/.test(p)).join(".") || "form";
}

export function problemToError(status, problem) {
  const fields = {};
  const errors = problem?.errors;
  if (Array.isArray(errors)) {
    for (const e of errors) {
      const name = fieldOf(e.location);
      fields[name] ??= { message: e.message, type: e.type };
    }
  } else if (errors && typeof errors === "object") {
    // Extra fields of a category: {code: message}.
    for (const [code, message] of Object.entries(errors)) {
      fields[`extra.${code}`] = { message: String(message), type: "extra" };
    }
  }
  return new ApiError({
    status,
    code: problem?.code || `http-${status}`,
    detail: problem?.detail || "",
    fields,
    problem,
  });
}

function url(path, query) {
  const u = new URL(path, origin());
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
  }
  return u;
}

function headers({ idempotencyKey, json, auth = true, extra = {} } = {}) {
  const h = { Accept: "application/json, application/problem+json", ...extra };
  if (auth && config.token) h.Authorization = `Bearer ${config.token}`;
  if (idempotencyKey) h["Idempotency-Key"] = idempotencyKey;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function answer(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw problemToError(response.status, body);
  return body;
}

/** One JSON request (`headers`: extra ones, e.g. If-Match). Throws ApiError (offline: no answer at all). */
export async function request(method, path, { body, query, idempotencyKey, auth = true, signal, headers: extra } = {}) {
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers: headers({ idempotencyKey, json: body !== undefined, auth, extra }),
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new ApiError({ offline: true, detail: String(error) });
  }
  return answer(response);
}

export const get = (path, options) => request("GET", path, options);
export const post = (path, body, options = {}) => request("POST", path, { ...options, body });
export const put = (path, body, options = {}) => request("PUT", path, { ...options, body });
export const patch = (path, body, options = {}) => request("PATCH", path, { ...options, body });
export const remove = (path, options) => request("DELETE", path, options);

/** A multipart upload; `onProgress(fraction)` where the context has XMLHttpRequest (the page). */
export function upload(path, form, { idempotencyKey, onProgress } = {}) {
  if (typeof XMLHttpRequest === "undefined") {
    return fetch(url(path), { method: "POST", headers: headers({ idempotencyKey }), body: form }).then(
      answer,
      (error) => {
        throw new ApiError({ offline: true, detail: String(error) });
      },
    );
  }
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url(path));
    for (const [k, v] of Object.entries(headers({ idempotencyKey }))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new ApiError({ offline: true, detail: "upload failed" }));
    xhr.onload = () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(problemToError(xhr.status, body));
    };
    xhr.send(form);
  });
}

// ---------------------------------------------------------------------------------------------
// The residents' calls. Paths under the configured jurisdiction unless one is passed.

const J = (slug) => jurisdictionPath(slug);

export const auth = {
  registerDevice: (jurisdiction, locale, idempotencyKey) =>
    post("/api/v1/auth/devices", { jurisdiction, locale }, { idempotencyKey, auth: false }),
  signUp: (body) => post("/api/v1/auth/accounts", body),
  confirmSignUp: (token) => post("/api/v1/auth/accounts/confirmations", { token }, { auth: false }),
  signIn: (body) => post("/api/v1/auth/tokens", body, { auth: false }),
  signOut: () => remove("/api/v1/auth/tokens/current"),
  signOutEverywhere: () => remove("/api/v1/auth/tokens"),
  changePassword: (body) => put("/api/v1/auth/password", body),
  requestReset: (body) => post("/api/v1/auth/password-resets", body, { auth: false }),
  resetPassword: (token, password) =>
    post("/api/v1/auth/password-resets/confirmations", { token, password }, { auth: false }),
  me: () => get("/api/v1/me"),
  myData: () => get("/api/v1/me/data"),
  deleteAccount: (password) => remove("/api/v1/me", { body: password ? { password } : {} }),
};

// Public reference data, asked without the token: the service worker may keep these for offline use.
export const places = {
  jurisdictions: (point) =>
    get("/api/v1/jurisdictions", { query: point ? { longitude: point[0], latitude: point[1] } : {}, auth: false }),
  categories: (slug) => get(`${J(slug)}/categories`, { auth: false }),
  areas: (level) => get(`${J()}/areas`, { query: { level }, auth: false }),
};

export const reports = {
  uploadPhoto: (slug, blob, name, { idempotencyKey, onProgress } = {}) => {
    const form = new FormData();
    form.append("file", blob, name);
    return upload(`${J(slug)}/photos`, form, { idempotencyKey, onProgress });
  },
  submit: (slug, body, idempotencyKey) => post(`${J(slug)}/reports`, body, { idempotencyKey }),
  duplicates: (category, [longitude, latitude]) =>
    get(`${J()}/reports/duplicates`, { query: { category, longitude, latitude } }),
  support: (slug, id, idempotencyKey) => post(`${J(slug)}/reports/${id}/supporters`, {}, { idempotencyKey }),
  follow: (id) => put(`${J()}/reports/${id}/followers/me`),
  unfollow: (id) => remove(`${J()}/reports/${id}/followers/me`),
  one: (id, slug) => get(`${J(slug)}/reports/${id}`),
  mine: (query) => get(`${J()}/me/reports`, { query }),
  near: ([longitude, latitude], radius = 1000) =>
    get(`${J()}/reports`, { query: { near: `${longitude},${latitude}`, radius, limit: 50 } }),
  photoUrl: (path) => path,
};

/** A file the API serves only with the token (a photo of a non-public report): an object URL for <img>. */
export async function objectUrl(path) {
  let response;
  try {
    response = await fetch(url(path), { headers: headers(), credentials: "omit" });
  } catch (error) {
    throw new ApiError({ offline: true, detail: String(error) });
  }
  if (!response.ok) throw problemToError(response.status, await response.json().catch(() => null));
  return URL.createObjectURL(await response.blob());
}

// Field staff: the work list, the staff view, status changes guarded by the version read (If-Match).
const ifMatch = (version) => ({ "If-Match": `"v${version}"` });

export const staff = {
  worklist: (query) => get(`${J()}/worklist`, { query }),
  summary: (query) => get(`${J()}/worklist/summary`, { query }),
  report: (id) => get(`${J()}/reports/${id}/staff-view`),
  templates: (status, category) => get(`${J()}/message-templates`, { query: { status, category } }),
  mergeCandidates: (id) => get(`${J()}/reports/${id}/merge-candidates`),
  uploadAfterPhoto: (slug, blob, name, { idempotencyKey, onProgress } = {}) => {
    const form = new FormData();
    form.append("file", blob, name);
    form.append("kind", "after");
    return upload(`${J(slug)}/photos`, form, { idempotencyKey, onProgress });
  },
  transition: (slug, id, body, version, idempotencyKey) =>
    post(`${J(slug)}/reports/${id}/transitions`, body, { idempotencyKey, headers: ifMatch(version) }),
  merge: (slug, id, body, version, idempotencyKey) =>
    post(`${J(slug)}/reports/${id}/merge`, body, { idempotencyKey, headers: ifMatch(version) }),
};

// Council members: motions, the neighbourhood dashboard (the loop metrics), rounds of their areas.
export const council = {
  motions: (query) => get(`${J()}/me/motions`, { query }),
  motion: (id) => get(`${J()}/motions/${id}`),
  vote: (slug, id, choice) => put(`${J(slug)}/motions/${id}/vote`, { choice }),
  setMotionStatus: (id, to) => post(`${J()}/motions/${id}/status`, { to }),
  loopMetrics: (query) => get(`${J()}/loop-metrics`, { query }),
  participationMetrics: (query) => get(`${J()}/loop-metrics/participation`, { query }),
  hotspots: (query) => get(`${J()}/council/hotspots`, { query }),
  participation: (query) => get(`${J()}/council/participation`, { query }),
};

export const messages = {
  inbox: () => get(`${J()}/me/inbox`),
  unread: () => get(`${J()}/me/inbox/unread-count`),
  read: (id) => post(`${J()}/me/inbox/${id}/read`),
  readAll: () => post(`${J()}/me/inbox/read-all`),
  preferences: () => get(`${J()}/me/notification-preferences`),
  setPreferences: (changes) => patch(`${J()}/me/notification-preferences`, { changes }),
  areaSubscriptions: () => get(`${J()}/me/area-subscriptions`),
  subscribeArea: (area_id, frequency) => put(`${J()}/me/area-subscriptions`, { area_id, frequency }),
  unsubscribeArea: (areaId) => remove(`${J()}/me/area-subscriptions/${areaId}`),
  vapidKey: () => get("/api/v1/notifications/vapid-public-key", { auth: false }),
  registerPush: (subscription) => post(`${J()}/me/push-subscriptions`, subscription),
  deletePush: (id) => remove(`${J()}/me/push-subscriptions/${id}`),
};

export const feedback = {
  mine: () => get(`${J()}/me/satisfaction-requests`),
  answer: (slug, requestId, body, idempotencyKey) =>
    post(`${J(slug)}/satisfaction-requests/${requestId}/answer`, body, { idempotencyKey }),
  byToken: (token) => get(`/api/v1/notifications/satisfaction/${encodeURIComponent(token)}`, { auth: false }),
  answerByToken: (token, body) =>
    post(`/api/v1/notifications/satisfaction/${encodeURIComponent(token)}`, body, { auth: false }),
  unsubscribePreview: (token) =>
    get(`/api/v1/notifications/unsubscribe/${encodeURIComponent(token)}`, { auth: false }),
  unsubscribe: (token) =>
    post(`/api/v1/notifications/unsubscribe/${encodeURIComponent(token)}`, undefined, { auth: false }),
};

// Taking part: budget rounds (ideas, ballots, results, progress) and consultations. A slug may be
// passed for pages opened from a link on a phone without a session (`?j=`).
export const rounds = {
  takingPart: (slug, point) =>
    get(`${J(slug)}/taking-part`, { query: point ? { longitude: point[0], latitude: point[1] } : {} }),
  one: (slug, id) => get(`${J(slug)}/budget-rounds/${id}`),
  proposals: (slug, id, status) => get(`${J(slug)}/budget-rounds/${id}/proposals`, { query: { status } }),
  proposal: (slug, id, proposalId) => get(`${J(slug)}/budget-rounds/${id}/proposals/${proposalId}`),
  updates: (slug, id, proposalId) => get(`${J(slug)}/budget-rounds/${id}/proposals/${proposalId}/updates`),
  results: (slug, id) => get(`${J(slug)}/budget-rounds/${id}/results`),
  eligibility: (slug, id) => get(`${J(slug)}/budget-rounds/${id}/eligibility`),
  // A ballot with a letter's code goes without the device's token: the code is the voter.
  cast: (slug, id, body) => post(`${J(slug)}/budget-rounds/${id}/ballots`, body, { auth: !body.code }),
  lookupCode: (code) => post("/api/v1/voting-codes/lookup", { code }, { auth: false }),
  following: (slug, id, proposalId) => get(`${J(slug)}/budget-rounds/${id}/proposals/${proposalId}/follow`),
  follow: (slug, id, proposalId) => put(`${J(slug)}/budget-rounds/${id}/proposals/${proposalId}/follow`),
  unfollow: (slug, id, proposalId) => remove(`${J(slug)}/budget-rounds/${id}/proposals/${proposalId}/follow`),
  uploadPhoto: (slug, blob, name, { idempotencyKey, onProgress } = {}) => {
    const form = new FormData();
    form.append("file", blob, name);
    return upload(`${J(slug)}/participation/photos`, form, { idempotencyKey, onProgress });
  },
  propose: (slug, id, body, idempotencyKey) =>
    post(`${J(slug)}/budget-rounds/${id}/proposals`, body, { idempotencyKey }),
  photoUrl: (slug, photoId, thumbnail = false) =>
    `${J(slug)}/participation/photos/${photoId}${thumbnail ? "?thumbnail=true" : ""}`,
};

export const consultations = {
  round: (slug, id) => get(`${J(slug)}/consultation-rounds/${id}`),
  eligibility: (slug, id) => get(`${J(slug)}/consultation-rounds/${id}/eligibility`),
  mine: (slug, id) =>
    get(`${J(slug)}/consultation-rounds/${id}/response`).catch((error) => {
      if (error.status === 404 && error.code === "no-response") return null;
      throw error;
    }),
  respond: (slug, id, answers, idempotencyKey) =>
    put(`${J(slug)}/consultation-rounds/${id}/response`, { answers }, { idempotencyKey }),
  results: (slug, id) => get(`${J(slug)}/consultation-rounds/${id}/results`),
};
