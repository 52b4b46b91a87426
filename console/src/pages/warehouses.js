import { get } from "../api.js";
import { announce, h, svg } from "../dom.js";
import { daysBefore, failed, field, input, num, percent, section, showProblems, statusLine, table, today } from "../ui.js";

// The warehouses on an equirectangular drawing of their latitude and longitude (drawn here, nothing
// fetched from a tile server), their table, the finder (GET /warehouses?near|postalCode|city) and the
// analytics' top warehouses of a country (GET /analytics/warehouses).
const WIDTH = 960;
const HEIGHT = 380;
const PAD = 36;

export async function renderWarehouses(main) {
  document.title = "Warehouses - OMS console";
  main.append(h("h1", {}, "Warehouses"), statusLine("warehouses-status", "Loading the warehouses\u2026"));
  const status = main.querySelector("#warehouses-status");
  let list;
  try {
    list = await get("/warehouses");
  } catch (error) {
    failed(status, "the warehouses", error);
    return;
  }
  if (!status.isConnected) return; // another page was opened meanwhile
  status.textContent = `${list.warehouses.length} warehouses.`;
  const drawing = h("div", { id: "warehouse-map-box" }, mapFigure(list.warehouses, null, []));
  main.append(
    h("div", { class: "grid" }, finder(list.warehouses, drawing), regionAnalytics()),
    section("map-heading", "Where they are", drawing),
    section("list-heading", "All warehouses", warehouseTable(list.warehouses)),
  );
}

function warehouseTable(warehouses) {
  return table(
    "Warehouses",
    ["Warehouse", "Name", "Country", "Latitude", "Longitude", "Daily capacity"],
    warehouses.map((w) => [w.warehouseId, w.name, w.country, num(w.latitude.toFixed(4)), num(w.longitude.toFixed(4)), num(w.dailyOrderCapacity ?? "no limit")]),
    { id: "warehouses-table" },
  );
}

/** The extent to draw: the points' bounding box, padded, at least 20 degrees each way. */
function extent(points) {
  const lats = points.map((p) => p.latitude);
  const lons = points.map((p) => p.longitude);
  let [south, north, west, east] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const grow = (low, high, least, limit) => {
    const middle = (low + high) / 2;
    const half = Math.max((high - low) * 0.6, least / 2);
    return [Math.max(middle - half, -limit), Math.min(middle + half, limit)];
  };
  [south, north] = grow(south, north, 20, 90);
  [west, east] = grow(west, east, 20 * (WIDTH / HEIGHT) * 0.5, 180);
  return { south, north, west, east };
}

function projection(box) {
  // Equirectangular, one scale for both axes (cos of the middle latitude), centred in the frame.
  const kx = Math.cos(((box.south + box.north) / 2) * (Math.PI / 180));
  const scale = Math.min((WIDTH - 2 * PAD) / ((box.east - box.west) * kx), (HEIGHT - 2 * PAD) / (box.north - box.south));
  const x0 = WIDTH / 2 - ((box.west + box.east) / 2) * kx * scale;
  const y0 = HEIGHT / 2 + ((box.south + box.north) / 2) * scale;
  return (lat, lon) => [x0 + lon * kx * scale, y0 - lat * scale];
}

function graticule(box, project) {
  const lines = [];
  const step = box.east - box.west > 60 ? 20 : box.east - box.west > 25 ? 10 : 5;
  for (let lon = Math.ceil(box.west / step) * step; lon <= box.east; lon += step) {
    const [x1, y1] = project(box.north, lon);
    const [, y2] = project(box.south, lon);
    lines.push(svg("line", { x1, y1, x2: x1, y2, class: "graticule" }), svg("text", { x: x1 + 3, y: HEIGHT - 8, class: "graticule-label" }, `${lon}\u00b0`));
  }
  for (let lat = Math.ceil(box.south / step) * step; lat <= box.north; lat += step) {
    const [x1, y] = project(lat, box.west);
    const [x2] = project(lat, box.east);
    lines.push(svg("line", { x1, y1: y, x2, y2: y, class: "graticule" }), svg("text", { x: 6, y: y - 3, class: "graticule-label" }, `${lat}\u00b0`));
  }
  return lines;
}

/** The drawing: every warehouse as a dot; with a ranking, the origin, and the top ones numbered. */
export function mapFigure(warehouses, origin, ranked) {
  const points = [...warehouses, ...(origin ? [origin] : [])];
  const box = extent(points.length ? points : [{ latitude: 0, longitude: 0 }]);
  const project = projection(box);
  const rank = new Map(ranked.slice(0, 3).map((w, i) => [w.warehouseId, i + 1]));
  const description = origin
    ? `Ranked from ${origin.name || `${origin.latitude}, ${origin.longitude}`}: ${ranked.slice(0, 3).map((w, i) => `${i + 1}. ${w.warehouseId} ${w.distanceKm} km`).join(", ")}.`
    : `${warehouses.length} warehouses: ${warehouses.map((w) => w.warehouseId).join(", ")}.`;
  const figure = svg(
    "svg",
    { class: "warehouse-map", id: "warehouse-map", role: "img", "aria-labelledby": "map-title map-desc", viewBox: `0 0 ${WIDTH} ${HEIGHT}` },
    svg("title", { id: "map-title" }, "Warehouses by latitude and longitude (equirectangular)"),
    svg("desc", { id: "map-desc" }, description),
    svg("rect", { x: 0, y: 0, width: WIDTH, height: HEIGHT, class: "sea" }),
    graticule(box, project),
  );
  if (origin) {
    const [ox, oy] = project(origin.latitude, origin.longitude);
    for (const w of ranked.slice(0, 3)) {
      const [x, y] = project(w.latitude, w.longitude);
      figure.append(svg("line", { x1: ox, y1: oy, x2: x, y2: y, class: "route" }));
    }
    figure.append(
      svg("g", { class: "origin", "data-origin": "true" }, svg("path", { d: `M ${ox - 8} ${oy} H ${ox + 8} M ${ox} ${oy - 8} V ${oy + 8}` }), svg("text", { x: ox, y: oy - 14, "text-anchor": "middle" }, origin.name || "origin")),
    );
  }
  for (const w of warehouses) {
    const [x, y] = project(w.latitude, w.longitude);
    const place = rank.get(w.warehouseId);
    figure.append(
      svg(
        "g",
        { class: `warehouse${place ? ` top top-${place}` : ""}`, "data-warehouse": w.warehouseId, "data-rank": place || "" },
        svg("circle", { cx: x, cy: y, r: place ? 9 : 6 }),
        place ? svg("text", { x, y: y + 4, "text-anchor": "middle", class: "rank" }, String(place)) : null,
        svg("text", { x: x + 12, y: y - 8, class: "label" }, w.warehouseId),
      ),
    );
  }
  return figure;
}

