// The order's state machine drawn from its ASL: dagre lays the states out, this draws them as SVG, and
// the execution's path (GET /orders/{orderId}/workflow) marks what it went through, where it waits and
// where it failed, in colour and in words.
import { Graph, layout } from "@dagrejs/dagre";
import { h, svg, when } from "./dom.js";

const NODE_HEIGHT = 46;
const CHAR_WIDTH = 7.4;
const START = "__start__";

/** Nodes (states, nested ones inside their Map's or Parallel's cluster) and edges of an ASL document. */
export function graphOf(definition) {
  const nodes = [{ id: START, label: "Start", type: "Start", parent: null }];
  const edges = [{ from: START, to: definition.StartAt, kind: "next" }];
  const clusters = [];
  const walk = (states, parent) => {
    for (const [name, state] of Object.entries(states || {})) {
      nodes.push({ id: name, label: name, type: state.Type, parent });
      const targets = [];
      if (state.Next) targets.push([state.Next, "next"]);
      for (const choice of state.Choices || []) targets.push([choice.Next, "choice"]);
      if (state.Default) targets.push([state.Default, "default"]);
      for (const caught of state.Catch || []) targets.push([caught.Next, "catch"]);
      for (const [to, kind] of targets) edges.push({ from: name, to, kind });
      const inner = [state.ItemProcessor || state.Iterator, ...(state.Branches || [])].filter(Boolean);
      inner.forEach((machine, index) => {
        const cluster = `__cluster__${name}__${index}`;
        clusters.push({ id: cluster, label: state.Type === "Map" ? `${name}: each item` : `${name}: branch ${index + 1}`, parent });
        edges.push({ from: name, to: machine.StartAt, kind: "each" });
        walk(machine.States, cluster);
      });
    }
  };
  walk(definition.States, null);
  // An edge appears once even when a Choice names a state twice.
  const seen = new Set();
  const unique = edges.filter((e) => {
    const key = `${e.from}->${e.to}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { nodes, edges: unique, clusters };
}

/** What happened in each state, and which edges the execution took, from the path. */
export function marksOf(graph, path) {
  const byState = new Map();
  for (const step of path) {
    const mark = byState.get(step.state) || { entered: 0, waiting: 0, failed: 0, caught: 0, active: 0, stopped: 0, steps: [] };
    mark.entered += 1;
    if (step.outcome === "WAITING") mark.waiting += 1;
    if (step.outcome === "ACTIVE") mark.active += 1;
    if (step.outcome === "STOPPED") mark.stopped += 1;
    if (step.outcome === "FAILED") {
      if (step.caught) mark.caught += 1;
      else mark.failed += 1;
    }
    mark.steps.push(step);
    byState.set(step.state, mark);
  }
  const edgeKeys = new Set(graph.edges.map((e) => `${e.from}->${e.to}`));
  const taken = new Set();
  if (path.length) taken.add(`${START}->${path[0].state}`);
  path.forEach((step, i) => {
    for (let j = i - 1; j >= 0; j -= 1) {
      const before = path[j];
      const sameIteration = before.iteration === step.iteration || before.iteration === null;
      if (sameIteration && edgeKeys.has(`${before.state}->${step.state}`)) {
        taken.add(`${before.state}->${step.state}`);
        break;
      }
    }
  });
  return { byState, taken };
}

/** The words a state's mark is said with (on the drawing and to a screen reader). */
export function markText(mark) {
  if (!mark) return "not reached";
  const parts = [];
  const times = (n) => (n > 1 ? ` \u00d7${n}` : "");
  if (mark.failed) parts.push(`failed${times(mark.failed)}`);
  if (mark.waiting) parts.push(`waiting${times(mark.waiting)}`);
  if (mark.active) parts.push("running");
  if (mark.stopped) parts.push("stopped");
  if (mark.caught) parts.push(`failed, caught${times(mark.caught)}`);
  const done = mark.entered - mark.failed - mark.waiting - mark.active - mark.stopped - mark.caught;
  if (done > 0) parts.push(`done${times(done)}`);
  return parts.join(", ");
}

function markClass(mark) {
  if (!mark) return "unvisited";
  if (mark.failed) return "failed";
  if (mark.waiting) return "waiting";
  if (mark.active || mark.stopped) return "active";
  if (mark.caught) return "caught";
  return "visited";
}

const ICON = { failed: "\u2716 ", waiting: "\u2016 ", active: "\u25b6 ", caught: "\u26a0 ", visited: "\u2714 ", unvisited: "" };

/** The SVG figure for GET /orders/{orderId}/workflow's answer. */
export function workflowFigure(view) {
  const graph = graphOf(view.definition);
  const marks = marksOf(graph, view.path);
  const g = new Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 42, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const cluster of graph.clusters) {
    g.setNode(cluster.id, { label: cluster.label, clusterLabelPos: "top", paddingTop: 28 });
  }
  for (const cluster of graph.clusters) if (cluster.parent) g.setParent(cluster.id, cluster.parent);
  for (const node of graph.nodes) {
    const text = node.id === START ? "Start" : node.label;
    const status = node.id === START ? "" : markText(marks.byState.get(node.id));
    const width = Math.max(110, Math.ceil(Math.max(text.length * CHAR_WIDTH + 20, (status.length + 2) * 6.4 + 16)));
    g.setNode(node.id, { width: node.id === START ? 70 : width, height: node.id === START ? 30 : NODE_HEIGHT });
    if (node.parent) g.setParent(node.id, node.parent);
  }
  for (const edge of graph.edges) g.setEdge(edge.from, edge.to, { kind: edge.kind });
  layout(g);

  const size = g.graph();
  const width = Math.ceil(size.width || 400);
  const height = Math.ceil(size.height || 200);
  const titleId = "workflow-title";
  const descId = "workflow-desc";
  const figure = svg(
    "svg",
    {
      class: "workflow-graph",
      role: "img",
      "aria-labelledby": `${titleId} ${descId}`,
      viewBox: `0 0 ${width} ${height}`,
      // Scaled down to the card's width when wider, never up: the whole machine stays in view.
      style: `max-width: ${width}px`,
      "data-width": width,
    },
    svg("title", { id: titleId }, "The order workflow's state machine"),
    svg("desc", { id: descId }, describe(view, marks)),
    svg(
      "defs",
      {},
      ["taken", "idle"].map((kind) =>
        svg(
          "marker",
          { id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
          svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: `arrow arrow-${kind}` }),
        ),
      ),
    ),
  );
  for (const cluster of graph.clusters) {
    const box = g.node(cluster.id);
    figure.append(
      svg(
        "g",
        { class: "cluster", "data-cluster": cluster.id },
        svg("rect", { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 10 }),
        svg("text", { x: box.x - box.width / 2 + 10, y: box.y - box.height / 2 + 18 }, cluster.label),
      ),
    );
  }
  for (const edge of graph.edges) {
    const points = g.edge(edge.from, edge.to).points;
    const taken = marks.taken.has(`${edge.from}->${edge.to}`);
    const d = points.map((p, i) => `${i ? "L" : "M"} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
    figure.append(
      svg("path", {
        d,
        class: `edge edge-${edge.kind} ${taken ? "taken" : "idle"}`,
        "data-from": edge.from,
        "data-to": edge.to,
        "marker-end": `url(#arrow-${taken ? "taken" : "idle"})`,
      }),
    );
  }
  for (const node of graph.nodes) {
    const box = g.node(node.id);
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    if (node.id === START) {
      figure.append(
        svg(
          "g",
          { class: `state start ${view.path.length ? "visited" : "unvisited"}`, "data-state": START },
          svg("rect", { x, y, width: box.width, height: box.height, rx: box.height / 2 }),
          svg("text", { x: box.x, y: box.y + 4, "text-anchor": "middle" }, "Start"),
        ),
      );
      continue;
    }
    const mark = marks.byState.get(node.id);
    const kind = markClass(mark);
    const shape = node.type === "Choice" ? 4 : node.type === "Succeed" || node.type === "Fail" ? box.height / 2 : 8;
    figure.append(
      svg(
        "g",
        { class: `state ${kind} type-${node.type.toLowerCase()}`, "data-state": node.id, "data-mark": kind },
        svg("rect", { x, y, width: box.width, height: box.height, rx: shape }),
        svg("text", { x: box.x, y: box.y - 4, "text-anchor": "middle", class: "name" }, node.label),
        svg("text", { x: box.x, y: box.y + 13, "text-anchor": "middle", class: "mark" }, ICON[kind] + (mark ? markText(mark) : node.type)),
      ),
    );
  }
  return figure;
}

function describe(view, marks) {
  const execution = view.execution;
  if (!execution) return "No execution was started for this order.";
  const visited = [...marks.byState.entries()].map(([state, mark]) => `${state}: ${markText(mark)}`);
  return `Execution ${execution.status.toLowerCase()}. ${visited.join("; ")}.`;
}

/** The path as a list, beside the picture: the same facts in words, with times. */
export function pathList(view) {
  if (!view.execution) return h("p", { class: "help" }, "No workflow execution was started for this order.");
  return h(
    "ol",
    { class: "path", "aria-label": "States entered, in order" },
    view.path.map((step) =>
      h(
        "li",
        { class: `step step-${step.outcome.toLowerCase()}`, "data-state": step.state },
        h("span", { class: "state-name" }, step.state),
        step.iteration !== null && step.iteration !== undefined ? h("span", { class: "sub" }, ` item ${step.iteration + 1}`) : null,
        " \u2014 ",
        h("span", { class: "outcome" }, outcomeText(step)),
        h("span", { class: "sub" }, ` ${when(step.enteredAt)}${step.exitedAt ? ` \u2192 ${when(step.exitedAt)}` : ""}`),
        step.error ? h("span", { class: "error-text" }, ` ${step.error}${step.cause ? `: ${step.cause}` : ""}`) : null,
      ),
    ),
  );
}

function outcomeText(step) {
  switch (step.outcome) {
    case "WAITING":
      return "waiting for a callback";
    case "ACTIVE":
      return "running";
    case "FAILED":
      return step.caught ? "failed, caught" : "failed";
    case "STOPPED":
      return "stopped";
    default:
      return "done";
  }
}
