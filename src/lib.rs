//! netcheck: how a Kubernetes cluster's networking is laid out and where it is broken.
//! collect (live API / node files / snapshot) -> model -> discover + checks -> render.

pub mod analyze;
pub mod app;
pub mod checks;
pub mod cidr;
pub mod cli;
pub mod collect;
pub mod discover;
pub mod explain;
pub mod model;
pub mod parse;
pub mod practice;
pub mod render;
pub mod report;
