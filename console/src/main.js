import "./style.css";
import { apiKey, cognitoSettings, loadConfig, signedIn } from "./api.js";
import { completeSignIn, signOutOfCognito } from "./auth.js";
import { renderSignIn } from "./pages/signin.js";
import { renderOrders } from "./pages/orders.js";
import { renderOrder } from "./pages/order.js";
import { renderDashboard } from "./pages/dashboard.js";
import { renderInventory } from "./pages/inventory.js";
import { renderSku } from "./pages/sku.js";
import { renderWarehouses } from "./pages/warehouses.js";
import { renderSettings } from "./pages/settings.js";
import { destroyCharts } from "./charts.js";

// Client routing under /console/: the local runtime (and later CloudFront) answers index.html for every
// path below it, and this picks the page.
export const BASE = "/console";

const routes = [
  [/^\/?$/, () => navigate(`${BASE}/orders`, { replace: true })],
  [/^\/orders\/?$/, (_, query) => renderOrders(main(), query)],
  [/^\/orders\/([^/]+)\/?$/, ([, orderId]) => renderOrder(main(), decodeURIComponent(orderId))],
  [/^\/dashboard\/?$/, (_, query) => renderDashboard(main(), query)],
  [/^\/inventory\/?$/, (_, query) => renderInventory(main(), query)],
  [/^\/inventory\/([^/]+)\/?$/, ([, sku]) => renderSku(main(), decodeURIComponent(sku))],
  [/^\/warehouses\/?$/, () => renderWarehouses(main())],
  [/^\/settings\/?$/, () => renderSettings(main())],
];

function main() {
  const element = document.getElementById("main");
  destroyCharts(element);
  element.replaceChildren();
  return element;
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

// Where the hosted UI sends the browser back with ?code= (the app client's callback URL).
const CALLBACK = "/callback";

async function completeCallback() {
  const cognito = cognitoSettings();
  const element = main();
  element.append(Object.assign(document.createElement("p"), { textContent: "Signing in…" }));
  try {
    if (!cognito) throw new Error("sign-in with Cognito is not configured here");
    navigate(await completeSignIn(cognito, new URLSearchParams(location.search)), { replace: true });
  } catch (error) {
    history.replaceState(null, "", `${BASE}/`);
    render(`Sign-in failed: ${error.message}`);
  }
}

function render(signInMessage = "") {
  const signOut = document.getElementById("sign-out");
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  if (path === CALLBACK || path === CALLBACK + "/") {
    signOut.hidden = true;
    completeCallback();
    return;
  }
  if (!signedIn()) {
    signOut.hidden = true;
    renderSignIn(main(), () => render(), { cognito: cognitoSettings(), message: signInMessage });
    return;
  }
  signOut.hidden = false;
  const query = new URLSearchParams(location.search);
  for (const [pattern, page] of routes) {
    const match = path.match(pattern);
    if (match) {
      page(match, query);
      markNav(path);
      return;
    }
  }
  const element = main();
  element.append(Object.assign(document.createElement("h1"), { textContent: "Page not found" }));
  const back = Object.assign(document.createElement("a"), { href: `${BASE}/orders`, textContent: "Orders" });
  element.append(back);
}

function markNav(path) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (path.startsWith("/" + link.dataset.nav)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// Links inside the console navigate without reloading the page.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE + "/")) return;
  if (url.hash && url.pathname === location.pathname) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener("popstate", () => render());
document.getElementById("sign-out").addEventListener("click", () => {
  apiKey.clear();
  // With a staff token, the hosted UI ends its session too and sends the browser back here.
  if (!signOutOfCognito(cognitoSettings())) render();
});

loadConfig().then(() => render(), (error) => {
  const element = main();
  element.append(
    Object.assign(document.createElement("p"), {
      className: "error",
      role: "alert",
      textContent: `The console could not load its settings: ${error.message}`,
    }),
  );
});
