import { ApiError, get, post } from "../api.js";
import { announce, h, money, statusBadge, when } from "../dom.js";
import { pathList, workflowFigure } from "../workflow-graph.js";
import { deliverySection, eventForms, returnForm, returnsTable } from "./order-actions.js";

// Statuses an order can still be cancelled in (all or its unshipped parts); the API decides (409 else).
const CANCELLABLE = new Set(["RECEIVED", "BACKORDERED", "RESERVED", "FULFILLING", "PARTIALLY_SHIPPED"]);

export async function renderOrder(main, orderId) {
  document.title = `Order ${orderId} - OMS console`;
  main.append(
    h("p", {}, h("a", { href: "/console/orders" }, "\u2190 Orders")),
    h("p", { id: "order-status", role: "status", class: "help" }, "Loading the order\u2026"),
  );
  let order;
  try {
    order = await get(`/orders/${encodeURIComponent(orderId)}`);
  } catch (error) {
    const status = main.querySelector("#order-status");
    status.className = "error";
    status.textContent =
      error instanceof ApiError && error.status === 404 ? `No order ${orderId}.` : `Could not load the order: ${error.message}`;
    return null;
  }
  main.querySelector("#order-status").remove();
  const title = order.orderNumber || order.channelOrderId || order.orderId;
  document.title = `Order ${title} - OMS console`;
  // After an action: the order again, and what the action did said where it was done.
  const done = async (where, text) => {
    const after = await rerender(orderId);
    if (after) showResult("notice success", text(after), where);
  };
  main.append(
    h(
      "div",
      { class: "order-head" },
      h("h1", {}, `Order ${title} `, statusBadge(order.status)),
      actions(order, orderId),
    ),
    h("div", { id: "action-result", role: "status", "aria-live": "polite" }),
    h(
      "div",
      { class: "grid" },
      summary(order),
      money_(order),
      deliverySection(order),
    ),
    lines(order),
    sourcing(order),
    fulfillments(order, done),
    returns(order, done),
    timeline(order),
    h(
      "section",
      { class: "card workflow", "aria-labelledby": "workflow-heading" },
      h("h2", { id: "workflow-heading" }, "Workflow"),
      h("div", { id: "workflow-body" }, h("p", { class: "help", role: "status" }, "Loading the workflow\u2026")),
    ),
  );
  loadWorkflow(main, orderId);
  return order;
}

function actions(order, orderId) {
  const cancel = h(
    "button",
    { type: "button", class: "danger", id: "cancel-order", disabled: !CANCELLABLE.has(order.status) },
    "Cancel order",
  );
  cancel.addEventListener("click", async () => {
    if (!window.confirm(`Cancel order ${order.orderNumber || orderId}? Whatever has not shipped is cancelled.`)) return;
    cancel.disabled = true;
    const result = document.getElementById("action-result");
    result.className = "notice";
    result.textContent = "Cancelling\u2026";
    try {
      const after = await post(`/orders/${encodeURIComponent(orderId)}/cancel`);
      const text = `Cancelled: the order is now ${after.status.replaceAll("_", " ").toLowerCase()}.`;
      await rerender(orderId);
      showResult("notice success", text);
    } catch (error) {
      showResult("notice failure", `Not cancelled: ${error.message}`);
      cancel.disabled = false;
    }
  });
  return h("div", { class: "actions", role: "group", "aria-label": "Actions" }, cancel);
}

/** Say what an action did in `where` (a status region), and move the focus there. */
function showResult(className, text, where = "action-result") {
  const result = document.getElementById(where);
  result.className = `action-message ${className}`;
  result.textContent = text;
  result.tabIndex = -1;
  result.focus();
  announce(text);
}

async function rerender(orderId) {
  const main = document.getElementById("main");
  main.replaceChildren();
  return renderOrder(main, orderId);
}

function section(id, heading, ...content) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, heading), ...content);
}

function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== "").map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

function summary(order) {
  const address = order.shippingAddress;
  return section(
    "summary-heading",
    "Customer and channel",
    facts([
      ["Order id", order.orderId],
      ["Channel", order.channelId],
      ["Channel order id", order.channelOrderId],
      ["Created", when(order.createdAt)],
      ["Customer", order.customer ? `${order.customer.name} <${order.customer.email}>` : ""],
      [
        "Ships to",
        address
          ? [address.name, address.line1, address.line2, `${address.city}${address.region ? ", " + address.region : ""} ${address.postalCode || ""}`, address.country]
              .filter(Boolean)
              .join(", ")
          : "",
      ],
      ["Status reason", order.statusReason],
      ["Archived delivery", order.deliveryId],
    ]),
  );
}

function money_(order) {
  const mismatch = order.totalMismatch;
  return section(
    "money-heading",
    "Money",
    facts([
      ["Total", money(order.total, order.currency)],
      ["Shipping", money(order.shippingPrice, order.currency)],
      ["Order discount", order.orderDiscount && order.orderDiscount !== "0" ? money(order.orderDiscount, order.currency) : ""],
      ["Channel's total", money(order.declaredTotal, order.currency)],
      ["Total mismatch", mismatch ? JSON.stringify(mismatch) : ""],
    ]),
  );
}

