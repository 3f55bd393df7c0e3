//! ipvs mode's readers, each driven directly on the same input: `ipvs::parse_list`
//! (`ipvsadm -Ln`, optionally followed by `ip addr show kube-ipvs0`) and `ipvs::parse_save`
//! (`ipvsadm-save -n`). Invariants: common/rules.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::rules::{ipvs, Format};

#[path = "common/rules.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    common::run(Format::IpvsadmList, &text, ipvs::parse_list);
    common::run(Format::IpvsadmSave, &text, ipvs::parse_save);
});
