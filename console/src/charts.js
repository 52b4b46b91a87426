// Charts drawn by Chart.js (bundled; only the parts used are registered). Each chart is a canvas with
// a label for screen readers, tooltips on hover and focus, and its numbers in a table below it.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";
import { h } from "./dom.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
Chart.defaults.color = "#1f2328";
Chart.defaults.borderColor = "#d0d7de";

// Distinct on white, each at least 3:1 against it (WCAG's contrast for graphics).
export const PALETTE = ["#0550ae", "#bc4c00", "#1a7f37", "#8250df", "#cf222e", "#116329", "#953800", "#6639ba", "#0a3069", "#57606a"];

const charts = new WeakMap();

/** A bar chart: `labels` along x, a dataset per series ({label, values}); `stacked` piles them up. */
export function barChart({ id, title, labels, series, stacked = false, horizontal = false, unit = "" }) {
  const canvas = h("canvas", { id, role: "img", "aria-label": `${title} (chart; its numbers are in the table below)` });
  const box = h("div", { class: "chart-box" }, canvas);
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.values,
        backgroundColor: s.colour || PALETTE[i % PALETTE.length],
        borderWidth: 0,
      })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom" },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.formattedValue}${unit}` } },
      },
      scales: {
        x: { stacked, beginAtZero: true, ticks: { maxRotation: 0, autoSkip: true } },
        y: { stacked, beginAtZero: true, ticks: horizontal ? {} : { precision: 0 } },
      },
    },
  });
  charts.set(canvas, chart);
  return box;
}

/** The numbers of a chart in a table, below it (a caption says what it is). */
export function chartTable({ id, caption, headings, rows }) {
  return h(
    "details",
    { class: "chart-numbers", open: true },
    h("summary", {}, `The numbers: ${caption}`),
    h(
      "div",
      { class: "table-scroll", tabindex: "0", role: "group", "aria-label": `${caption} (scrolls)` },
      h(
        "table",
        { id },
        h("caption", { class: "visually-hidden" }, caption),
        h("thead", {}, h("tr", {}, headings.map((title) => h("th", { scope: "col" }, title)))),
        h(
          "tbody",
          {},
          rows.map(([first, ...cells]) =>
            h("tr", {}, h("th", { scope: "row" }, first), cells.map((cell) => h("td", { class: "number" }, cell))),
          ),
        ),
      ),
    ),
  );
}

/** Destroy the charts under `element` (before the page replaces them). */
export function destroyCharts(element) {
  for (const canvas of element.querySelectorAll("canvas")) {
    const chart = charts.get(canvas);
    if (chart) chart.destroy();
  }
}
