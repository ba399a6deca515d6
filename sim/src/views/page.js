"use strict";
window.onerror = function (msg, src, line) {
  document.getElementById("status").textContent = "error: " + msg + " (line " + line + ")";
};
const DATA = /*DATA*/null;
const NS = "http://www.w3.org/2000/svg";
function el(name, attrs, parent, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function tip(e, text) { el("title", {}, e, text); return e; }

// Colours: every one drawn is in the legend (LEGEND below).
const C = {
  append: "#1f77b4", heartbeat: "#bbb", appendResp: "#2ca02c", vote: "#ff7f0e",
  prevote: "#bcbd22", snapshot: "#17becf", other: "#8c564b",
  dropped: "#d62728", cut: "#8b0000", lost: "#999",
  ok: "#2ca02c", fail: "#999", unknown: "#ff7f0e", pending: "#e377c2",
  fault: "#444", corrupt: "#9467bd", commit: "#2ca02c", violation: "#d00", step: "#3b5bdb",
  sideA: "rgba(31,119,180,0.13)", sideB: "rgba(255,127,14,0.15)", sideC: "rgba(44,160,44,0.15)",
  bridge: "rgba(148,103,189,0.25)", alone: "rgba(214,39,40,0.15)",
};
function hue(term) { return (Number(term) * 47) % 360; }
function msgKind(m) {
  if (m.startsWith("AE")) return m.endsWith("entries=-)") ? "heartbeat" : "append";
  if (m.startsWith("AR")) return "appendResp";
  if (m.startsWith("PV")) return "prevote";
  if (m.startsWith("VQ") || m.startsWith("VR") || m.startsWith("TVQ")) return "vote";
  if (m.startsWith("IS") || m.startsWith("SR")) return "snapshot";
  return "other";
}
function outcomeColor(o) {
  if (o === "pending") return C.pending;
  if (o.startsWith("ok")) return C.ok;
  return o === "unknown" ? C.unknown : C.fail;
}

const events = DATA.events;
const nodes = DATA.nodes;
const spareFrom = nodes - (DATA.spare || 0);
const stepMode = events.some(e => e.k === "script");
const violation = events.find(e => e.k === "violation");
const end = events.length ? events[events.length - 1].t : 0;
// In step mode (a scenario: many events at one virtual time) an event's position is its
// place in the trace; otherwise its virtual time in microseconds.
const pos = stepMode ? (e, i) => i : (e) => e.t;
const P = events.map((e, i) => pos(e, i));
const endPos = stepMode ? events.length : end;

document.getElementById("title").textContent = DATA.title;
document.getElementById("summary").textContent = DATA.summary;
const verdictEl = document.getElementById("verdict");
const verdict = violation ? "FAIL" : (/verdict: UNKNOWN/.test(DATA.summary) ? "UNKNOWN" : "PASS");
verdictEl.className = verdict;
verdictEl.textContent = violation
  ? "FAIL: " + violation.property + " at " + (stepMode ? "event " + events.indexOf(violation) : (violation.t / 1000).toFixed(3) + " ms") + ": " + violation.detail
  : verdict === "UNKNOWN" ? "UNKNOWN: no property was violated, but the linearizability check ran out of budget" : "PASS: every property held";
for (const u of document.querySelectorAll(".unit")) u.textContent = stepMode ? "event" : "ms";

// Units shown in the inputs: ms in time mode, event numbers in step mode.
const toInput = v => stepMode ? v : v / 1000;
const fromInput = v => stepMode ? v : v * 1000;
const fromEl = document.getElementById("from"), toEl = document.getElementById("to");
const zoomEl = document.getElementById("zoom");
function setWindow(a, b) {
  fromEl.value = Math.max(0, Math.floor(toInput(a)));
  toEl.value = Math.ceil(toInput(Math.max(b, a + (stepMode ? 5 : 1000))));
}
const focus = DATA.focus;
function openWindow() {
  // A window in the address (`page.html#from=1000&to=2500`, in the inputs' units) wins.
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.has("from") && h.has("to")) { setWindow(fromInput(Number(h.get("from"))), fromInput(Number(h.get("to")))); return; }
  if (stepMode) { setWindow(0, endPos); return; }
  if (focus) { setWindow(focus.from, focus.to); return; }
  if (violation) { setWindow(violation.t - 300000, violation.t + 40000); return; }
  setWindow(0, Math.min(end, 1000000));
}
openWindow();

