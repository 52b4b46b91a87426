// Building blocks the pages share: cards, labelled fields, tables, facts, pagers and errors shown next
// to the fields they name.
import { ApiError, fieldProblems } from "./api.js";
import { h } from "./dom.js";

export function section(id, heading, ...content) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, heading), ...content);
}

/** A labelled control, with a place for the error about it (`<id>-error`, described by the control). */
export function field(label, control, help) {
  const errorId = `${control.id}-error`;
  const helpId = help ? `${control.id}-help` : null;
  control.setAttribute("aria-describedby", [helpId, errorId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    help ? h("span", { id: helpId, class: "help small" }, help) : null,
    h("span", { id: errorId, class: "field-error", "data-field-error": control.name || control.id }),
  );
}

export function input(id, name, type, extra = {}) {
  return h("input", { id, name, type, ...extra });
}

export function select(id, name, options, chosen, extra = {}) {
  return h(
    "select",
    { id, name, ...extra },
    options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)),
  );
}

export function table(label, headings, rows, attributes = {}) {
  return h(
    "table",
    { "aria-label": label, ...attributes },
    h("thead", {}, h("tr", {}, headings.map((title) => h("th", { scope: "col" }, title)))),
    h(
      "tbody",
      {},
      rows.map((cells) => h("tr", {}, cells.map((cell) => (cell instanceof Node && cell.tagName === "TD" ? cell : h("td", {}, cell))))),
    ),
  );
}

export const num = (value) => h("td", { class: "number" }, value === null || value === undefined ? "\u2014" : String(value));

export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

export function statusLine(id, text) {
  return h("p", { id, class: "help", role: "status" }, text);
}

export function failed(element, what, error) {
  element.className = "error";
  element.textContent = `Could not load ${what}: ${error.message}`;
}

/** Clear a form's field errors, then put each of the API's problems next to the field it names (by
 * the control's name: the whole dotted path, e.g. `lines.0.reason`, else its last part); what names no
 * field of the form goes to `general`. `problems` are the error's own unless a form maps them. */
export function showProblems(form, general, error, fallbackField = null, problems = fieldProblems(error)) {
  for (const slot of form.querySelectorAll("[data-field-error]")) slot.textContent = "";
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  general.textContent = "";
  if (!error) return;
  const unplaced = [];
  problems = [...problems];
  // An error about the request as a whole (e.g. a 409) goes next to the field it is most about.
  if (!problems.some((p) => p.field) && fallbackField) problems.push({ field: fallbackField, message: error.message });
  for (const problem of problems) {
    const [slot, name] = errorSlot(form, problem.field);
    if (slot) {
      slot.textContent = problem.message;
      const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (control) control.setAttribute("aria-invalid", "true");
    } else unplaced.push(problem.message);
  }
  const placed = problems.length - unplaced.length;
  const others = unplaced.filter((message) => message !== error.message);
  if (!(error instanceof ApiError)) general.textContent = `Failed: ${error.message}`;
  else if (placed && !unplaced.length) general.textContent = "Not accepted: see the field marked.";
  else general.textContent = others.length ? `${error.message}: ${others.join("; ")}` : error.message;
}

function errorSlot(form, fieldName) {
  if (!fieldName) return [null, null];
  const path = String(fieldName);
  for (const name of [path, path.split(".").pop()]) {
    const slot = form.querySelector(`[data-field-error="${CSS.escape(name)}"]`);
    if (slot) return [slot, name];
  }
  return [null, null];
}

/** Move the focus to the first control marked invalid, else to `general` (which gets tabindex -1). */
export function focusProblem(form, general) {
  const invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
  else {
    general.tabIndex = -1;
    general.focus();
  }
}

/** Ask "are you sure?" in place of `button` rather than in a native dialog: the question with Confirm
 * and Keep. Confirm runs `onConfirm`; Keep (or Escape) only puts the button back. The focus moves to
 * Confirm, and back to the button after. `button` needs an id. */
export function confirmInline(button, question, onConfirm) {
  if (button.hidden) return;
  const questionId = `${button.id}-question`;
  const yes = h("button", { type: "button", class: "danger confirm-yes" }, "Confirm");
  const keep = h("button", { type: "button", class: "confirm-keep" }, "Keep");
  const ask = h(
    "div",
    { class: "confirm", role: "group", "aria-labelledby": questionId },
    h("span", { id: questionId, class: "confirm-question" }, question),
    yes,
    keep,
  );
  const close = () => {
    ask.remove();
    button.hidden = false;
    button.focus();
  };
  yes.addEventListener("click", () => {
    close();
    onConfirm();
  });
  keep.addEventListener("click", close);
  ask.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  button.hidden = true;
  button.after(ask);
  yes.focus();
}

/** A fresh Idempotency-Key: a UUID (v4 from getRandomValues where randomUUID is missing). */
export function idempotencyKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Previous/next links over cursor pages: `back` keeps the cursors of the pages before this one. */
export function pager(base, params, cursor, previous, nextCursor) {
  const link = (label, cursorValue, backs) => {
    const query = new URLSearchParams(params);
    if (cursorValue) query.set("cursor", cursorValue);
    for (const back of backs) query.append("back", back);
    const text = query.toString();
    return h("a", { href: `${base}${text ? "?" + text : ""}`, class: "button" }, label);
  };
  const parts = [];
  if (cursor) parts.push(link("Previous page", previous.length ? previous[previous.length - 1] : "", previous.slice(0, -1)));
  if (nextCursor) parts.push(link("Next page", nextCursor, [...previous, cursor]));
  return h("nav", { class: "pager", "aria-label": "Pages" }, parts);
}

/** Go to a console URL without reloading (main.js renders on popstate). */
export function go(url) {
  history.pushState(null, "", url);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export const today = () => new Date().toISOString().slice(0, 10);

export function daysBefore(day, days) {
  const moment = new Date(`${day}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() - days);
  return moment.toISOString().slice(0, 10);
}

export const percent = (rate) => (rate === null || rate === undefined ? "\u2014" : `${(rate * 100).toFixed(1)}%`);

/** Seconds as the unit a person reads them in. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "\u2014";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** Settings as facts, nested objects flattened by their dotted path; secrets never (the API hides
 * them already; a field named like one is dropped here too). */
export function settingsFacts(object, skip = []) {
  const pairs = [];
  const walk = (value, path) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (/secret/i.test(key) || skip.includes(key)) continue;
        walk(inner, path ? `${path}.${key}` : key);
      }
    } else if (path && value !== null && value !== undefined) {
      pairs.push([path, Array.isArray(value) ? value.join(", ") || "(none)" : String(value)]);
    }
  };
  walk(object, "");
  const list = facts(pairs);
  list.classList.add("settings-facts");
  return list;
}
