//! Views of a trace: Chrome trace-event JSON for ui.perfetto.dev, and a self-contained HTML
//! space-time diagram.

use crate::trace::TraceEvent;
use serde_json::{json, Value};

/// Parses the `arrive` field of a send event.
fn arrivals(event: &TraceEvent) -> Vec<u64> {
    event
        .field("arrive")
        .map(|a| a.split(',').filter_map(|t| t.parse().ok()).collect())
        .unwrap_or_default()
}

fn target_node(event: &TraceEvent) -> Option<usize> {
    event.field("to")?.strip_prefix('n')?.parse().ok()
}

/// Chrome trace-event JSON: one process per node (plus one for the cluster: faults and
/// clients), role and term as spans, messages as flow arrows, faults, commits and crashes as
/// instant events. Times are virtual microseconds.
pub fn perfetto(events: &[TraceEvent], nodes: usize) -> String {
    let end = events.last().map_or(0, |e| e.time);
    let mut out: Vec<Value> = Vec::new();
    let cluster_pid = 0;
    out.push(
        json!({"ph": "M", "name": "process_name", "pid": cluster_pid, "args": {"name": "cluster"}}),
    );
    for n in 0..nodes {
        let pid = n + 1;
        out.push(json!({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": format!("n{n}")}}));
        out.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": 1, "args": {"name": "role"}}));
        out.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": 2, "args": {"name": "messages"}}));
        out.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": 3, "args": {"name": "events"}}));
    }
    // Role spans.
    let mut open: Vec<Option<(u64, String)>> = vec![None; nodes];
    let close = |out: &mut Vec<Value>, node: usize, span: Option<(u64, String)>, at: u64| {
        if let Some((start, name)) = span {
            out.push(json!({"ph": "X", "name": name, "pid": node + 1, "tid": 1, "ts": start, "dur": at.saturating_sub(start).max(1)}));
        }
    };
    let mut flow_id = 0u64;
    for e in events {
        let Some(node) = e.node.filter(|&n| n < nodes) else {
            if matches!(e.kind, "fault" | "calm" | "violation") {
                let name = format!(
                    "{} {}",
                    e.kind,
                    e.field("what").or(e.field("property")).unwrap_or("")
                );
                out.push(json!({"ph": "i", "s": "g", "name": name, "pid": cluster_pid, "tid": 1, "ts": e.time, "args": fields(e)}));
            } else if matches!(e.kind, "invoke" | "complete") {
                out.push(json!({"ph": "i", "s": "t", "name": e.kind, "pid": cluster_pid, "tid": 2, "ts": e.time, "args": fields(e)}));
            }
            continue;
        };
        match e.kind {
            "role" => {
                close(&mut out, node, open[node].take(), e.time);
                let name = format!(
                    "{} t{}",
                    e.field("role").unwrap_or("?"),
                    e.field("term").unwrap_or("?")
                );
                open[node] = Some((e.time, name));
            }
            "crash" | "stopped" => {
                close(&mut out, node, open[node].take(), e.time);
                out.push(json!({"ph": "i", "s": "p", "name": e.kind, "pid": node + 1, "tid": 3, "ts": e.time, "args": fields(e)}));
                open[node] = Some((
                    e.time,
                    if e.kind == "crash" {
                        "down".into()
                    } else {
                        "stopped".into()
                    },
                ));
            }
            "start" => {
                close(&mut out, node, open[node].take(), e.time);
                open[node] = Some((
                    e.time,
                    format!("follower t{}", e.field("term").unwrap_or("?")),
                ));
            }
            "send" => {
                let Some(to) = target_node(e).filter(|&t| t < nodes) else {
                    continue;
                };
                let name = e.field("msg").unwrap_or("msg").to_string();
                for at in arrivals(e) {
                    flow_id += 1;
                    out.push(json!({"ph": "X", "name": name, "pid": node + 1, "tid": 2, "ts": e.time, "dur": 1}));
                    out.push(json!({"ph": "s", "name": "msg", "cat": "msg", "id": flow_id, "pid": node + 1, "tid": 2, "ts": e.time}));
                    out.push(json!({"ph": "X", "name": name, "pid": to + 1, "tid": 2, "ts": at, "dur": 1}));
                    out.push(json!({"ph": "f", "bp": "e", "name": "msg", "cat": "msg", "id": flow_id, "pid": to + 1, "tid": 2, "ts": at}));
                }
            }
            "apply" | "fault" | "resume" | "torn-tail-dropped" | "read-error" | "leader"
            | "propose" | "violation" | "unsent" => {
                let name = match e.kind {
                    "unsent" => format!(
                        "unsent {} to {}",
                        e.field("msg").unwrap_or("?"),
                        e.field("to").unwrap_or("?")
                    ),
                    "apply" => format!(
                        "commit {}..{}",
                        e.field("first").unwrap_or("?"),
                        e.field("last").unwrap_or("?")
                    ),
                    "fault" => format!("fault {}", e.field("what").unwrap_or("")),
                    other => other.to_string(),
                };
                out.push(json!({"ph": "i", "s": "t", "name": name, "pid": node + 1, "tid": 3, "ts": e.time, "args": fields(e)}));
            }
            _ => {}
        }
    }
    for (node, span) in open.into_iter().enumerate() {
        close(&mut out, node, span, end);
    }
    json!({"traceEvents": out, "displayTimeUnit": "ms"}).to_string()
}

fn fields(e: &TraceEvent) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in &e.fields {
        map.insert((*k).into(), v.clone().into());
    }
    Value::Object(map)
}

/// A self-contained HTML page: one lane per node, messages as arrows, partitions, crashes and
/// corruption marked, leader terms shaded, the violation highlighted, client operations as a
/// timeline. No network access needed: data, style and script are inline.
pub fn html(events: &[TraceEvent], nodes: usize, title: &str, summary: &str) -> String {
    let data: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut v = fields(e);
            v["t"] = e.time.into();
            v["n"] = e.node.map_or(Value::Null, |n| n.into());
            v["k"] = e.kind.into();
            v
        })
        .collect();
    let payload =
        json!({"nodes": nodes, "title": title, "summary": summary, "events": data}).to_string();
    // Keep the data inert inside the page: no "</script>" can close the tag early.
    let payload = payload.replace("</", "<\\/");
    HTML_TEMPLATE
        .replace("/*DATA*/null", &payload)
        .replace("{{TITLE}}", &escape(title))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const HTML_TEMPLATE: &str = r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 12px; color: #222; }
#controls { margin: 6px 0 10px; display: flex; gap: 14px; align-items: center; flex-wrap: wrap; }
#controls input[type=number] { width: 90px; }
#summary { white-space: pre; font: 12px monospace; background: #f6f6f6; padding: 6px; }
#violation { color: #b00; font-weight: bold; margin: 6px 0; }
#status { color: #777; font-size: 11px; }
svg text { font: 11px monospace; }
.legend span { display: inline-block; margin-right: 12px; }
.sw { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
</style></head><body>
<h2 id="title"></h2>
<div id="summary"></div>
<div id="violation"></div>
<div id="controls">
  <label>from <input id="from" type="number" step="10"> ms</label>
  <label>to <input id="to" type="number" step="10"> ms</label>
  <label>zoom <input id="zoom" type="range" min="0.2" max="40" step="0.1" value="4"> px/ms</label>
  <label><input id="hb" type="checkbox"> heartbeats</label>
  <button id="redraw">draw</button>
</div>
<div class="legend">
  <span><i class="sw" style="background:#1f77b4"></i>append</span>
  <span><i class="sw" style="background:#bbb"></i>heartbeat</span>
  <span><i class="sw" style="background:#2ca02c"></i>append response</span>
  <span><i class="sw" style="background:#ff7f0e"></i>vote request/response</span>
  <span><i class="sw" style="background:#d62728"></i>dropped / cut</span>
  <span><i class="sw" style="background:#9467bd"></i>corruption</span>
  <span>shaded: leader (hue by term), hatched: down</span>
</div>
<div id="chart"></div>
<div id="status">loading</div>
<script>
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
function hue(term) { return (Number(term) * 47) % 360; }
function msgColor(m) {
  if (m.startsWith("AE") && m.endsWith("entries=-)")) return "#bbb";
  if (m.startsWith("AE")) return "#1f77b4";
  if (m.startsWith("AR")) return "#2ca02c";
  if (m.startsWith("V")) return "#ff7f0e";
  return "#8c564b";
}
const events = DATA.events;
const nodes = DATA.nodes;
const end = events.length ? events[events.length - 1].t : 0;
const violation = events.find(e => e.k === "violation");
document.getElementById("title").textContent = DATA.title;
document.getElementById("summary").textContent = DATA.summary;
if (violation) {
  document.getElementById("violation").textContent =
    "VIOLATION " + violation.property + " at " + (violation.t / 1000).toFixed(3) + " ms: " + violation.detail;
}
const fromInput = document.getElementById("from");
const toInput = document.getElementById("to");
if (violation) {
  fromInput.value = Math.max(0, Math.floor(violation.t / 1000) - 400);
  toInput.value = Math.ceil(violation.t / 1000) + 50;
} else {
  fromInput.value = 0;
  toInput.value = Math.min(Math.ceil(end / 1000), 1500);
}

// Spans per node: role (with term), down, stopped.
function spans() {
  const out = [];
  const open = new Array(nodes).fill(null);
  const close = (n, t) => { if (open[n]) { open[n].t1 = t; out.push(open[n]); open[n] = null; } };
  for (const e of events) {
    if (e.n === null || e.n >= nodes) continue;
    if (e.k === "role") { close(e.n, e.t); open[e.n] = { n: e.n, t0: e.t, kind: e.role, term: e.term }; }
    else if (e.k === "crash") { close(e.n, e.t); open[e.n] = { n: e.n, t0: e.t, kind: "down" }; }
    else if (e.k === "stopped") { close(e.n, e.t); open[e.n] = { n: e.n, t0: e.t, kind: "stopped" }; }
    else if (e.k === "start") { close(e.n, e.t); open[e.n] = { n: e.n, t0: e.t, kind: "follower", term: e.term }; }
    else if (e.k === "fault" && e.what && e.what.startsWith("pause")) {
      out.push({ n: e.n, t0: e.t, t1: Number(e.what.split(" ").pop()), kind: "paused" });
    }
  }
  for (let n = 0; n < nodes; n++) close(n, end);
  return out;
}
// Partition intervals from fault events.
function partitions() {
  const out = [];
  let cur = null;
  for (const e of events) {
    if (e.k === "fault" && e.n === null && e.what) {
      if (/^(split|isolate|one-way|bridge)/.test(e.what)) { if (cur) { cur.t1 = e.t; out.push(cur); } cur = { t0: e.t, what: e.what }; }
      else if (e.what === "heal" && cur) { cur.t1 = e.t; out.push(cur); cur = null; }
    } else if (e.k === "calm" && cur) { cur.t1 = e.t; out.push(cur); cur = null; }
  }
  if (cur) { cur.t1 = end; out.push(cur); }
  return out;
}
const SPANS = spans();
const PARTS = partitions();

function draw() {
  const t0 = Number(fromInput.value) * 1000;
  const t1 = Math.max(t0 + 1000, Number(toInput.value) * 1000);
  const pxPerUs = Number(document.getElementById("zoom").value) / 1000;
  const showHb = document.getElementById("hb").checked;
  const left = 60, laneH = 46, top = 30;
  const clients = [...new Set(events.filter(e => e.k === "invoke").map(e => e.client))].sort((a, b) => a - b);
  const clientLane = c => top + nodes * laneH + 20 + clients.indexOf(c) * 14;
  const height = top + nodes * laneH + 30 + clients.length * 14 + 20;
  const width = left + (t1 - t0) * pxPerUs + 20;
  const x = t => left + (t - t0) * pxPerUs;
  const y = n => top + n * laneH + laneH / 2;
  const chart = document.getElementById("chart");
  chart.innerHTML = "";
  const svg = el("svg", { width: width, height: height }, chart);
  const defs = el("defs", {}, svg);
  const pat = el("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 3, height: 6, fill: "#ccc" }, pat);
  const marker = el("marker", { id: "arrow", markerWidth: 6, markerHeight: 6, refX: 5, refY: 3, orient: "auto" }, defs);
  el("path", { d: "M0,0 L6,3 L0,6 z", fill: "#555" }, marker);
  let count = 0;
  // Time axis.
  const raw = (t1 - t0) / 12, p10 = Math.pow(10, Math.floor(Math.log10(raw)));
  const stepUs = raw / p10 < 2 ? 2 * p10 : raw / p10 < 5 ? 5 * p10 : 10 * p10;
  for (let t = Math.ceil(t0 / stepUs) * stepUs; t <= t1; t += stepUs) {
    el("line", { x1: x(t), x2: x(t), y1: top - 5, y2: height - 10, stroke: "#eee" }, svg);
    el("text", { x: x(t) + 2, y: top - 8, fill: "#888" }, svg, (t / 1000) + "ms");
  }
  for (const p of PARTS) {
    if (p.t1 < t0 || p.t0 > t1) continue;
    tip(el("rect", { x: x(Math.max(p.t0, t0)), y: top - 4, width: Math.max(2, (Math.min(p.t1, t1) - Math.max(p.t0, t0)) * pxPerUs), height: nodes * laneH + 4, fill: "rgba(214,39,40,0.06)", stroke: "rgba(214,39,40,0.3)" }, svg), "partition " + p.what);
    el("text", { x: x(Math.max(p.t0, t0)) + 2, y: top + nodes * laneH + 12, fill: "#d62728" }, svg, p.what);
  }
  for (let n = 0; n < nodes; n++) {
    el("line", { x1: left, x2: width, y1: y(n), y2: y(n), stroke: "#999" }, svg);
    el("text", { x: 4, y: y(n) + 4 }, svg, "n" + n);
  }
  for (const s of SPANS) {
    if (s.t1 < t0 || s.t0 > t1) continue;
    const xa = x(Math.max(s.t0, t0)), w = Math.max(1, (Math.min(s.t1, t1) - Math.max(s.t0, t0)) * pxPerUs);
    let fill = null;
    if (s.kind === "leader") fill = "hsla(" + hue(s.term) + ",70%,55%,0.35)";
    else if (s.kind === "candidate") fill = "hsla(" + hue(s.term) + ",70%,55%,0.12)";
    else if (s.kind === "down") fill = "url(#hatch)";
    else if (s.kind === "stopped") fill = "#333";
    else if (s.kind === "paused") fill = "rgba(0,0,0,0.08)";
    if (fill) { tip(el("rect", { x: xa, y: y(s.n) - laneH / 2 + 4, width: w, height: laneH - 8, fill: fill }, svg), s.kind + (s.term ? " term " + s.term : "")); count++; }
    if (s.kind === "leader") el("text", { x: xa + 2, y: y(s.n) - laneH / 2 + 14, fill: "#333" }, svg, "leader t" + s.term);
  }
  for (const e of events) {
    if (e.t < t0 || e.t > t1) continue;
    if (e.k === "send") {
      if (!showHb && e.msg.startsWith("AE") && e.msg.endsWith("entries=-)")) continue;
      const to = Number(e.to.slice(1));
      for (const a of String(e.arrive).split(",")) {
        const ta = Number(a);
        tip(el("line", { x1: x(e.t), y1: y(e.n), x2: x(Math.min(ta, t1)), y2: y(to), stroke: msgColor(e.msg), "stroke-width": 1, "marker-end": "url(#arrow)" }, svg), "n" + e.n + " -> " + e.to + " " + e.msg);
        count++;
      }
    } else if (e.k === "drop" || e.k === "cut" || e.k === "unsent") {
      tip(el("text", { x: x(e.t) - 3, y: y(e.n) + 4, fill: "#d62728" }, svg, "x"), e.k + " " + e.msg + " to " + e.to);
    } else if (e.k === "crash" || e.k === "stopped") {
      tip(el("text", { x: x(e.t) - 5, y: y(e.n) + 5, fill: "#d62728", "font-weight": "bold", "font-size": 16 }, svg, e.k === "crash" ? "\u2716" : "\u25A0"), e.k + " " + JSON.stringify(e));
    } else if (e.k === "fault" && e.n !== null) {
      const color = e.what.startsWith("corrupt") ? "#9467bd" : "#444";
      tip(el("circle", { cx: x(e.t), cy: y(e.n) + laneH / 2 - 6, r: 4, fill: color }, svg), e.what);
    } else if (e.k === "apply" && e.n !== null) {
      tip(el("rect", { x: x(e.t) - 1, y: y(e.n) + 6, width: 2, height: 8, fill: "#2ca02c" }, svg), "commit " + e.first + ".." + e.last);
    } else if (e.k === "violation") {
      el("line", { x1: x(e.t), x2: x(e.t), y1: top - 10, y2: height, stroke: "#d00", "stroke-width": 2 }, svg);
      el("text", { x: x(e.t) + 4, y: top + 2, fill: "#d00", "font-weight": "bold" }, svg, "violation: " + e.property);
    }
  }
  // Client operations: invoke to completion.
  const pending = {};
  for (const e of events) {
    if (e.k === "invoke") pending[e.client + "/" + e.seq] = e;
    else if (e.k === "complete") {
      const inv = pending[e.client + "/" + e.seq];
      if (!inv || e.t < t0 || inv.t > t1) continue;
      const color = e.outcome.startsWith("ok") ? "#2ca02c" : e.outcome === "unknown" ? "#ff7f0e" : "#999";
      tip(el("rect", { x: x(Math.max(inv.t, t0)), y: clientLane(e.client), width: Math.max(2, (Math.min(e.t, t1) - Math.max(inv.t, t0)) * pxPerUs), height: 9, fill: color }, svg), "client " + e.client + " " + inv.op + " -> " + e.outcome);
      count++;
    }
  }
  for (const c of clients) el("text", { x: 4, y: clientLane(c) + 8 }, svg, "c" + c);
  document.getElementById("status").textContent = "rendered " + count + " elements";
}
document.getElementById("redraw").onclick = draw;
draw();
</script></body></html>
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event;

    #[test]
    fn perfetto_output_is_json_with_flows() {
        let events = vec![
            event!(0, Some(0), "role", role = "leader", term = 2).into_event(),
            event!(
                10,
                Some(0),
                "send",
                to = "n1",
                msg = "AE(t2)",
                arrive = "20,30"
            )
            .into_event(),
            event!(40, None, "fault", what = "heal").into_event(),
        ];
        let text = perfetto(&events, 2);
        let value: Value = serde_json::from_str(&text).unwrap();
        let list = value["traceEvents"].as_array().unwrap();
        assert_eq!(list.iter().filter(|e| e["ph"] == "s").count(), 2);
        assert_eq!(list.iter().filter(|e| e["ph"] == "f").count(), 2);
        assert!(list
            .iter()
            .any(|e| e["ph"] == "X" && e["name"] == "leader t2"));
    }

    #[test]
    fn html_embeds_data_inertly() {
        let events = vec![event!(0, None, "fault", what = "</script><b>").into_event()];
        let page = html(&events, 1, "t<1>", "s");
        assert!(!page.contains("</script><b>"));
        assert!(page.contains("<title>t&lt;1&gt;</title>"));
    }
}
