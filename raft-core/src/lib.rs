//! raft-core (crate docs written with the node).
pub mod codec;
pub mod message;
pub mod storage;
pub mod types;

pub use message::*;
pub use types::*;
