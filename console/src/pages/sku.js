import { ApiError, get, post } from "../api.js";
import { announce, h, when } from "../dom.js";
import { failed, field, input, num, section, select, showProblems, statusLine, table } from "../ui.js";

// One SKU: its locations (GET /inventory/{sku}), an adjustment form (POST .../adjustments, a fresh
// Idempotency-Key per submission) and the ledger (GET /inventory/{sku}/ledger), older entries on demand.
const REASONS = ["RECEIPT", "CYCLE_COUNT", "DAMAGE", "CORRECTION"];
const LEDGER_PAGE = 20;

export async function renderSku(main, sku) {
  document.title = `${sku} - Inventory - OMS console`;
  main.append(
    h("p", {}, h("a", { href: "/console/inventory" }, "\u2190 Inventory")),
    h("h1", {}, `Stock of ${sku}`),
    statusLine("sku-status", "Loading the stock\u2026"),
  );
  const status = main.querySelector("#sku-status");
  let view;
  try {
    view = await get(`/inventory/${encodeURIComponent(sku)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      status.className = "error";
      status.textContent = `No stock of ${sku} anywhere.`;
    } else failed(status, "the stock", error);
    return;
  }
  if (!status.isConnected) return; // another page was opened meanwhile
  status.textContent = `On hand ${view.onHand}, reserved ${view.reserved}, available ${view.available} over ${view.locations.length} locations.`;
  main.append(locations(view), adjustForm(sku, view), ledger(sku, view));
}

function locations(view) {
  return section(
    "locations-heading",
    "Locations",
    table(
      "Locations",
      ["Warehouse", "On hand", "Reserved", "Safety stock", "Available"],
      [
        ...view.locations.map((l) => [l.warehouseId, num(l.onHand), num(l.reserved), num(l.safetyStock), num(l.available)]),
        [h("strong", {}, "All warehouses"), num(view.onHand), num(view.reserved), num(view.safetyStock), num(view.available)],
      ],
      { id: "locations-table" },
    ),
  );
}

function idempotencyKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `adj-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function adjustForm(sku, view) {
  const warehouses = view.locations.map((l) => [l.warehouseId, l.warehouseId]);
  const general = h("p", { id: "adjust-result", role: "alert", class: "error" });
  const form = h(
    "form",
    { class: "filters", id: "adjust-form", "aria-label": "Adjust the stock" },
    field("Warehouse", select("adjust-warehouse", "warehouseId", warehouses, warehouses.length ? warehouses[0][0] : "")),
    field("Change (units)", input("adjust-delta", "delta", "number", { step: "1", required: true }), "Negative removes stock"),
    field("Reason", select("adjust-reason", "reason", REASONS.map((r) => [r, r.replaceAll("_", " ").toLowerCase()]), "RECEIPT")),
    field("Reference", input("adjust-reference", "reference", "text", { placeholder: "receipt or case number" })),
    field("Note", input("adjust-note", "note", "text")),
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "primary" }, "Adjust")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitAdjustment(sku, form, general);
  });
  return section("adjust-heading", "Adjust the stock", form, general);
}

async function submitAdjustment(sku, form, general) {
  const data = Object.fromEntries(new FormData(form));
  const body = { delta: Number.parseInt(data.delta, 10), reason: data.reason };
  if (Number.isNaN(body.delta)) body.delta = data.delta; // let the API name what is wrong
  if (data.reference.trim()) body.reference = data.reference.trim();
  if (data.note.trim()) body.note = data.note.trim();
  const path = `/inventory/${encodeURIComponent(sku)}/locations/${encodeURIComponent(data.warehouseId)}/adjustments`;
  showProblems(form, general, null);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await post(path, body, { "Idempotency-Key": idempotencyKey() });
    const text = `Adjusted: ${data.warehouseId} now has ${answer.location.onHand} on hand.`;
    const main = document.getElementById("main");
    main.replaceChildren();
    await renderSku(main, sku);
    const notice = h("p", { id: "adjust-done", class: "notice success", role: "status" }, text);
    main.querySelector("#sku-status").after(notice);
    announce(text);
  } catch (error) {
    showProblems(form, general, error, error instanceof ApiError && error.status === 409 ? "delta" : null);
    button.disabled = false;
  }
}

function ledgerRow(e) {
  const signed = (n) => (n > 0 ? `+${n}` : String(n));
  return [
    when(e.at),
    e.warehouseId,
    e.kind,
    e.reason || "",
    num(signed(e.onHandDelta)),
    num(signed(e.reservedDelta)),
    num(e.onHand),
    num(e.reserved),
    [e.actor, e.reference ? ` \u00b7 ${e.reference}` : "", e.orderId ? ` \u00b7 ${e.orderId}` : ""].join(""),
  ];
}

function ledger(sku, view) {
  const choices = [["", "All warehouses"], ...view.locations.map((l) => [l.warehouseId, l.warehouseId])];
  const filter = select("ledger-warehouse", "warehouseId", choices, "");
  const body = h("div", { id: "ledger-body" });
  filter.addEventListener("change", () => loadLedger(sku, filter.value, "", body, true));
  loadLedger(sku, "", "", body, true);
  return section("ledger-heading", "Ledger", h("div", { class: "filters" }, field("Warehouse", filter)), body);
}

async function loadLedger(sku, warehouseId, cursor, body, fresh) {
  const params = new URLSearchParams({ limit: String(LEDGER_PAGE) });
  if (warehouseId) params.set("warehouseId", warehouseId);
  if (cursor) params.set("cursor", cursor);
  let page;
  try {
    page = await get(`/inventory/${encodeURIComponent(sku)}/ledger?${params}`);
  } catch (error) {
    body.replaceChildren(h("p", { class: "error" }, `Could not load the ledger: ${error.message}`));
    return;
  }
  if (fresh) {
    body.replaceChildren(
      table("Ledger entries, newest first", ["When", "Warehouse", "Kind", "Reason", "On hand \u0394", "Reserved \u0394", "On hand", "Reserved", "By"], [], { id: "ledger-table" }),
    );
  }
  const tbody = body.querySelector("#ledger-table tbody");
  const rows = table("", [], page.entries.map(ledgerRow)).querySelectorAll("tbody tr");
  tbody.append(...rows);
  body.querySelector("#ledger-more")?.remove();
  if (page.nextCursor) {
    const more = h("button", { type: "button", id: "ledger-more" }, "Older entries");
    more.addEventListener("click", () => loadLedger(sku, warehouseId, page.nextCursor, body, false));
    body.append(more);
  }
}
