import { download, get } from "../api.js";
import { barChart, chartTable } from "../charts.js";
import { announce, h, money } from "../dom.js";
import { daysBefore, duration, failed, field, go, input, percent, section, select, statusLine, today } from "../ui.js";

// The analytics of a period (GET /analytics/summary and /timeseries): orders per day by channel, lead
// times by stage, and the rates as figure tiles. The period and filters are in the URL's query.
const STAGES = [
  ["placedToReserved", "Placed \u2192 reserved"],
  ["reservedToShipped", "Reserved \u2192 shipped"],
  ["shippedToDelivered", "Shipped \u2192 delivered"],
  ["placedToDelivered", "Placed \u2192 delivered (whole order)"],
];

export function renderDashboard(main, query) {
  document.title = "Dashboard - OMS console";
  const to = query.get("to") || today();
  const asked = {
    from: query.get("from") || daysBefore(to, 29),
    to,
    channelId: query.get("channelId") || "",
    warehouseId: query.get("warehouseId") || "",
  };
  const form = periodForm(asked);
  main.append(
    h("div", { class: "order-head" }, h("h1", {}, "Dashboard"), exportButton(asked)),
    form,
    statusLine("dashboard-status", "Loading the analytics\u2026"),
    h("div", { id: "dashboard-body" }),
  );
  fillFilters(form, asked);
  load(main, asked);
}

function periodForm(asked) {
  const form = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Period and filters", id: "period-form" },
    field("From", input("dash-from", "from", "date", { value: asked.from, required: true })),
    field("To", input("dash-to", "to", "date", { value: asked.to, required: true })),
    field("Channel", select("dash-channel", "channelId", [["", "All channels"]], asked.channelId)),
    field("Warehouse", select("dash-warehouse", "warehouseId", [["", "All warehouses"]], asked.warehouseId)),
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "primary" }, "Show")),
    h("p", { class: "help wide" }, "Days are UTC days, both included; by default the last 30 days."),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (String(value).trim()) params.set(name, String(value).trim());
    go(`/console/dashboard?${params}`);
  });
  return form;
}

/** The channel and warehouse choices, from the API (a failure leaves "all" only). */
async function fillFilters(form, asked) {
  const add = (selectElement, ids, chosen) => {
    for (const id of ids) selectElement.append(h("option", { value: id, selected: id === chosen }, id));
    if (chosen && !ids.includes(chosen)) selectElement.append(h("option", { value: chosen, selected: true }, chosen));
  };
  try {
    const [channels, warehouses] = await Promise.all([get("/channels?limit=100"), get("/warehouses")]);
    add(form.querySelector("#dash-channel"), channels.channels.map((c) => c.channelId), asked.channelId);
    add(form.querySelector("#dash-warehouse"), warehouses.warehouses.map((w) => w.warehouseId), asked.warehouseId);
  } catch {
    add(form.querySelector("#dash-channel"), [], asked.channelId);
    add(form.querySelector("#dash-warehouse"), [], asked.warehouseId);
  }
}

function periodParams(asked) {
  const params = new URLSearchParams({ from: asked.from, to: asked.to });
  if (asked.channelId) params.set("channelId", asked.channelId);
  if (asked.warehouseId) params.set("warehouseId", asked.warehouseId);
  return params;
}

