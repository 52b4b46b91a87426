import { ApiError, fieldProblems, get, post } from "../api.js";
import { announce, h, money, statusBadge, when } from "../dom.js";
import { confirmInline, facts, field, focusProblem, idempotencyKey, input, num, section, select, showProblems, table } from "../ui.js";

// The order page's actions besides Cancel, each through the public API: replay the archived delivery
// that created the order (POST /channels/{channelId}/replay), record a fulfillment's next event when a
// warehouse's callback was lost (POST /fulfillments/{fulfillmentId}/events), and authorize a return
// (POST /orders/{orderId}/returns). `done(where, text)` reloads the order and says `text(order)` there.

const enc = encodeURIComponent;
const lower = (status) => String(status).replaceAll("_", " ").toLowerCase();

// --- the archived delivery and its replay -------------------------------------------------------------

export function deliverySection(order) {
  if (!order.deliveryId) {
    return section("delivery-heading", "Archived delivery", h("p", { class: "help" }, "The order names no archived delivery."));
  }
  const body = h("div", { id: "delivery-body" }, h("p", { class: "help", role: "status" }, "Loading the archived delivery\u2026"));
  const result = h("p", { id: "replay-result", class: "action-message", role: "status" });
  const replay = h("button", { type: "button", id: "replay-delivery", "aria-describedby": "replay-help" }, "Replay delivery");
  replay.addEventListener("click", () => replayDelivery(order, replay, result, body));
  loadDelivery(order, body);
  return section(
    "delivery-heading",
    "Archived delivery",
    body,
    h("div", { class: "replay-actions" }, replay),
    h(
      "p",
      { id: "replay-help", class: "help small" },
      "Processes the delivery again; it never creates a second order (a duplicate changes nothing).",
    ),
    result,
  );
}

function outcomeText(result) {
  if (!result) return "not processed yet";
  const errors = (result.errors || []).map((e) => Object.values(e).join(": ")).join("; ");
  return [
    result.outcome,
    result.status ? ` (order ${lower(result.status)})` : "",
    result.reason ? ` \u2014 ${result.reason}` : "",
    errors ? ` \u2014 ${errors}` : "",
  ].join("");
}

async function loadDelivery(order, body) {
  let delivery;
  try {
    delivery = await get(`/channels/${enc(order.channelId)}/deliveries/${enc(order.deliveryId)}`);
  } catch (error) {
    body.replaceChildren(h("p", { class: "error" }, `Could not load the archived delivery: ${error.message}`));
    return;
  }
  const replays = delivery.replays || [];
  const shown = [
    facts([
      ["Delivery", delivery.deliveryId],
      ["Received", `${when(delivery.receivedAt)} (${delivery.source})`],
      ["Result", outcomeText(delivery.result)],
      ["Replays", h("span", { id: "delivery-replays" }, String(replays.length))],
    ]),
  ];
  if (replays.length) shown.push(table("Replays of the delivery", ["When", "Outcome"], replays.map((r) => [when(r.at), outcomeText(r)])));
  body.replaceChildren(...shown);
}

function replayText(one) {
  if (one.error) return [false, `Refused again: ${one.error.code}: ${one.error.message}`];
  const { outcome, orderId } = one.result;
  if (outcome === "DUPLICATE") return [true, `Replayed: DUPLICATE \u2014 the OMS holds this channel order already, so nothing changed.`];
  if (outcome === "CREATED") return [true, `Replayed: CREATED \u2014 order ${orderId} was created.`];
  return [true, `Replayed: ${outcomeText(one.result)}.`];
}

async function replayDelivery(order, button, result, body) {
  button.disabled = true;
  result.className = "action-message notice";
  result.textContent = "Replaying\u2026";
  try {
    const report = await post(`/channels/${enc(order.channelId)}/replay`, { deliveryIds: [order.deliveryId] });
    const [ok, text] = replayText(report.results[0]);
    say(result, ok, text);
    await loadDelivery(order, body);
  } catch (error) {
    say(result, false, `Not replayed: ${error.message}`);
  }
  button.disabled = false;
}

function say(element, ok, text) {
  element.className = `action-message notice ${ok ? "success" : "failure"}`;
  element.textContent = text;
  announce(text);
}

// --- a fulfillment's next event ---------------------------------------------------------------------------

// The events (FulfillmentEventIn.type) each status can take; SHIPPED again corrects the tracking.
const NEXT_EVENTS = {
  REQUESTED: ["PICKED", "PACKED", "SHIPPED"],
  PICKED: ["PACKED", "SHIPPED"],
  PACKED: ["SHIPPED"],
  SHIPPED: ["DELIVERED", "SHIPPED"],
};