function finder(warehouses, drawing) {
  const general = h("p", { id: "finder-error", role: "alert", class: "error" });
  const results = h("div", { id: "finder-results" });
  const form = h(
    "form",
    { class: "filters", id: "finder-form", "aria-label": "Find the nearest warehouses" },
    field("Point (lat,lon)", input("finder-near", "near", "text", { placeholder: "42.36,-71.06" })),
    field("Postal code", input("finder-postal", "postalCode", "text", { placeholder: "02108", size: 8 })),
    field("City", input("finder-city", "city", "text", { placeholder: "Boston" })),
    field("Region", input("finder-region", "region", "text", { placeholder: "MA", size: 6 })),
    field("Country", input("finder-country", "country", "text", { placeholder: "US", size: 4, maxlength: 2 })),
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "primary" }, "Find")),
    h("p", { class: "help wide" }, "Give one place: a point, a postal code (US ZIP) with its country, or a city with its country."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ limit: "5" });
    for (const [name, value] of new FormData(form)) if (String(value).trim()) params.set(name, name === "country" ? String(value).trim().toUpperCase() : String(value).trim());
    showProblems(form, general, null);
    try {
      const ranking = await get(`/warehouses?${params}`);
      drawing.replaceChildren(mapFigure(warehouses, ranking.origin, ranking.warehouses));
      results.replaceChildren(...rankingTable(ranking));
      announce(`Nearest: ${ranking.warehouses[0] ? ranking.warehouses[0].warehouseId : "none"}.`);
    } catch (error) {
      showProblems(form, general, error);
    }
  });
  return section("finder-heading", "Nearest warehouses", form, general, results);
}

function rankingTable(ranking) {
  const origin = ranking.origin;
  const from = origin.name ? `${origin.name}${origin.region ? ", " + origin.region : ""}${origin.country ? " " + origin.country : ""}` : `${origin.latitude}, ${origin.longitude}`;
  return [
    h("p", { class: "help" }, `From ${from} (${origin.latitude.toFixed(3)}, ${origin.longitude.toFixed(3)}); highlighted on the drawing.`),
    table(
      "Nearest warehouses",
      ["Rank", "Warehouse", "Name", "Distance"],
      ranking.warehouses.map((w, i) => [num(i + 1), w.warehouseId, w.name, num(`${w.distanceKm} km`)]),
      { id: "ranking-table" },
    ),
  ];
}

function regionAnalytics() {
  const to = today();
  const general = h("p", { id: "region-error", role: "alert", class: "error" });
  const results = h("div", { id: "region-results" });
  const form = h(
    "form",
    { class: "filters", id: "region-form", "aria-label": "Top warehouses for a country" },
    field("Country", input("region-country", "country", "text", { value: "US", size: 4, maxlength: 2, required: true })),
    field("From", input("region-from", "from", "date", { value: daysBefore(to, 29) })),
    field("To", input("region-to", "to", "date", { value: to })),
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "primary" }, "Show")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (String(value).trim()) params.set(name, String(value).trim().toUpperCase());
    showProblems(form, general, null);
    try {
      const answer = await get(`/analytics/warehouses?${params}`);
      results.replaceChildren(...regionTable(answer));
    } catch (error) {
      showProblems(form, general, error);
    }
  });
  return section("region-heading", "Top warehouses for a country", form, general, results);
}

function regionTable(answer) {
  return [
    h("p", { class: "help" }, `${answer.orders} orders to ${answer.region.country || "the region"} with a sourcing plan, ${answer.from} to ${answer.to}.`),
    table(
      "Top warehouses for the country",
      ["Warehouse", "Shipments", "Share of orders", "Mean distance", "Mean days to delivery", "Could not ship", "Could-not rate"],
      answer.warehouses.map((w) => [
        w.warehouseId,
        num(w.shipments),
        num(percent(w.shareOfOrders)),
        num(w.meanDistanceKm === null ? null : `${Math.round(w.meanDistanceKm)} km`),
        num(w.meanDaysToDelivery === null ? null : w.meanDaysToDelivery.toFixed(1)),
        num(w.couldNot),
        num(percent(w.couldNotRate)),
      ]),
      { id: "region-table" },
    ),
  ];
}
