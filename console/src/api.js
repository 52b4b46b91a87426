// The OMS public API, on the console's own origin. The API key (locally the one `make run` prints;
// Cognito sign-in in the stack is still to come) is kept in sessionStorage: gone when the tab closes.
const KEY = "oms.apiKey";
const API_BASE = "";

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

export async function request(method, path, body, key = apiKey.get(), extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (key) headers["x-api-key"] = key;
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
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const get = (path) => request("GET", path);
export const post = (path, body, headers = {}) => request("POST", path, body, apiKey.get(), headers);

/** The problems an error names, each with the field it is about (when it names one). */
export function fieldProblems(error) {
  const details = error && error.details;
  if (Array.isArray(details)) return details.map((d) => ({ field: d.field || null, message: d.message || error.message }));
  if (details && typeof details === "object" && details.field) return [{ field: details.field, message: error.message }];
  return [];
}

/** A file the API answers (e.g. CSV), fetched with the API key: its blob and the name it suggests. */
export async function download(path) {
  const response = await fetch(API_BASE + path, { headers: { "x-api-key": apiKey.get() || "" } });
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
    if (error instanceof ApiError && error.status === 403) return false;
    throw error;
  }
}
