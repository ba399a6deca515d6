//! Real outages and bug reports, replayed as scripts.

#[allow(unused_imports)]
use crate::{Script, Sel, Setup};

crate::scenarios!("outages", "outage_", []);