export function eventForms(order, done) {
  const open = (order.fulfillments || []).filter((f) => NEXT_EVENTS[f.status]);
  if (!open.length) return null;
  return h(
    "div",
    { class: "event-forms" },
    h("h3", {}, "Record a fulfillment event"),
    h("p", { class: "help small" }, "When a warehouse's or carrier's callback was lost: record what happened, as it would have."),
    open.map((f) => eventForm(f, done)),
  );
}

function eventForm(f, done) {
  const key = f.fulfillmentId.replace(/[^A-Za-z0-9_-]/g, "_");
  const types = NEXT_EVENTS[f.status];
  const label = (type) => (type === f.status ? "Shipped (correct the tracking)" : type.charAt(0) + type.slice(1).toLowerCase());
  const general = h("p", { id: `event-error-${key}`, class: "error action-message wide", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary", id: `event-submit-${key}` }, "Record event");
  const form = h(
    "form",
    { class: "filters event-form", "aria-labelledby": `event-title-${key}`, "data-fulfillment-id": f.fulfillmentId },
    h("p", { id: `event-title-${key}`, class: "wide event-title" }, h("strong", {}, f.fulfillmentId), ` at ${f.warehouseId}, now `, lower(f.status)),
    field("Event", select(`event-type-${key}`, "type", types.map((t) => [t, label(t)]), f.status === "SHIPPED" ? "DELIVERED" : "SHIPPED")),
    field("Carrier", input(`event-carrier-${key}`, "carrier", "text", { maxlength: 128, autocomplete: "off" })),
    field("Tracking number", input(`event-tracking-${key}`, "trackingNumber", "text", { maxlength: 128, autocomplete: "off" })),
    field("When it happened", input(`event-at-${key}`, "occurredAt", "datetime-local"), "Your time zone; empty: now"),
    h("div", { class: "field actions" }, submit),
    general,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showProblems(form, general, null);
    const body = eventBody(new FormData(form));
    const question = `Record ${body.type} for ${f.fulfillmentId}? It moves the order on and cannot be undone.`;
    confirmInline(submit, question, () => sendEvent(f, form, general, body, done));
  });
  return form;
}

/** The event as typed: carrier and tracking number unless empty (the API trims them and names a blank
 * one), the time with the browser's UTC offset. */
function eventBody(data) {
  const body = { type: data.get("type") };
  for (const name of ["carrier", "trackingNumber"]) if (data.get(name) !== "") body[name] = data.get(name);
  if (data.get("occurredAt")) body.occurredAt = new Date(data.get("occurredAt")).toISOString();
  return body;
}

async function sendEvent(f, form, general, body, done) {
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  let after;
  try {
    after = await post(`/fulfillments/${enc(f.fulfillmentId)}/events`, body);
  } catch (error) {
    showProblems(form, general, error, error instanceof ApiError && error.status === 409 ? "type" : null);
    submit.disabled = false;
    focusProblem(form, general);
    return;
  }
  const text = `Recorded ${body.type} for ${f.fulfillmentId}: it is ${lower(after.status)}`;
  await done("fulfillment-result", (order) => `${text}, and the order is now ${lower(order.status)}.`);
}

// --- a return -------------------------------------------------------------------------------------------

const RESOLUTIONS = [
  ["REFUND", "Refund"],
  ["EXCHANGE", "Exchange for the same items"],
];
let unanswered = null; // {request, key}: a return whose answer never came (network, 5xx) is retried with its key

/** Units delivered per SKU, over the order's delivered fulfillments. */
function deliveredLines(order) {
  const units = new Map();
  for (const f of order.fulfillments || []) {
    if (f.status !== "DELIVERED") continue;
    for (const line of f.lines) units.set(line.sku, (units.get(line.sku) || 0) + line.quantity);
  }
  return [...units].map(([sku, quantity]) => ({ sku, quantity }));
}

export function returnForm(order, done) {
  const delivered = deliveredLines(order);
  if (!delivered.length) {
    return h("p", { class: "help", id: "return-unavailable" }, "Nothing is delivered yet: a return can be authorized once a fulfillment is.");
  }
  const general = h("p", { id: "return-error", class: "error action-message", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary", id: "return-submit" }, "Authorize return");
  const form = h(
    "form",
    { id: "return-form", "aria-labelledby": "return-form-heading" },
    h("h3", { id: "return-form-heading" }, "Authorize a return"),
    table("Delivered lines to return", ["SKU", "Delivered", "Quantity to return", "Reason"], delivered.map(returnRow)),
    h(
      "div",
      { class: "filters" },
      field("Resolution", select("return-resolution", "resolution", RESOLUTIONS, "REFUND"), "An exchange sends the same SKUs again"),
      h("div", { class: "field actions" }, submit),
    ),
    general,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    askReturn(order, form, general, delivered, done);
  });
  return form;
}

function returnRow(line, index) {
  const quantity = input(`return-quantity-${index}`, `lines.${index}.quantity`, "number", { min: 0, max: line.quantity, step: 1, value: 0 });
  const reason = input(`return-reason-${index}`, `lines.${index}.reason`, "text", { maxlength: 256 });
  return [
    line.sku,
    num(line.quantity),
    cellField(`Quantity of ${line.sku} to return`, quantity),
    cellField(`Reason for returning ${line.sku}`, reason),
  ];
}

/** A control in a table cell: its label read by assistive technology only (the column says it), and
 * the place for the API's error about it. */
function cellField(label, control) {
  const errorId = `${control.id}-error`;
  control.setAttribute("aria-describedby", errorId);
  return h(
    "td",
    {},
    h("label", { for: control.id, class: "visually-hidden" }, label),
    control,
    h("span", { id: errorId, class: "field-error", "data-field-error": control.name }),
  );
}

/** The return asked for (the lines given a quantity), and which form row each line of it came from. */
function returnRequest(form, delivered) {
  const data = new FormData(form);
  const rows = delivered.map((line, index) => ({
    index,
    sku: line.sku,
    quantity: Number(data.get(`lines.${index}.quantity`) || 0),
    reason: data.get(`lines.${index}.reason`),
  }));
  const asked = rows.filter((row) => row.quantity > 0);
  const body = { lines: asked.map(({ sku, quantity, reason }) => ({ sku, quantity, reason })), resolution: data.get("resolution") };
  if (body.resolution === "EXCHANGE") body.exchangeLines = asked.map(({ sku, quantity }) => ({ sku, quantity }));
  return { body, rows: asked.map((row) => row.index), rowOfSku: new Map(rows.map((row) => [row.sku, row.index])) };
}

function askReturn(order, form, general, delivered, done) {
  showProblems(form, general, null);
  const request = returnRequest(form, delivered);
  if (!request.body.lines.length) {
    general.textContent = "Give a quantity to return for at least one line.";
    form.querySelector("[name='lines.0.quantity']").focus();
    return;
  }
  const what = request.body.lines.map((l) => `${l.quantity} \u00d7 ${l.sku}`).join(", ");
  const how = request.body.resolution === "EXCHANGE" ? "an exchange" : "a refund";
  const submit = form.querySelector("#return-submit");
  confirmInline(submit, `Authorize a return of ${what} for ${how}?`, () => sendReturn(order, form, general, request, done));
}

/** The same key for a retry of a return whose answer was lost; a fresh one for any other submission. */
function keyFor(orderId, body) {
  const request = JSON.stringify([orderId, body]);
  if (!unanswered || unanswered.request !== request) unanswered = { request, key: idempotencyKey() };
  return unanswered.key;
}

async function sendReturn(order, form, general, request, done) {
  const submit = form.querySelector("#return-submit");
  submit.disabled = true;
  let answer;
  try {
    answer = await post(`/orders/${enc(order.orderId)}/returns`, request.body, { "Idempotency-Key": keyFor(order.orderId, request.body) });
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) unanswered = null;
    showReturnProblems(form, general, error, request);
    submit.disabled = false;
    focusProblem(form, general);
    return;
  }
  unanswered = null;
  const refund = money(answer.expectedRefund, answer.currency);
  const text = `Return ${answer.returnId} is ${lower(answer.status)}: the goods must arrive by ${when(answer.deadline)}; expected refund ${refund}.`;
  await done("return-result", () => text);
}

/** The API's problems at the form's rows: `lines.N.x` names the Nth line sent, a policy reason (422)
 * names its SKU; the policy's reasons are also said in full. */
function showReturnProblems(form, general, error, { rows, rowOfSku }) {
  const reasons = (error instanceof ApiError && error.details && error.details.reasons) || [];
  const atRow = (sku) => (rowOfSku.has(sku) ? `lines.${rowOfSku.get(sku)}.quantity` : null);
  const problems = reasons.length
    ? reasons.map((r) => ({ field: atRow(r.sku), message: `${r.code}: ${r.message}` }))
    : fieldProblems(error).map((p) => ({ ...p, field: p.field && p.field.replace(/^lines\.(\d+)\./, (_, n) => `lines.${rows[Number(n)]}.`) }));
  showProblems(form, general, error, null, problems);
  if (reasons.length) general.textContent = `Refused: ${error.message} (${reasons.map((r) => `${r.code}: ${r.message}`).join("; ")}).`;
}

export function returnsTable(order) {
  const found = order.returns || [];
  if (!found.length) return h("p", { class: "help" }, "No returns.");
  return table(
    "Returns",
    ["Return", "Status", "Lines", "Resolution", "Deadline", "Created"],
    found.map((r) => [
      r.returnId,
      statusBadge(r.status),
      (r.lines || []).map((l) => `${l.quantity} \u00d7 ${l.sku} (${l.reason})`).join(", "),
      lower(r.resolution),
      when(r.deadline),
      when(r.createdAt),
    ]),
  );
}
