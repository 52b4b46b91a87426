import { get, post } from "../api.js";
import { announce, h } from "../dom.js";
import { failed, field, go, input, num, pager, section, statusLine, table } from "../ui.js";

// The stock list (GET /inventory, cursor pages), a look-up of SKUs (?skus=), and the counted-stock
// import (POST /stock-counts, 100 rows a request) from a CSV file.
const PAGE_SIZE = 25;
const IMPORT_BATCH = 100;

const skuLink = (sku) => h("a", { href: `/console/inventory/${encodeURIComponent(sku)}`, class: "sku-link" }, sku);

export function renderInventory(main, query) {
  document.title = "Inventory - OMS console";
  const skus = query.get("skus") || "";
  main.append(h("h1", {}, "Inventory"), lookupForm(skus), statusLine("inventory-status", "Loading the stock\u2026"));
  // `limit` (the page size) stays in the URL, like the orders list's, though no field sets it.
  const limit = query.get("limit") || "";
  if (skus) loadSkus(main, skus);
  else loadPage(main, limit, query.get("cursor") || "", query.getAll("back"));
  main.append(importForm());
}

function lookupForm(skus) {
  const form = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Look up SKUs" },
    field("SKUs", input("lookup-skus", "skus", "search", { value: skus || undefined, placeholder: "MUG-BLUE, TEE-M" }), "Comma-separated, at most 100"),
    h(
      "div",
      { class: "field actions" },
      h("button", { type: "submit", class: "primary" }, "Look up"),
      h("a", { href: "/console/inventory", class: "button" }, "All stock"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = form.querySelector("#lookup-skus").value.trim();
    go(value ? `/console/inventory?skus=${encodeURIComponent(value)}` : "/console/inventory");
  });
  return form;
}

const levelRow = (level) => [skuLink(level.sku), level.warehouseId, num(level.onHand), num(level.reserved), num(level.safetyStock), num(level.available)];
const LEVEL_HEADINGS = ["SKU", "Warehouse", "On hand", "Reserved", "Safety stock", "Available"];

async function loadPage(main, limit, cursor, previous) {
  const status = main.querySelector("#inventory-status");
  const params = new URLSearchParams({ limit: limit || String(PAGE_SIZE) });
  if (cursor) params.set("cursor", cursor);
  let page;
  try {
    page = await get(`/inventory?${params}`);
  } catch (error) {
    failed(status, "the stock", error);
    return;
  }
  status.textContent = page.inventory.length ? `${page.inventory.length} locations on this page.` : "No stock recorded.";
  status.after(
    table("Stock by location", LEVEL_HEADINGS, page.inventory.map(levelRow), { class: "orders", id: "stock-table" }),
    pager("/console/inventory", limit ? { limit } : {}, cursor, previous, page.nextCursor),
  );
}

async function loadSkus(main, skus) {
  const status = main.querySelector("#inventory-status");
  let found;
  try {
    found = await get(`/inventory?skus=${encodeURIComponent(skus)}`);
  } catch (error) {
    failed(status, "those SKUs", error);
    return;
  }
  const rows = found.inventory.flatMap((view) => view.locations.map(levelRow));
  status.textContent = `${found.inventory.length} SKUs found${found.unknown.length ? `; stocked nowhere: ${found.unknown.join(", ")}` : ""}.`;
  status.after(table("Stock of the SKUs asked for", LEVEL_HEADINGS, rows, { class: "orders", id: "stock-table" }));
}

// --- the CSV import -------------------------------------------------------------------------------------

function importForm() {
  const file = input("import-file", "file", "file", { accept: ".csv,text/csv", required: true });
  const progress = h("progress", { id: "import-progress", max: "1", value: "0", "aria-label": "Import progress", hidden: true });
  const message = h("p", { id: "import-status", role: "status", class: "help" });
  const report = h("div", { id: "import-report" });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Import counted stock" },
    field("CSV file", file, "Columns sku,warehouseId,onHand[,safetyStock]; a first line naming them is skipped"),
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "primary" }, "Import")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    await runImport(file.files[0], { progress, message, report });
  });
  return section("import-heading", "Import counted stock", form, progress, message, report);
}

/** Rows of a CSV file: [line, {sku, warehouseId, onHand, safetyStock?}] or [line, null, problem]. */
export function parseCounts(text) {
  const rows = [];
  text.replace(/^\ufeff/, "").split(/\r?\n/).forEach((line, index) => {
    const cells = line.split(",").map((cell) => cell.trim().replace(/^"(.*)"$/, "$1"));
    if (!cells.some(Boolean) || (index === 0 && cells[0] === "sku")) return;
    if (cells.length < 3 || cells.length > 4) return rows.push([index + 1, null, `expected 3 or 4 columns, found ${cells.length}`]);
    const [sku, warehouseId, onHand, safetyStock] = cells;
    const whole = (v) => /^-?\d+$/.test(v);
    if (!whole(onHand) || (safetyStock && !whole(safetyStock))) return rows.push([index + 1, null, "onHand and safetyStock must be whole numbers"]);
    const row = { sku, warehouseId, onHand: Number(onHand) };
    if (safetyStock) row.safetyStock = Number(safetyStock);
    rows.push([index + 1, row]);
  });
  return rows;
}

async function runImport(file, { progress, message, report }) {
  const rows = parseCounts(await file.text());
  const valid = rows.filter(([, row]) => row);
  const outcome = rows.filter(([, row]) => !row).map(([line, , problem]) => [String(line), "", "", "UNREADABLE", problem]);
  progress.hidden = false;
  progress.max = Math.max(valid.length, 1);
  progress.value = 0;
  report.replaceChildren();
  for (let start = 0; start < valid.length; start += IMPORT_BATCH) {
    const batch = valid.slice(start, start + IMPORT_BATCH);
    message.textContent = `Importing rows ${start + 1}\u2013${start + batch.length} of ${valid.length}\u2026`;
    try {
      const answer = await post("/stock-counts", { counts: batch.map(([, row]) => row), reference: file.name });
      for (const result of answer.results) {
        const line = batch[result.index][0];
        outcome.push([String(line), result.sku, result.warehouseId, result.outcome, result.error ? result.error.message : ""]);
      }
    } catch (error) {
      for (const [line, row] of batch) outcome.push([String(line), row.sku, row.warehouseId, "FAILED", error.message]);
    }
    progress.value = start + batch.length;
  }
  const tally = (kind) => outcome.filter((row) => row[3] === kind).length;
  message.textContent = `${rows.length} rows: ${tally("APPLIED")} applied, ${tally("UNCHANGED")} unchanged, ${outcome.length - tally("APPLIED") - tally("UNCHANGED")} not imported.`;
  announce(message.textContent);
  outcome.sort((a, b) => Number(a[0]) - Number(b[0]));
  report.append(table("Import report", ["Line", "SKU", "Warehouse", "Outcome", "Error"], outcome, { id: "import-table" }));
}
