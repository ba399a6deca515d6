//! Scripted scenarios (filled by the scenarios issue).
