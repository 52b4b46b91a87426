// The OMS public API, on the console's own origin: where exactly (locally at the root, in the stack
// under /api on CloudFront) and how staff sign in, `config.json` beside index.html says (`loadConfig`).
// The API key is kept in sessionStorage: gone when the tab closes.
import { tokens } from "./auth.js";

const KEY = "oms.apiKey";
let API_BASE = "";
let config = null;

/** The console's run-time settings: {apiBase, signIn: {apiKey, cognito}}; read once at start. */
export async function loadConfig() {
  if (config) return config;
  const response = await fetch(`${import.meta.env.BASE_URL}config.json`, {
    headers: { Accept: "application/json" },
    cache: "no-cache",
  });
  if (!response.ok) throw new Error(`config.json: the server answered ${response.status}`);
  config = await response.json();
  API_BASE = (config.apiBase || "").replace(/\/$/, "");
  return config;
}

export const currentConfig = () => config;

/** Cognito settings when the stack's user pool signs staff in, else null (locally). */
export const cognitoSettings = () => (config && config.signIn && config.signIn.cognito) || null;

/** Whether this tab holds a credential: a staff token (Cognito) or an API key. */
export const signedIn = () => Boolean(tokens.get() || apiKey.get());

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `the API answered ${status}`);
    this.status = status;
    this.code = error.code || "HTTP_" + status;
    this.details = error.details || null;
  }
}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

// A staff token goes as `Authorization: Bearer`, else the API key as `x-api-key`; `key` checks a key.
function credentials(key = undefined) {
  const session = key === undefined ? tokens.get() : null;
  if (session) return { session, headers: { Authorization: `Bearer ${session.accessToken}` } };
  const value = key || apiKey.get();
  return { session: null, headers: value ? { "x-api-key": value } : {} };
}

export async function request(method, path, body, key = undefined, extra = {}) {
  const { session, headers: auth } = credentials(key);
  const headers = { Accept: "application/json", ...extra, ...auth };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API_BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  // A refused token (expired or revoked): forget it, so the next page asks to sign in again.
  if (response.status === 401 && session) tokens.clear();
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const get = (path) => request("GET", path);
export const post = (path, body, headers = {}) => request("POST", path, body, undefined, headers);

/** The problems an error names, each with the field it is about (when it names one). */
export function fieldProblems(error) {
  const details = error && error.details;
  if (Array.isArray(details)) return details.map((d) => ({ field: d.field || null, message: d.message || error.message }));
  if (details && typeof details === "object" && details.field) return [{ field: details.field, message: error.message }];
  return [];
}

/** A file the API answers (e.g. CSV), fetched with the credential: its blob and the name it suggests. */
export async function download(path) {
  const response = await fetch(API_BASE + path, { headers: credentials().headers });
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    throw new ApiError(response.status, parsed);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = disposition.match(/filename="?([^";]+)"?/);
  return { blob: await response.blob(), filename: named ? named[1] : "export.csv" };
}

/** Whether `key` opens the API: a cheap authenticated read. */
export async function checkKey(key) {
  try {
    await request("GET", "/orders?limit=1", undefined, key);
    return true;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return false;
    throw error;
  }
}
