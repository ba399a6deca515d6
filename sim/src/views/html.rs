//! The HTML view: a self-contained page (no network needed) drawing one lane per node and
//! per client. The data is the trace's events plus a little the caller knows about the run;
//! the drawing is `page.js`, the markup and style `page.html`.

use super::fields;
use crate::config::Micros;
use crate::history::Verdict;
use crate::linearizability::PENDING;
use crate::trace::TraceEvent;
use crate::world::RunReport;
use serde_json::{json, Value};

/// What the page says about the run besides its events.
#[derive(Clone, Debug, Default)]
pub struct Page<'a> {
    pub title: &'a str,
    /// One line under the title (size, events, verdict).
    pub summary: &'a str,
    /// The last `spare_nodes` nodes started outside the membership.
    pub spare_nodes: usize,
    /// The window the page opens on, when there is a violation.
    pub focus: Option<Focus>,
}

/// Where a violation is: the window of virtual time the page opens on, and the client
/// operations it is about (a linearizability counterexample's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Focus {
    pub from: Micros,
    pub to: Micros,
    /// (client, invocation time) of each operation the violation names.
    pub ops: Vec<(u64, Micros)>,
}

/// The window that shows a run's violation: the last 300 ms before a safety violation; the
/// operations of a linearizability counterexample; the liveness phase of a liveness failure.
pub fn focus(report: &RunReport) -> Option<Focus> {
    let violation = report.violation.as_ref()?;
    if let Some(Verdict::NotLinearizable(c)) = &report.linearizability {
        let named = &c.named_ops;
        if !named.is_empty() {
            let from = named.iter().map(|op| op.call).min().unwrap_or(0);
            let to = named
                .iter()
                .map(|op| {
                    if op.ret == PENDING {
                        report.end_time
                    } else {
                        op.ret
                    }
                })
                .max()
                .unwrap_or(report.end_time);
            let margin = (to - from) / 10 + 20_000;
            return Some(Focus {
                from: from.saturating_sub(margin),
                to: to + margin,
                ops: named.iter().map(|op| (op.client, op.call)).collect(),
            });
        }
    }
    if violation.property == crate::checkers::Property::Liveness {
        return Some(Focus {
            from: report.config.chaos_us.saturating_sub(100_000),
            to: report.end_time,
            ops: Vec::new(),
        });
    }
    Some(Focus {
        from: violation.time.saturating_sub(300_000),
        to: violation.time + 40_000,
        ops: Vec::new(),
    })
}

/// The page with a title and a summary line only (no spare nodes, no focus).
pub fn html(events: &[TraceEvent], nodes: usize, title: &str, summary: &str) -> String {
    html_page(
        events,
        nodes,
        &Page {
            title,
            summary,
            ..Page::default()
        },
    )
}

/// A self-contained HTML page: one lane per node (spare nodes marked), messages as arrows
/// coloured by kind, dropped and cut messages, partitions with each node's side, crashes,
/// pauses and corruption, leader terms shaded, the violation highlighted, and one lane per
/// client with each operation from invocation to completion (or still pending). A trace with
/// script steps (a scenario) is laid out step by step instead of by time.
pub fn html_page(events: &[TraceEvent], nodes: usize, page: &Page) -> String {
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
    let focus = page.focus.as_ref().map_or(
        Value::Null,
        |f| json!({"from": f.from, "to": f.to, "ops": f.ops}),
    );
    let payload = json!({
        "nodes": nodes,
        "spare": page.spare_nodes,
        "title": page.title,
        "summary": page.summary,
        "focus": focus,
        "events": data,
    })
    .to_string();
    // Keep the data inert inside the page: no "</script>" can close the tag early.
    let payload = payload.replace("</", "<\\/");
    // Script first, then the title: the title's placeholder comes first in the page, so the
    // text of neither the title nor the data is ever searched for a placeholder.
    let script = PAGE_JS.replacen("/*DATA*/null", &payload, 1);
    PAGE_HTML
        .replacen("/*SCRIPT*/", &script, 1)
        .replacen("{{TITLE}}", &escape(page.title), 1)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const PAGE_HTML: &str = include_str!("page.html");
const PAGE_JS: &str = include_str!("page.js");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event;

    #[test]
    fn html_embeds_data_inertly() {
        let events = vec![event!(0, None, "fault", what = "</script><b>").into_event()];
        let page = html(&events, 1, "t<1>", "s");
        assert!(!page.contains("</script><b>"));
        assert!(page.contains("<title>t&lt;1&gt;</title>"));
        assert!(!page.contains("/*DATA*/"), "the data was not filled in");
    }

    #[test]
    fn a_safety_violation_is_in_its_window() {
        let mut config = crate::SimConfig::draw(1);
        config.chaos_us = 500_000;
        let mut report = crate::run(config, &crate::RunOptions::default());
        assert_eq!(focus(&report), None, "a passing run has no focus");
        report.violation = Some(crate::Violation {
            property: crate::Property::ElectionSafety,
            time: 1_000_000,
            node: Some(0),
            detail: "two leaders".into(),
        });
        let f = focus(&report).unwrap();
        assert!(f.from < 1_000_000 && 1_000_000 < f.to, "{f:?}");
    }
}