function exportButton(asked) {
  const button = h("button", { type: "button", id: "export-csv" }, "Download CSV");
  const note = h("span", { id: "export-status", class: "help", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    note.textContent = "Preparing the CSV\u2026";
    try {
      const { blob, filename } = await download(`/analytics/export?${periodParams(asked)}`);
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: filename, hidden: true }, filename);
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      note.textContent = `Downloaded ${filename}.`;
    } catch (error) {
      note.textContent = `No CSV: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "actions" }, button, " ", note);
}

async function load(main, asked) {
  const status = main.querySelector("#dashboard-status");
  const body = main.querySelector("#dashboard-body");
  const params = periodParams(asked);
  const series = new URLSearchParams(params);
  series.set("metric", "ordersPlaced");
  series.set("interval", "day");
  if (!asked.channelId) series.set("by", "channel");
  let summary, timeseries;
  try {
    [summary, timeseries] = await Promise.all([get(`/analytics/summary?${params}`), get(`/analytics/timeseries?${series}`)]);
  } catch (error) {
    failed(status, "the analytics", error);
    return;
  }
  if (!body.isConnected) return; // another page was opened meanwhile
  const scope = [asked.channelId && `channel ${asked.channelId}`, asked.warehouseId && `warehouse ${asked.warehouseId}`].filter(Boolean);
  status.textContent = `${summary.ordersPlaced} orders placed from ${summary.from} to ${summary.to}${scope.length ? ` (${scope.join(", ")})` : ""}.`;
  body.append(
    tiles(summary),
    h("div", { class: "grid charts" }, ordersPerDay(timeseries, asked), leadTimes(summary)),
  );
  announce(status.textContent);
}

/** Orders per day, a stacked bar per channel (or the one channel asked for). */
function ordersPerDay(timeseries, asked) {
  const days = timeseries.points.map((p) => p.date);
  const perChannel = timeseries.byChannel && Object.keys(timeseries.byChannel).length ? timeseries.byChannel : null;
  const series = perChannel
    ? Object.entries(perChannel).map(([channel, points]) => ({ label: channel, values: points.map((p) => Number(p.value) || 0) }))
    : [{ label: asked.channelId || "All channels", values: timeseries.points.map((p) => Number(p.value) || 0) }];
  const totals = timeseries.points.map((p) => Number(p.value) || 0);
  return section(
    "orders-per-day-heading",
    "Orders per day by channel",
    barChart({ id: "orders-per-day-chart", title: "Orders placed per day, stacked by channel", labels: days.map((d) => d.slice(5)), series, stacked: true }),
    chartTable({
      id: "orders-per-day-table",
      caption: "orders placed per day and channel, newest day first",
      headings: ["Day", ...series.map((s) => s.label), ...(perChannel ? ["All channels"] : [])],
      rows: days.map((day, i) => [day, ...series.map((s) => String(s.values[i])), ...(perChannel ? [String(totals[i])] : [])]).reverse(),
    }),
  );
}

const UNITS = [
  ["days", 86400],
  ["hours", 3600],
  ["minutes", 60],
  ["seconds", 1],
];

/** The unit the longest time reads best in (the chart has one axis). */
function unitFor(seconds) {
  const longest = Math.max(0, ...seconds.filter((s) => s !== null && s !== undefined));
  return UNITS.find(([, size]) => longest >= 2 * size) || UNITS[UNITS.length - 1];
}

/** Lead time by stage, p50 and p90 (on the chart in one unit; the table in readable units). */
function leadTimes(summary) {
  const stages = STAGES.map(([key, label]) => [label, summary.leadTimes[key]]);
  const [unit, size] = unitFor(stages.flatMap(([, t]) => [t.p50Seconds, t.p90Seconds]));
  const scaled = (seconds) => (seconds === null || seconds === undefined ? null : Math.round((seconds / size) * 100) / 100);
  return section(
    "lead-times-heading",
    "Lead time by stage",
    barChart({
      id: "lead-times-chart",
      title: `Lead time by stage, median and 90th percentile, in ${unit}`,
      labels: stages.map(([label]) => label),
      series: [
        { label: `p50 (${unit})`, values: stages.map(([, t]) => scaled(t.p50Seconds)) },
        { label: `p90 (${unit})`, values: stages.map(([, t]) => scaled(t.p90Seconds)) },
      ],
      horizontal: true,
      unit: ` ${unit}`,
    }),
    chartTable({
      id: "lead-times-table",
      caption: "lead time by stage",
      headings: ["Stage", "Count", "p50", "p90", "Mean"],
      rows: stages.map(([label, t]) => [label, String(t.count), duration(t.p50Seconds), duration(t.p90Seconds), duration(t.meanSeconds)]),
    }),
  );
}

function tile(id, label, value, detail) {
  return h(
    "div",
    { class: "tile", id: `tile-${id}`, role: "group", "aria-labelledby": `tile-${id}-label` },
    h("span", { class: "tile-label", id: `tile-${id}-label` }, label),
    h("span", { class: "tile-value" }, value),
    detail ? h("div", { class: "tile-detail" }, [detail].flat().map((part) => (typeof part === "string" ? h("div", {}, part) : part))) : null,
  );
}

function counts(object, empty = "none") {
  const entries = Object.entries(object || {}).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return h("span", { class: "help" }, empty);
  return h("ul", {}, entries.map(([key, n]) => h("li", {}, `${key}: ${n}`)));
}

function amounts(object) {
  const entries = Object.entries(object || {});
  return entries.length ? entries.map(([currency, amount]) => money(amount, currency)).join(" \u00b7 ") : "\u2014";
}

function tiles(s) {
  const km = s.shipments.meanDistanceKm;
  return h(
    "section",
    { class: "tiles", "aria-label": "Figures of the period" },
    tile("orders", "Orders placed", String(s.ordersPlaced), `${s.units} units`),
    tile("backorders", "Backorder rate", percent(s.backorders.rate), `${s.backorders.orders} backordered, ${s.backorders.filled} filled, ${s.backorders.expired} expired`),
    tile("cancellations", "Cancellation rate", percent(s.cancellations.rate), [`${s.cancellations.orders} cancelled`, counts(s.cancellations.reasons, "no reasons")]),
    tile("returns", "Return rate", percent(s.returns.rate), [`${s.returns.returns} returns, ${s.returns.units} units`, counts(s.returns.byReason, "no reasons")]),
    tile("splits", "Shipments per order", s.shipments.shipmentsPerOrder === null ? "\u2014" : s.shipments.shipmentsPerOrder.toFixed(2), `${s.shipments.splitOrders} split of ${s.shipments.ordersPlanned} planned`),
    tile("distance", "Mean shipping distance", km === null ? "\u2014" : `${Math.round(km)} km`, `${s.shipments.shipments} shipments`),
    tile("revenue", "Revenue", amounts(s.revenue), "order totals by currency"),
    tile("refunds", "Refunds", amounts(s.refunds), "refunded by currency"),
    tile("flagged", "Flagged by a carrier", String(s.carrierFlagged), "returned to sender or failed"),
  );
}
