"""The customer tracking page: one self-contained HTML document (inline styles and a small script, no
framework, nothing fetched but its own lookup), and the headers it is served with.

The script renders every value from the lookup with `textContent` (never as HTML), opens a signed link's
order itself (`?token=`), and posts the form to `<page path>/lookup`, so the page works under API
Gateway's stage, a custom domain's base path, or locally. Its Content-Security-Policy allows only that
script and that stylesheet (by their SHA-256), requests to its own origin, and no framing.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

TITLE = "Track your order"

STYLE = """
:root { --ok: #1a7f37; --todo: #d0d7de; --problem: #cf222e; --off: #8c959f; --ink: #1f2328; --soft: #59636e; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #f6f8fa; overflow-wrap: anywhere; }
main { max-width: 46rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 0 0 .25rem; }
h3 { font-size: 1.05rem; margin: 0 0 .5rem; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem; margin: 0 0 1rem; }
form label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
form input { width: 100%; font: inherit; padding: .6rem .7rem; border: 1px solid #8c959f;
  border-radius: 6px; }
form .hint { color: var(--soft); font-size: .875rem; margin: .25rem 0 0; }
button { font: inherit; font-weight: 600; margin-top: 1rem; padding: .6rem 1.2rem; border: 0;
  border-radius: 6px;
  background: #0969da; color: #fff; cursor: pointer; }
button.secondary { background: #eaeef2; color: var(--ink); }
button:focus-visible, input:focus-visible, a:focus-visible {
  outline: 3px solid #0969da; outline-offset: 2px; }
.message { border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; background: #fff8c5;
  border: 1px solid #d4a72c; }
.message:empty { display: none; }
.meta { color: var(--soft); margin: 0 0 .75rem; }
.progress { display: flex; list-style: none; margin: .75rem 0; padding: 0; gap: 4px; }
.progress li { flex: 1 1 0; min-width: 0; font-size: .8rem; color: var(--soft); text-align: center; }
.progress .bar { display: block; height: 10px; border-radius: 5px; background: var(--todo);
  margin-bottom: .3rem; }
.progress .done .bar { background: var(--ok); }
.progress .done { color: var(--ink); }
.progress .current { font-weight: 700; }
.progress .problem .bar { background: var(--problem); }
.progress .problem { color: var(--problem); font-weight: 700; }
.progress.cancelled .bar { background: var(--off); }
.stage { font-weight: 700; margin: 0; }
.stage.problem { color: var(--problem); }
.detail { margin: .25rem 0 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .75rem; margin: .75rem 0; }
dl.facts dt { color: var(--soft); }
dl.facts dd { margin: 0; }
ul.lines, ol.checkpoints { margin: .5rem 0 0; padding-left: 1.25rem; }
ol.checkpoints { list-style: none; padding-left: 0; border-left: 3px solid var(--todo); }
ol.checkpoints li { padding: 0 0 .6rem .75rem; }
ol.checkpoints time { display: block; color: var(--soft); font-size: .85rem; }
table.prices { width: 100%; border-collapse: collapse; }
table.prices th, table.prices td { text-align: left; padding: .3rem .25rem;
  border-bottom: 1px solid #eaeef2; }
table.prices td.amount, table.prices th.amount { text-align: right; white-space: nowrap; }
[hidden] { display: none !important; }
@media (max-width: 480px) { main { padding: .75rem; } .progress li { font-size: .7rem; } }
"""

SCRIPT = """
(function () {
  "use strict";
  var STEPS = [["CONFIRMED", "Confirmed"], ["PREPARING", "Preparing"], ["ON_ITS_WAY", "On its way"],
    ["OUT_FOR_DELIVERY", "Out for delivery"], ["DELIVERED", "Delivered"]];
  var base = window.location.pathname.replace(/\\/+$/, "");
  var form = document.getElementById("lookup");
  var formCard = document.getElementById("lookup-card");
  var message = document.getElementById("message");
  var result = document.getElementById("result");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function day(value) {
    var date = new Date(/^\\d{4}-\\d{2}-\\d{2}$/.test(value) ? value + "T12:00:00Z" : value);
    if (isNaN(date.getTime())) { return String(value); }
    var options = { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" };
    return date.toLocaleDateString(undefined, options);
  }
  function moment(value) {
    var date = new Date(value);
    if (isNaN(date.getTime())) { return String(value); }
    return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
  function money(amount, currency) {
    try {
      var format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
      return format.format(Number(amount));
    }
    catch (ignored) { return amount + " " + currency; }
  }
  function fact(list, term, value) {
    if (value === undefined || value === null || value === "") { return; }
    list.appendChild(el("dt", null, term));
    var dd = el("dd");
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
    list.appendChild(dd);
  }
  function place(parts) {
    return parts.filter(function (p) { return p; }).join(", ");
  }
  function lineText(line) {
    return line.quantity + " \\u00d7 " + (line.title ? line.title + " (" + line.sku + ")" : line.sku);
  }
  function progress(shipment) {
    var bar = el("ol", "progress");
    var reached = STEPS.findIndex(function (s) { return s[0] === shipment.reached; });
    var label = "Progress: " + shipment.stageLabel;
    if (shipment.stage === "CANCELLED") { bar.className += " cancelled"; }
    bar.setAttribute("aria-label", label);
    bar.dataset.stage = shipment.stage;
    STEPS.forEach(function (step, index) {
      var item = el("li", "step");
      var problem = shipment.stage === "EXCEPTION" && index === reached;
      if (shipment.stage !== "CANCELLED" && index <= reached) {
        item.className += problem ? " problem" : " done";
      }
      if (index === reached) { item.className += " current"; item.setAttribute("aria-current", "step"); }
      item.appendChild(el("span", "bar"));
      item.appendChild(el("span", "label", problem ? shipment.stageLabel : step[1]));
      bar.appendChild(item);
    });
    return bar;
  }
  function carrierLink(shipment) {
    if (!shipment.trackingNumber) { return null; }
    var url = shipment.trackingUrl;
    if (!url || !/^https:\\/\\//.test(url)) { return el("span", null, shipment.trackingNumber); }
    var link = el("a", null, shipment.trackingNumber);
    link.href = url;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    return link;
  }
  function renderShipment(shipment, index, count) {
    var card = el("article", "card shipment");
    var title = count > 1 ? "Shipment " + (index + 1) + " of " + count : "Your shipment";
    card.appendChild(el("h3", null, title));
    var problem = shipment.stage === "EXCEPTION" || shipment.stage === "CANCELLED";
    card.appendChild(el("p", "stage" + (problem ? " problem" : ""), shipment.stageLabel));
    if (shipment.detail) { card.appendChild(el("p", "detail", shipment.detail)); }
    card.appendChild(progress(shipment));
    var facts = el("dl", "facts");
    fact(facts, "Carrier", shipment.carrier);
    fact(facts, "Tracking number", carrierLink(shipment));
    fact(facts, "Estimated delivery", shipment.estimatedDelivery ? day(shipment.estimatedDelivery) : null);
    fact(facts, "Delivered", shipment.deliveredAt ? moment(shipment.deliveredAt) : null);
    fact(facts, "Delivering to", shipment.destinationCity);
    card.appendChild(facts);
    var lines = el("ul", "lines");
    shipment.lines.forEach(function (line) { lines.appendChild(el("li", null, lineText(line))); });
    card.appendChild(lines);
    if (shipment.checkpoints.length) {
      card.appendChild(el("h4", null, "Tracking history"));
      var history = el("ol", "checkpoints");
      shipment.checkpoints.forEach(function (checkpoint) {
        var item = el("li");
        var time = el("time", null, moment(checkpoint.at));
        time.setAttribute("datetime", checkpoint.at);
        item.appendChild(time);
        item.appendChild(el("span", null, checkpoint.message));
        var where = place([checkpoint.city, checkpoint.region, checkpoint.country]);
        if (where) { item.appendChild(el("span", "meta", " \\u2014 " + where)); }
        history.appendChild(item);
      });
      card.appendChild(history);
    }
    return card;
  }
  function renderReturns(returns, currency) {
    var card = el("section", "card returns");
    card.setAttribute("aria-label", "Returns");
    card.appendChild(el("h3", null, "Returns"));
    returns.forEach(function (ret) {
      var block = el("div", "return");
      block.appendChild(el("p", "stage", ret.statusLabel));
      var facts = el("dl", "facts");
      fact(facts, "Send back by", ret.sendBackBy ? day(ret.sendBackBy) : null);
      fact(facts, "Refund", ret.refund && currency ? money(ret.refund, currency) : null);
      block.appendChild(facts);
      var lines = el("ul", "lines");
      ret.lines.forEach(function (line) { lines.appendChild(el("li", null, lineText(line))); });
      block.appendChild(lines);
      card.appendChild(block);
    });
    return card;
  }
  function renderPrices(prices) {
    var card = el("section", "card prices");
    card.setAttribute("aria-label", "Order summary");
    card.appendChild(el("h3", null, "Order summary"));
    var table = el("table", "prices");
    var head = el("tr");
    ["Item", "Qty"].forEach(function (t) { head.appendChild(el("th", null, t)); });
    head.appendChild(el("th", "amount", "Price"));
    table.appendChild(head);
    function row(label, quantity, amount) {
      var tr = el("tr");
      tr.appendChild(el("td", null, label));
      tr.appendChild(el("td", null, quantity));
      tr.appendChild(el("td", "amount", money(amount, prices.currency)));
      table.appendChild(tr);
    }
    prices.lines.forEach(function (line) { row(line.title || line.sku, String(line.quantity), line.total); });
    row("Shipping", "", prices.shipping);
    if (Number(prices.discount) > 0) { row("Discount", "", "-" + prices.discount); }
    var total = el("tr", "total");
    total.appendChild(el("th", null, "Total"));
    total.appendChild(el("td"));
    total.appendChild(el("th", "amount", money(prices.total, prices.currency)));
    table.appendChild(total);
    card.appendChild(table);
    return card;
  }
  function render(order) {
    result.replaceChildren();
    var head = el("section", "card summary");
    head.appendChild(el("h2", null, "Order " + order.orderNumber));
    head.appendChild(el("p", "stage", order.statusLabel));
    head.appendChild(el("p", "meta", "Placed " + day(order.placedAt)));
    result.appendChild(head);
    order.shipments.forEach(function (shipment, index) {
      result.appendChild(renderShipment(shipment, index, order.shipments.length));
    });
    if (order.returns.length) {
      result.appendChild(renderReturns(order.returns, order.prices && order.prices.currency));
    }
    if (order.prices) { result.appendChild(renderPrices(order.prices)); }
    var again = el("button", "secondary", "Look up another order");
    again.type = "button";
    again.addEventListener("click", function () {
      result.replaceChildren();
      result.hidden = true;
      formCard.hidden = false;
      document.getElementById("orderNumber").focus();
    });
    result.appendChild(again);
    result.hidden = false;
    formCard.hidden = true;
    head.setAttribute("tabindex", "-1");
    head.focus();
  }
  function showForm(text) {
    message.textContent = text || "";
    result.hidden = true;
    formCard.hidden = false;
  }
  function lookUp(body, onRefused) {
    message.textContent = "";
    return fetch(base + "/lookup", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) { render(answer); return; }
        var error = answer && answer.error ? answer.error : {};
        onRefused(response.status, error);
      });
    }).catch(function () {
      showForm("The order could not be looked up just now. Please try again in a moment.");
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var number = form.elements.orderNumber.value.trim();
    var proof = form.elements.proof.value.trim();
    if (!number || !proof) {
      showForm("Enter your order number and the e-mail address or postal code of the order.");
      return;
    }
    var body = { orderNumber: number };
    if (proof.indexOf("@") >= 0) { body.email = proof; } else { body.postalCode = proof; }
    var button = form.querySelector("button");
    button.disabled = true;
    lookUp(body, function (status) {
      if (status === 429) {
        showForm("Too many attempts. Please wait a few seconds and try again.");
      } else if (status === 400) {
        showForm("Please check the order number and the e-mail address or postal code.");
      } else {
        showForm("We could not find an order with that order number and e-mail address or postal code.");
      }
    }).finally(function () { button.disabled = false; });
  });
  var token = new URLSearchParams(window.location.search).get("token");
  if (token) {
    formCard.hidden = true;
    message.textContent = "Opening your order\\u2026";
    lookUp({ token: token }, function (status, error) {
      if (error.code === "LINK_EXPIRED") {
        showForm("This link has expired. Look your order up with its order number instead.");
      } else if (status === 429) {
        showForm("Too many attempts. Please wait a few seconds and reload the page.");
      } else {
        showForm("This link is invalid. Look your order up with its order number instead.");
      }
    });
  }
})();
"""

BODY = """<main>
<h1>Track your order</h1>
<div id="message" class="message" role="alert" aria-live="polite"></div>
<noscript><p class="message">This page needs JavaScript to look your order up.</p></noscript>
<section id="lookup-card" class="card" aria-labelledby="lookup-title">
<h2 id="lookup-title">Find your order</h2>
<form id="lookup" novalidate>
<label for="orderNumber">Order number</label>
<input id="orderNumber" name="orderNumber" autocomplete="off" maxlength="64" required
  aria-describedby="number-hint">
<p id="number-hint" class="hint">As shown in your order confirmation, for example #1001.</p>
<label for="proof">E-mail address or postal code</label>
<input id="proof" name="proof" autocomplete="off" maxlength="254" required aria-describedby="proof-hint">
<p id="proof-hint" class="hint">The e-mail address you ordered with, or the postal code the order ships
to.</p>
<button type="submit">Track order</button>
</form>
</section>
<div id="result" hidden></div>
</main>"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def page() -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            '<link rel="icon" href="data:,">',
            f"<title>{TITLE}</title>",
            f"<style>{STYLE}</style></head>",
            f"<body>{BODY}",
            f"<script>{SCRIPT}</script>",
            "</body></html>",
        ]
    )


@cache
def content_security_policy() -> str:
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hash(SCRIPT)}",
            f"style-src {_hash(STYLE)}",
            "connect-src 'self'",
            "img-src data:",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


# Every answer of the page's function: nothing cached (a link's answer has prices), nothing sniffed,
# no Referer (the page's address may hold a token), never framed.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def page_headers() -> dict[str, str]:
    return {"Content-Security-Policy": content_security_policy()}
