import { get } from "../api.js";
import { h, when } from "../dom.js";
import { failed, section, settingsFacts, statusLine, table } from "../ui.js";

// Channels, tracking providers and webhook subscriptions: each one's settings (never a secret: the API
// leaves them out, and a field named like one is not shown) and its recent deliveries.
const RECENT = 5;
const KINDS = [
  {
    id: "channels",
    heading: "Channels",
    list: "/channels?limit=100",
    items: (page) => page.channels,
    key: "channelId",
    deliveries: (id) => `/channels/${encodeURIComponent(id)}/deliveries?limit=${RECENT}`,
    extra: (id) => `/channels/${encodeURIComponent(id)}/notifications`,
    rows: inboundRows,
  },
  {
    id: "providers",
    heading: "Tracking providers",
    list: "/tracking-providers?limit=100",
    items: (page) => page.providers,
    key: "providerId",
    deliveries: (id) => `/tracking-providers/${encodeURIComponent(id)}/deliveries?limit=${RECENT}`,
    rows: inboundRows,
  },
  {
    id: "subscriptions",
    heading: "Webhook subscriptions",
    list: "/subscriptions?limit=100",
    items: (page) => page.subscriptions,
    key: "subscriptionId",
    deliveries: (id) => `/subscriptions/${encodeURIComponent(id)}/deliveries?limit=${RECENT}`,
    rows: outboundRows,
  },
];

export function renderSettings(main) {
  document.title = "Settings - OMS console";
  main.append(
    h("h1", {}, "Settings"),
    h("nav", { class: "pager", "aria-label": "Settings sections" }, KINDS.map((k) => h("a", { href: `#${k.id}-heading` }, k.heading))),
  );
  for (const kind of KINDS) {
    const body = h("div", { id: `${kind.id}-body` }, statusLine(`${kind.id}-status`, `Loading ${kind.heading.toLowerCase()}\u2026`));
    main.append(section(`${kind.id}-heading`, kind.heading, body));
    loadKind(kind, body);
  }
}

async function loadKind(kind, body) {
  let items;
  try {
    items = kind.items(await get(kind.list));
  } catch (error) {
    failed(body.querySelector("[role=status]"), kind.heading.toLowerCase(), error);
    return;
  }
  body.querySelector("[role=status]").textContent = items.length ? `${items.length} registered.` : "None registered.";
  for (const item of items) body.append(itemCard(kind, item));
}

function itemCard(kind, item) {
  const id = item[kind.key];
  const deliveries = h("div", { class: "deliveries" }, h("p", { class: "help" }, "Loading recent deliveries\u2026"));
  const extra = kind.extra ? h("div", { class: "extra" }) : null;
  const card = h(
    "article",
    { class: "setting", "data-id": id, "aria-labelledby": `${kind.id}-${id}-title` },
    h("h3", { id: `${kind.id}-${id}-title` }, id),
    h(
      "div",
      { class: "setting-columns" },
      h("div", {}, h("h4", {}, "Settings"), settingsFacts(item, [kind.key]), extra),
      h("div", {}, h("h4", {}, "Recent deliveries"), deliveries),
    ),
  );
  loadDeliveries(kind, id, deliveries);
  if (extra) loadNotifications(kind.extra(id), extra);
  return card;
}

async function loadNotifications(path, element) {
  try {
    const settings = await get(path);
    element.append(h("h4", {}, "Customer e-mails"), settingsFacts(settings, ["channelId"]));
  } catch (error) {
    element.append(h("p", { class: "error" }, `Could not load the e-mail settings: ${error.message}`));
  }
}

async function loadDeliveries(kind, id, element) {
  let page;
  try {
    page = await get(kind.deliveries(id));
  } catch (error) {
    element.replaceChildren(h("p", { class: "error" }, `Could not load the deliveries: ${error.message}`));
    return;
  }
  if (!page.deliveries.length) {
    element.replaceChildren(h("p", { class: "help" }, "No deliveries yet."));
    return;
  }
  element.replaceChildren(kind.rows(id, page.deliveries));
}

/** Deliveries received (a channel's orders, a provider's tracking events), with what became of each. */
function inboundRows(id, deliveries) {
  const latest = (d) => (d.replays && d.replays.length ? d.replays[d.replays.length - 1] : d.result);
  return table(
    `Recent deliveries of ${id}`,
    ["Received", "Delivery", "Outcome", "Order"],
    deliveries.map((d) => {
      const result = latest(d) || {};
      return [when(d.receivedAt), d.deliveryId, [result.outcome || "pending", result.reason ? ` \u2014 ${result.reason}` : ""].join(""), result.orderId || ""];
    }),
    { class: "deliveries-table" },
  );
}

/** Deliveries sent to a subscription's URL, with their attempts. */
function outboundRows(id, deliveries) {
  return table(
    `Recent deliveries to ${id}`,
    ["Event time", "Event", "Status", "Attempts", "Last answer"],
    deliveries.map((d) => {
      const last = d.attempts[d.attempts.length - 1];
      const answer = last ? `${last.result}${last.httpStatus ? ` ${last.httpStatus}` : ""}${last.error ? ` \u2014 ${last.error}` : ""}` : "";
      return [when(d.eventTime), d.eventType, d.status, String(d.attemptCount), answer];
    }),
    { class: "deliveries-table" },
  );
}