// Spans per node: role (with term), down, stopped, paused.
function spans() {
  const out = [];
  const open = new Array(nodes).fill(null);
  const close = (n, x) => { if (open[n]) { open[n].x1 = x; out.push(open[n]); open[n] = null; } };
  events.forEach((e, i) => {
    if (e.n === null || e.n >= nodes) return;
    const x = P[i];
    if (e.k === "role") { close(e.n, x); open[e.n] = { n: e.n, x0: x, kind: e.role, term: e.term }; }
    else if (e.k === "crash") { close(e.n, x); open[e.n] = { n: e.n, x0: x, kind: "down" }; }
    else if (e.k === "stopped") { close(e.n, x); open[e.n] = { n: e.n, x0: x, kind: "stopped" }; }
    else if (e.k === "start") { close(e.n, x); open[e.n] = { n: e.n, x0: x, kind: "follower", term: e.term }; }
    else if (e.k === "fault" && e.what && /^pause until /.test(e.what) && !stepMode) {
      out.push({ n: e.n, x0: x, x1: Number(e.what.split(" ").pop()), kind: "paused" });
    }
  });
  for (let n = 0; n < nodes; n++) close(n, endPos);
  return out;
}
function nodeList(text) { return (text.match(/n\d+/g) || []).map(s => Number(s.slice(1))); }
// Partitions: intervals with each node's side. Random runs record the topology as a fault
// (`split[n1,n3]`, `isolate[n2]`, `bridge[n0,n1|n2]`, `one-way[n0->n1]`); scenarios as script
// steps (`partition n0,n1 | n2`, `isolate n2`, `cut n0<->n1`, `heal`).
function partitions() {
  const out = [];
  let cur = null;
  const close = x => { if (cur) { cur.x1 = x; out.push(cur); cur = null; } };
  const open = (x, what, sides, links) => { close(x); cur = { x0: x, what: what, sides: sides, links: links || [] }; };
  const everyone = () => Array.from({ length: nodes }, (_, n) => n);
  events.forEach((e, i) => {
    const x = P[i];
    const text = e.k === "fault" && e.n === null ? e.what : e.k === "script" ? e.step : null;
    if (e.k === "calm") { close(x); return; }
    if (!text) return;
    let m;
    if ((m = /^split\[(.*)\]$/.exec(text))) {
      const a = nodeList(m[1]); const sides = {};
      for (const n of everyone()) sides[n] = a.includes(n) ? "A" : "B";
      open(x, text, sides);
    } else if ((m = /^isolate\[(.*)\]$/.exec(text)) || (m = /^isolate (n\d+)$/.exec(text))) {
      const a = nodeList(m[1]); const sides = {};
      for (const n of everyone()) sides[n] = a.includes(n) ? "alone" : "B";
      open(x, text, sides);
    } else if ((m = /^bridge\[(.*)\|(.*)\]$/.exec(text))) {
      const a = nodeList(m[1]), b = nodeList(m[2]); const sides = {};
      for (const n of everyone()) sides[n] = b.includes(n) ? "bridge" : a.includes(n) ? "A" : "B";
      open(x, text, sides);
    } else if ((m = /^one-way\[n(\d+)->n(\d+)\]$/.exec(text))) {
      open(x, text, {}, [[Number(m[1]), Number(m[2])]]);
    } else if ((m = /^partition (.*)$/.exec(text))) {
      // A node in no group is cut from no one: it sees every side.
      const groups = m[1].split("|").map(nodeList); const sides = {};
      for (const n of everyone()) sides[n] = "bridge";
      groups.forEach((g, gi) => { for (const n of g) sides[n] = "ABC"[Math.min(gi, 2)]; });
      open(x, text, sides);
    } else if ((m = /^cut n(\d+)<->n(\d+)$/.exec(text))) {
      const links = cur ? cur.links.slice() : [];
      links.push([Number(m[1]), Number(m[2])], [Number(m[2]), Number(m[1])]);
      open(x, (cur ? cur.what + ", " : "") + text, cur ? cur.sides : {}, links);
    } else if (text === "heal") {
      close(x);
    }
  });
  close(endPos);
  return out;
}
// Client operations: invocation to completion; those never completed are pending.
function operations() {
  const out = [], open = {};
  events.forEach((e, i) => {
    if (e.k === "invoke") { const op = { client: Number(e.client), seq: e.seq, op: e.op, x0: P[i], t0: e.t, x1: null, outcome: "pending" }; open[e.client + "/" + e.seq] = op; out.push(op); }
    else if (e.k === "complete") { const op = open[e.client + "/" + e.seq]; if (op) { op.x1 = P[i]; op.outcome = e.outcome; } }
  });
  const named = new Set(((focus && focus.ops) || []).map(([c, t]) => c + "@" + t));
  for (const op of out) op.named = named.has(op.client + "@" + op.t0);
  return out;
}
// Where each message id was received or lost (scenarios: arrows end at the receive event).
const RECEIVED = {};
events.forEach((e, i) => { if ((e.k === "recv" || e.k === "cut" || e.k === "lost") && e.id) (RECEIVED[e.id] = RECEIVED[e.id] || []).push({ x: P[i], k: e.k }); });
const SPANS = spans(), PARTS = partitions(), OPS = operations();
// A start after a crash is a restart through recovery (the first start of each node is not).
const RESTARTS = new Set();
{
  const crashed = new Set();
  events.forEach((e, i) => {
    if (e.k === "crash") crashed.add(e.n);
    else if (e.k === "start" && crashed.has(e.n)) { RESTARTS.add(i); crashed.delete(e.n); }
  });
}
const CLIENTS = [...new Set(OPS.map(o => o.client))].sort((a, b) => a - b);
const STEPS = stepMode ? events.map((e, i) => ({ e: e, x: P[i] })).filter(s => s.e.k === "script") : [];