function table(label, headings, rows) {
  return h(
    "table",
    { "aria-label": label },
    h("thead", {}, h("tr", {}, headings.map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  );
}

function lines(order) {
  return section(
    "lines-heading",
    "Lines",
    table(
      "Order lines",
      ["SKU", "Item", "Quantity", "Unit price", "Discount", "Tax"],
      (order.lines || []).map((line) => [
        line.sku,
        line.title || "",
        String(line.quantity),
        money(line.unitPrice, order.currency),
        money(line.discountAmount, order.currency),
        money(line.taxAmount, order.currency),
      ]),
    ),
  );
}

function sourcing(order) {
  const plan = order.sourcing;
  if (!plan) {
    const problems = (order.sourcingProblems || []).map((p) => `${p.code}${p.sku ? " " + p.sku : ""}${p.message ? ": " + p.message : ""}`);
    return section("sourcing-heading", "Sourcing plan", h("p", { class: "help" }, problems.length ? `No plan fits: ${problems.join("; ")}` : "No sourcing plan yet."));
  }
  return section(
    "sourcing-heading",
    "Sourcing plan",
    h("p", { class: "reason" }, h("strong", {}, `${plan.decidedBy}: `), plan.explanation),
    table(
      "Planned shipments",
      ["Warehouse", "Lines", "Distance"],
      plan.shipments.map((s) => [
        s.warehouseId,
        s.lines.map((l) => `${l.quantity} \u00d7 ${l.sku}`).join(", "),
        s.distanceKm === null || s.distanceKm === undefined ? "" : `${Math.round(s.distanceKm)} km`,
      ]),
    ),
  );
}

function fulfillments(order, done) {
  const list = order.fulfillments || [];
  return section(
    "fulfillments-heading",
    `Fulfillments (${list.length})`,
    h("p", { id: "fulfillment-result", class: "action-message", role: "status" }),
    list.length
      ? table(
          "Fulfillments",
          ["Fulfillment", "Warehouse", "Status", "Lines", "Carrier", "Tracking"],
          list.map((f) => [
            f.fulfillmentId,
            f.warehouseId,
            statusBadge(f.status),
            f.lines.map((l) => `${l.quantity} \u00d7 ${l.sku}`).join(", "),
            f.carrier || "",
            f.tracking && f.tracking.status ? `${f.trackingNumber || ""} (${f.tracking.status})` : f.trackingNumber || "",
          ]),
        )
      : h("p", { class: "help" }, "None yet."),
    eventForms(order, done),
  );
}

function returns(order, done) {
  const refunds = order.refunds || [];
  return section(
    "returns-heading",
    "Returns and refunds",
    h("p", { id: "return-result", class: "action-message", role: "status" }),
    returnsTable(order),
    refunds.length
      ? table(
          "Refunds",
          ["Refund", "Amount", "Status"],
          refunds.map((r) => [r.refundId || r.reference || "", money(r.amount, r.currency || order.currency), r.status || ""]),
        )
      : null,
    returnForm(order, done),
  );
}

function timeline(order) {
  return section(
    "timeline-heading",
    "Timeline",
    h(
      "ol",
      { class: "timeline" },
      (order.timeline || []).map((entry) =>
        h("li", {}, h("time", { datetime: entry.at }, when(entry.at)), " ", h("strong", {}, entry.status), entry.reason ? ` \u2014 ${entry.reason}` : ""),
      ),
    ),
  );
}

async function loadWorkflow(main, orderId) {
  const body = main.querySelector("#workflow-body");
  let view;
  try {
    view = await get(`/orders/${encodeURIComponent(orderId)}/workflow`);
  } catch (error) {
    body.replaceChildren(h("p", { class: "error" }, `Could not load the workflow: ${error.message}`));
    return;
  }
  const execution = view.execution;
  body.replaceChildren(
    h(
      "p",
      { class: "execution" },
      execution
        ? [
            "Execution ",
            h("strong", { class: "execution-status" }, execution.status.toLowerCase()),
            `, started ${when(execution.startedAt)}`,
            execution.stoppedAt ? `, ended ${when(execution.stoppedAt)}` : "",
            view.waitingIn.length ? `; waiting in ${view.waitingIn.join(", ")}` : "",
            failures(view),
            ".",
          ]
        : "No execution was started for this order.",
    ),
    legend(),
    h("div", { class: "graph-scroll", tabindex: "0", role: "group", "aria-label": "Workflow picture (scrolls)" }, workflowFigure(view)),
    h("h3", {}, "Path taken"),
    pathList(view),
  );
}

function failures(view) {
  const failed = view.path.filter((step) => step.outcome === "FAILED");
  const uncaught = [...new Set(failed.filter((s) => !s.caught).map((s) => s.state))];
  const caught = [...new Set(failed.filter((s) => s.caught).map((s) => s.state))];
  return [
    uncaught.length ? `; failed in ${uncaught.join(", ")}` : "",
    caught.length ? `; a failure was caught in ${caught.join(", ")}` : "",
  ].join("");
}

function legend() {
  const item = (kind, text) => h("li", {}, h("span", { class: `swatch ${kind}`, "aria-hidden": "true" }), text);
  return h(
    "ul",
    { class: "legend", "aria-label": "Legend" },
    item("visited", "\u2714 done"),
    item("waiting", "\u2016 waiting"),
    item("failed", "\u2716 failed"),
    item("caught", "\u26a0 failed, caught"),
    item("unvisited", "not reached"),
  );
}
