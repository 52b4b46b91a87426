// A tiny element builder: h("a", {href: "/x", class: "y"}, "text", child). Text is always set as text
// (never HTML), so what the API returns cannot inject markup.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function money(amount, currency) {
  if (amount === undefined || amount === null) return "";
  if (!currency) return String(amount);
  try {
    // The API sends decimal strings; Intl formats them without passing through a float's rounding
    // for any amount a currency's smallest unit can express.
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

export function statusBadge(status) {
  const tone = {
    DELIVERED: "good",
    SHIPPED: "good",
    PARTIALLY_DELIVERED: "good",
    CANCELLED: "muted",
    REJECTED: "bad",
    FAILED: "bad",
    BACKORDERED: "warn",
  }[status] || "info";
  return h("span", { class: `badge badge-${tone}` }, status.replaceAll("_", " ").toLowerCase());
}

export function announce(message) {
  const region = document.getElementById("announcer");
  if (region) region.textContent = message;
}
