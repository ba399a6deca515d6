//! Views of a trace: Chrome trace-event JSON for ui.perfetto.dev (`perfetto.rs`), and a
//! self-contained HTML space-time diagram (`html.rs`, with the page's markup and script in
//! `page.html` and `page.js`).
//!
//! Both read only the trace events (and, for the HTML page, what the caller knows about the
//! run: its verdict, its spare nodes and where the violation is); neither changes a run.

mod html;
mod perfetto;

pub use html::{focus, html, html_page, Focus, Page};
pub use perfetto::perfetto;

use crate::trace::TraceEvent;
use serde_json::Value;

/// The `arrive` field of a send event: one time per delivery (two for a duplicate).
fn arrivals(event: &TraceEvent) -> Vec<u64> {
    event
        .field("arrive")
        .map(|a| a.split(',').filter_map(|t| t.parse().ok()).collect())
        .unwrap_or_default()
}

/// The node a `to=nK` field names.
fn target_node(event: &TraceEvent) -> Option<usize> {
    event.field("to")?.strip_prefix('n')?.parse().ok()
}

/// The event's fields as a JSON object.
fn fields(e: &TraceEvent) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in &e.fields {
        map.insert((*k).into(), v.clone().into());
    }
    Value::Object(map)
}
