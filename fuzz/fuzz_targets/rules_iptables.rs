//! iptables mode's readers, each driven directly on the same input: `iptables::parse_save`
//! (`iptables-save`) and `iptables::parse_list` (`iptables -t nat -L -n [--line-numbers]`).
//! Invariants: common/rules.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::rules::{iptables, Format};

#[path = "common/rules.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    common::run(Format::IptablesSave, &text, iptables::parse_save);
    common::run(Format::IptablesList, &text, iptables::parse_list);
});
