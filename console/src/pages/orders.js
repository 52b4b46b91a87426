import { ApiError, get } from "../api.js";
import { h, money, statusBadge, when } from "../dom.js";

export const STATUSES = [
  "RECEIVED",
  "REJECTED",
  "BACKORDERED",
  "RESERVED",
  "FULFILLING",
  "PARTIALLY_SHIPPED",
  "SHIPPED",
  "PARTIALLY_DELIVERED",
  "DELIVERED",
  "CANCELLED",
  "FAILED",
];
// `limit` (the page size) is kept in the URL with the filters, though no field sets it.
const FILTERS = ["status", "channelId", "createdFrom", "createdBefore", "orderNumber", "email", "limit"];
const PAGE_SIZE = 25;

/** The orders list: filters in the URL's query (so a filtered list can be linked), newest first. */
export function renderOrders(main, query) {
  document.title = "Orders - OMS console";
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
  const cursor = query.get("cursor") || "";
  const previous = query.getAll("back"); // the cursors of the pages before this one

  main.append(
    h("h1", {}, "Orders"),
    filterForm(filters),
    h("p", { id: "orders-status", class: "help", role: "status" }, "Loading orders\u2026"),
  );
  load(main, filters, cursor, previous);
}

function field(label, control) {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

function filterForm(filters) {
  const status = h(
    "select",
    { id: "filter-status", name: "status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === filters.status }, s.replaceAll("_", " ").toLowerCase())),
  );
  const input = (id, name, type, extra = {}) =>
    h("input", { id, name, type, value: filters[name] || undefined, ...extra });
  const form = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Filter orders", method: "get", action: "/console/orders" },
    field("Status", status),
    field("Channel", input("filter-channel", "channelId", "text", { placeholder: "e.g. demo-store" })),
    field("Created from", input("filter-from", "createdFrom", "date")),
    field("Created before", input("filter-before", "createdBefore", "date")),
    field(
      "Order number",
      input("filter-number", "orderNumber", "search", { placeholder: "#1001 or the channel's id" }),
    ),
    field(
      "Customer e-mail",
      input("filter-email", "email", "email", { placeholder: "grace@example.com", autocomplete: "off" }),
    ),
    h(
      "div",
      { class: "field actions" },
      h("button", { type: "submit", class: "primary" }, "Apply filters"),
      h("a", { href: "/console/orders", class: "button" }, "Clear"),
    ),
  );
  // Only the filters given go in the URL (the first page of the new list), without reloading the app.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (String(value).trim()) params.set(name, String(value).trim());
    const query = params.toString();
    history.pushState(null, "", `/console/orders${query ? "?" + query : ""}`);
    window.dispatchEvent(new PopStateEvent("popstate"));
  });
  return form;
}

async function load(main, filters, cursor, previous) {
  const status = main.querySelector("#orders-status");
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  if (cursor) params.set("cursor", cursor);
  let page;
  try {
    page = await get(`/orders?${params}`);
  } catch (error) {
    status.className = "error";
    status.textContent = describe(error);
    return;
  }
  status.textContent = page.orders.length
    ? `${page.orders.length} order${page.orders.length === 1 ? "" : "s"} on this page, newest first.`
    : "No orders match these filters.";
  if (page.orders.length) main.append(table(page.orders));
  main.append(pager(filters, cursor, previous, page.nextCursor));
}

function describe(error) {
  if (error instanceof ApiError && error.details && error.details.length) {
    return `${error.message}: ` + error.details.map((d) => `${d.field}: ${d.message}`).join("; ");
  }
  return `Could not load the orders: ${error.message}`;
}

function table(orders) {
  return h(
    "table",
    { class: "orders", "aria-label": "Orders" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Order", "Status", "Channel", "Customer", "Total", "Created"].map((title) => h("th", { scope: "col" }, title)),
      ),
    ),
    h(
      "tbody",
      {},
      orders.map((order) =>
        h(
          "tr",
          { "data-order-id": order.orderId },
          h(
            "th",
            { scope: "row" },
            h(
              "a",
              { href: `/console/orders/${encodeURIComponent(order.orderId)}`, class: "order-link" },
              order.orderNumber || order.channelOrderId || order.orderId,
            ),
            h("span", { class: "sub" }, order.orderId),
          ),
          h("td", {}, statusBadge(order.status)),
          h("td", {}, order.channelId),
          h("td", {}, order.customer ? order.customer.name : ""),
          h("td", { class: "number" }, order.total ? money(order.total, order.currency) : ""),
          h("td", {}, when(order.createdAt)),
        ),
      ),
    ),
  );
}

function pager(filters, cursor, previous, nextCursor) {
  const link = (label, nextCursorValue, backs) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
    if (nextCursorValue) params.set("cursor", nextCursorValue);
    for (const back of backs) params.append("back", back);
    return h("a", { href: `/console/orders?${params}`, class: "button" }, label);
  };
  const parts = [];
  if (cursor) {
    const before = previous.slice(0, -1);
    parts.push(link("Previous page", previous.length ? previous[previous.length - 1] : "", before));
  }
  if (nextCursor) parts.push(link("Next page", nextCursor, [...previous, cursor]));
  return h("nav", { class: "pager", "aria-label": "Pages" }, parts);
}
