//! Parsers for what components write: command lines, logs, and configuration documents.
//! All of them take untrusted text and report what they cannot read instead of panicking.

pub mod config;
pub mod flags;
pub mod logs;
pub mod rules;