function legend() {
  const box = document.getElementById("legend");
  const group = (title, items) => {
    const g = document.createElement("span"); g.className = "group";
    const b = document.createElement("b"); b.textContent = title; g.appendChild(b);
    for (const [label, draw] of items) {
      const s = document.createElement("span");
      const svg = el("svg", { width: 22, height: 12 }, s); draw(svg);
      s.appendChild(document.createTextNode(" " + label)); g.appendChild(s);
    }
    box.appendChild(g);
  };
  const line = c => svg => el("line", { x1: 1, y1: 6, x2: 21, y2: 6, stroke: c, "stroke-width": 2 }, svg);
  const rect = (c, stroke) => svg => el("rect", { x: 1, y: 1, width: 20, height: 10, fill: c, stroke: stroke || "none" }, svg);
  const glyph = (c, t, size) => svg => el("text", { x: 6, y: 10, fill: c, "font-size": size || 12, "font-weight": "bold" }, svg, t);
  group("messages", [["append", line(C.append)], ["heartbeat", line(C.heartbeat)], ["append response", line(C.appendResp)],
    ["vote", line(C.vote)], ["pre-vote", line(C.prevote)], ["snapshot", line(C.snapshot)], ["other (timeout-now, read ack, forward)", line(C.other)],
    ["dropped", glyph(C.dropped, "\u00d7")], ["cut by partition", glyph(C.cut, "\u00d7")], ["lost in a crash", glyph(C.lost, "\u00d7")]]);
  group("nodes", [["leader (hue by term)", rect("hsla(47,70%,55%,0.35)")], ["candidate", rect("hsla(47,70%,55%,0.12)")],
    ["down", svg => { rect("url(#hatch-legend)")(svg); }], ["stopped on damage", rect("#333")], ["paused", rect("rgba(0,0,0,0.08)")],
    ["crash", glyph(C.dropped, "\u2716", 11)], ["restart", glyph("#555", "\u25b6", 10)], ["fault", svg => el("circle", { cx: 11, cy: 6, r: 4, fill: C.fault }, svg)],
    ["corruption", svg => el("circle", { cx: 11, cy: 6, r: 4, fill: C.corrupt }, svg)], ["commit", svg => el("rect", { x: 10, y: 1, width: 2, height: 10, fill: C.commit }, svg)],
    ["spare (outside the membership at start)", svg => el("line", { x1: 1, y1: 6, x2: 21, y2: 6, stroke: "#999", "stroke-dasharray": "3,3" }, svg)]]);
  group("partitions", [["side A", rect(C.sideA)], ["side B", rect(C.sideB)], ["side C", rect(C.sideC)], ["bridge", rect(C.bridge)], ["isolated", rect(C.alone)],
    ["link cut", line("#d62728")]]);
  group("clients", [["ok", rect(C.ok)], ["failed", rect(C.fail)], ["unknown", rect(C.unknown)], ["pending", rect(C.pending)],
    ["named by the violation", rect("none", "#000")]]);
  group("", [["violation", line(C.violation)]].concat(stepMode ? [["script step", line(C.step)]] : []));
  const defs = el("svg", { width: 0, height: 0 }, box);
  const p = el("pattern", { id: "hatch-legend", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, el("defs", {}, defs));
  el("rect", { width: 3, height: 6, fill: "#bbb" }, p);
}

function draw() {
  const a = fromInput(Number(fromEl.value)), b = Math.max(a + 1, fromInput(Number(toEl.value)));
  const zoom = Number(zoomEl.value);
  document.getElementById("zoomval").textContent = zoom === 1 ? "fit" : "\u00d7" + zoom;
  const showHb = document.getElementById("hb").checked;
  const left = 96, right = 16, laneH = 44, top = stepMode ? 34 : 26, clientH = 16;
  const avail = Math.max(400, document.getElementById("chart").clientWidth - 2);
  const pxPer = (avail - left - right) * zoom / (b - a);
  const width = Math.ceil(left + (b - a) * pxPer + right);
  const nodesBottom = top + nodes * laneH;
  const clientTop = nodesBottom + 24;
  const height = clientTop + CLIENTS.length * clientH + 14;
  const x = v => left + (v - a) * pxPer;
  const y = n => top + n * laneH + laneH / 2;
  const cy = c => clientTop + CLIENTS.indexOf(c) * clientH;
  const inWin = v => v >= a && v <= b;
  const clampX = v => x(Math.min(Math.max(v, a), b));
  const chart = document.getElementById("chart");
  chart.innerHTML = "";
  const svg = el("svg", { width: width, height: height }, chart);
  const defs = el("defs", {}, svg);
  const pat = el("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 3, height: 6, fill: "#bbb" }, pat);
  const pend = el("pattern", { id: "pend", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 6, height: 6, fill: "#f7d6ec" }, pend); el("rect", { width: 3, height: 6, fill: C.pending }, pend);
  for (const [k, c] of Object.entries(C)) {
    const m = el("marker", { id: "arrow-" + k, markerWidth: 6, markerHeight: 6, refX: 5, refY: 3, orient: "auto" }, defs);
    el("path", { d: "M0,0 L6,3 L0,6 z", fill: c }, m);
  }
  let count = 0;
  // Axis: milliseconds, or event numbers in step mode.
  const raw = (b - a) / 12, p10 = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
  let step = raw / p10 < 2 ? 2 * p10 : raw / p10 < 5 ? 5 * p10 : 10 * p10;
  if (stepMode) step = Math.max(1, Math.round(step));
  for (let v = Math.ceil(a / step) * step; v <= b; v += step) {
    el("line", { x1: x(v), x2: x(v), y1: top - 6, y2: height - 8, stroke: "#f0f0f0" }, svg);
    if (!stepMode) el("text", { x: x(v) + 2, y: top - 9, fill: "#888" }, svg, +(v / 1000).toFixed(3) + "ms");
  }
  // Script steps: a numbered line where each begins (the list below names them).
  STEPS.forEach((s, i) => {
    if (!inWin(s.x)) return;
    el("line", { x1: x(s.x), x2: x(s.x), y1: top - 14, y2: height - 8, stroke: C.step, "stroke-dasharray": "4,3" }, svg);
    // The step's text too, cut to the room before the next step.
    const next = STEPS[i + 1] ? Math.min(STEPS[i + 1].x, b) : b;
    const room = Math.floor((x(next) - x(s.x) - 18) / 6.6);
    const label = room >= 6 ? (s.e.step.length > room ? s.e.step.slice(0, room - 1) + "\u2026" : s.e.step) : "";
    tip(el("text", { x: x(s.x) + 2, y: top - 18, fill: C.step }, svg, (i + 1) + (label ? " " + label : "")), (i + 1) + ". " + s.e.step);
  });
  // Partitions: each node's lane tinted by its side; cut links listed on the lanes.
  for (const p of PARTS) {
    if (p.x1 < a || p.x0 > b) continue;
    const xa = clampX(p.x0), w = Math.max(2, clampX(p.x1) - xa);
    for (const [n, side] of Object.entries(p.sides)) {
      const fill = { A: C.sideA, B: C.sideB, C: C.sideC, bridge: C.bridge, alone: C.alone }[side];
      tip(el("rect", { x: xa, y: y(Number(n)) - laneH / 2 + 1, width: w, height: laneH - 2, fill: fill }, svg), p.what + ": n" + n + " " + (side.length === 1 ? "on side " + side : side));
      el("text", { x: xa + 2, y: y(Number(n)) + laneH / 2 - 4, fill: "#a33", "font-size": 10 }, svg, side.length === 1 ? "side " + side : side);
    }
    if (p.links.length) {
      const text = p.links.map(([f, t]) => "n" + f + "\u219bn" + t).join(" ");
      el("text", { x: xa + 2, y: top - 1, fill: "#d62728", "font-size": 10 }, svg, "cut " + text);
    }
    count++;
  }
  for (let n = 0; n < nodes; n++) {
    const spare = n >= spareFrom;
    el("line", { x1: left, x2: width - right, y1: y(n), y2: y(n), stroke: spare ? "#bbb" : "#999", "stroke-dasharray": spare ? "3,3" : "none" }, svg);
    el("text", { x: 4, y: y(n) + 4, "font-weight": "bold" }, svg, "n" + n);
    if (spare) el("text", { x: 26, y: y(n) + 4, fill: "#888", "font-size": 10 }, svg, "spare");
  }
  for (const s of SPANS) {
    if (s.x1 < a || s.x0 > b) continue;
    const xa = clampX(s.x0), w = Math.max(1, clampX(s.x1) - xa);
    let fill = null;
    if (s.kind === "leader") fill = "hsla(" + hue(s.term) + ",70%,55%,0.35)";
    else if (s.kind === "candidate") fill = "hsla(" + hue(s.term) + ",70%,55%,0.12)";
    else if (s.kind === "down") fill = "url(#hatch)";
    else if (s.kind === "stopped") fill = "#333";
    else if (s.kind === "paused") fill = "rgba(0,0,0,0.08)";
    if (fill) { tip(el("rect", { x: xa, y: y(s.n) - laneH / 2 + 6, width: w, height: laneH - 12, fill: fill }, svg), s.kind + (s.term ? " term " + s.term : "")); count++; }
    if (s.kind === "leader" && w > 50) el("text", { x: xa + 2, y: y(s.n) - laneH / 2 + 16, fill: "#333" }, svg, "leader t" + s.term);
  }
  const lossGlyph = (xv, yv, color, text) => { tip(el("text", { x: xv - 4, y: yv + 4, fill: color, "font-weight": "bold", "font-size": 13 }, svg, "\u00d7"), text); count++; };
  events.forEach((e, i) => {
    const px = P[i];
    if (!inWin(px)) return;
    if (e.k === "send") {
      const kind = msgKind(e.msg);
      if (!showHb && kind === "heartbeat") return;
      const to = Number(String(e.to).slice(1));
      const ends = stepMode ? (RECEIVED[e.id] || []).map(r => r.x) : String(e.arrive || "").split(",").filter(s => s).map(Number);
      for (const at of ends) {
        tip(el("line", { x1: x(px), y1: y(e.n), x2: clampX(at), y2: y(to), stroke: C[kind], "stroke-width": kind === "heartbeat" ? 1 : 1.4, "marker-end": "url(#arrow-" + kind + ")" }, svg), "n" + e.n + " -> " + e.to + " " + e.msg);
        count++;
      }
    } else if (e.k === "drop") lossGlyph(x(px), y(e.n), C.dropped, "dropped " + e.msg + " to " + e.to);
    else if (e.k === "cut") lossGlyph(x(px), y(e.n), C.cut, "cut by a partition: " + (e.msg || e.id) + (e.to ? " to " + e.to : " from " + e.from));
    else if (e.k === "lost" || e.k === "unsent") lossGlyph(x(px), y(e.n), C.lost, "lost: " + (e.msg || e.id) + (e.to ? " to " + e.to : e.from ? " from " + e.from : ""));
    else if (e.k === "crash" || e.k === "stopped") {
      tip(el("text", { x: x(px) - 5, y: y(e.n) + 5, fill: "#d62728", "font-weight": "bold", "font-size": 15 }, svg, e.k === "crash" ? "\u2716" : "\u25A0"), e.k + " " + JSON.stringify(e));
      count++;
    } else if (e.k === "start" && e.n !== null && RESTARTS.has(i)) {
      tip(el("text", { x: x(px) - 4, y: y(e.n) - 6, fill: "#555", "font-size": 10 }, svg, "\u25b6"), "start (recovery) term " + e.term + " last index " + e.last_index);
    } else if (e.k === "fault" && e.n !== null) {
      const color = e.what.startsWith("corrupt") ? C.corrupt : C.fault;
      tip(el("circle", { cx: x(px), cy: y(e.n) + laneH / 2 - 8, r: 4, fill: color }, svg), e.what);
      count++;
    } else if (e.k === "apply" && e.n !== null) {
      tip(el("rect", { x: x(px) - 1, y: y(e.n) + 5, width: 2, height: 8, fill: C.commit }, svg), "commit " + e.first + ".." + e.last);
    } else if (e.k === "violation") {
      el("line", { x1: x(px), x2: x(px), y1: top - 10, y2: height, stroke: C.violation, "stroke-width": 2 }, svg);
      el("text", { x: x(px) + 4, y: top + 10, fill: C.violation, "font-weight": "bold" }, svg, "violation: " + e.property);
    }
  });
  // Client operations; those open at the violation (or at the end) are what matters.
  const vx = violation ? pos(violation, events.indexOf(violation)) : endPos;
  for (const op of OPS) {
    const x1 = op.x1 === null ? vx : op.x1;
    if (x1 < a || op.x0 > b) continue;
    const openAtViolation = violation && op.x0 <= vx && (op.x1 === null || op.x1 > vx);
    const outcome = op.x1 === null ? "pending" : op.outcome;
    const xa = clampX(op.x0), w = Math.max(3, clampX(openAtViolation ? vx : x1) - xa);
    const fill = outcome === "pending" || openAtViolation ? "url(#pend)" : outcomeColor(outcome);
    const r = el("rect", { x: xa, y: cy(op.client) + 2, width: w, height: clientH - 5, fill: fill, stroke: op.named ? "#000" : openAtViolation ? C.pending : "none", "stroke-width": op.named ? 2 : 1 }, svg);
    tip(r, "client " + op.client + " #" + op.seq + " " + op.op + " -> " + outcome + (openAtViolation ? " (pending at the violation)" : ""));
    if (w > 60) el("text", { x: xa + 3, y: cy(op.client) + clientH - 5, fill: "#000", "font-size": 10 }, svg, op.op + (openAtViolation ? " (pending)" : ""));
    count++;
  }
  if (CLIENTS.length) el("text", { x: 4, y: clientTop - 8, fill: "#555" }, svg, "clients");
  for (const c of CLIENTS) el("text", { x: 4, y: cy(c) + clientH - 4 }, svg, "c" + c);
  // What a reader (and the browser test) should find on screen.
  const pendingAtViolation = violation ? OPS.filter(op => op.x0 <= vx && (op.x1 === null || op.x1 > vx)).length : 0;
  const inView = violation ? (inWin(vx) || OPS.some(op => op.named && op.x0 <= b && (op.x1 === null ? vx : op.x1) >= a)) : false;
  document.getElementById("status").textContent = "rendered " + count + " elements" +
    (violation ? "; violation " + (inView ? "in view" : "out of view") + "; " + pendingAtViolation + " operations pending at the violation" : "") +
    (stepMode ? "; " + STEPS.length + " script steps" : "") + "; " + width + " px wide";
}

function stepList() {
  const box = document.getElementById("steps");
  STEPS.forEach((s, i) => {
    const d = document.createElement("div");
    d.textContent = (i + 1) + ". " + s.e.step;
    const next = STEPS[i + 1] ? STEPS[i + 1].x : endPos;
    d.onclick = () => { setWindow(s.x, next); draw(); };
    box.appendChild(d);
  });
}
document.getElementById("redraw").onclick = draw;
document.getElementById("fit").onclick = () => { zoomEl.value = 1; draw(); };
document.getElementById("whole").onclick = () => { setWindow(0, endPos); zoomEl.value = 1; draw(); };
document.getElementById("tofocus").onclick = () => { openWindow(); zoomEl.value = 1; draw(); };
document.getElementById("tofocus").disabled = !violation && !stepMode;
zoomEl.oninput = draw;
window.onresize = draw;
legend();
stepList();
draw();
