// Polls /api/state every 2 s and draws it. Plain DOM, no framework, no build.
"use strict";

const REFRESH_MS = 2000;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function duration(seconds) {
  if (seconds === undefined) return "";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

function bytes(n) {
  if (n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

// Every node this one knows of: itself, its peers, and the nodes it saw go
// down (until they come back).
function drawNodes(state) {
  const rows = [];
  const peerStats = Object.fromEntries(state.peers.map((p) => [p.name, p]));
  const known = new Set([state.node, ...state.peers.map((p) => p.name)]);
  for (const hub of state.hubs) for (const m of hub.members) known.add(m);
  for (const name of state.down) known.add(name);
  for (const name of [...known].sort()) {
    const self = name === state.node;
    const info = self ? state : state.peer_info[name];
    const up = self || name in peerStats;
    const stats = peerStats[name];
    rows.push(el("tr", { "data-node": name },
      el("td", {}, name + (self ? " (this node)" : "")),
      el("td", { class: up ? "up state" : "down state" }, up ? "up" : "down"),
      el("td", { class: "processes" }, info ? String(info.processes) : ""),
      el("td", {}, info ? duration(info.uptime_s) : ""),
      el("td", {}, self ? state.hubs.map((h) => h.id).join(", ") : info ? info.hubs.join(", ") : ""),
      el("td", {}, stats ? `${bytes(stats.bytes_in)} / ${bytes(stats.bytes_out)}` : "")));
  }
  document.querySelector("#nodes tbody").replaceChildren(...rows);
}

function drawHubs(state) {
  const boxes = state.hubs.map((hub) => {
    const counts = Object.entries(hub.by_node).sort();
    const most = Math.max(1, ...counts.map(([, n]) => n));
    const flags = [
      el("span", { class: "flag " + (hub.alive ? "ok" : "warn") }, hub.alive ? "alive" : "stopped"),
      el("span", { class: "flag " + (hub.partitioned ? "warn" : "ok") },
         hub.partitioned ? "partitioned" : "not partitioned"),
    ];
    if (hub.locked) flags.push(el("span", { class: "flag warn" }, "handoff round"));
    if (hub.refusal) flags.push(el("span", { class: "flag warn" }, hub.refusal));
    return el("div", { class: "hub", "data-hub": hub.id },
      el("div", {}, el("span", { class: "hub-title" }, `hub ${hub.id}`), ...flags),
      el("div", { class: "muted" },
         `view ${hub.view}, ${hub.members.length} members, `,
         el("span", { class: "children" }, String(hub.children)), " children"),
      ...counts.map(([node, n]) => el("div", { class: "bar-row", "data-node": node },
        el("span", { class: "bar-label" }, node),
        el("span", { class: "bar", style: `width: ${(40 * n) / most}em` }),
        el("span", { class: "bar-count" }, String(n)))));
  });
  if (boxes.length === 0) boxes.push(el("p", { class: "muted" }, "This node hosts no hub."));
  document.getElementById("hubs").replaceChildren(...boxes);
}

function drawEvents(state) {
  const items = state.events.slice().reverse().map((e) =>
    el("li", { "data-kind": e.kind }, el("span", { class: "time" }, e.time), e.text));
  if (items.length === 0) items.push(el("li", { class: "muted" }, "nothing yet"));
  document.getElementById("events").replaceChildren(...items);
}

// How many times the page has redrawn itself from /api/state (data-refreshes
// on the body, for the test that watches it update without a reload).
let refreshes = 0;

async function refresh() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const state = await response.json();
    document.getElementById("self").textContent = state.node;
    document.getElementById("updated").textContent = `as of ${state.time}`;
    drawNodes(state);
    drawHubs(state);
    drawEvents(state);
    document.body.dataset.loaded = "yes";
    document.body.dataset.refreshes = String(++refreshes);
  } catch (error) {
    document.getElementById("updated").textContent = `cannot reach the node: ${error.message}`;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
