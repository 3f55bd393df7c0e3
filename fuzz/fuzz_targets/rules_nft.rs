//! nftables mode's readers, each driven directly on the same input: `nft::parse_text`
//! (`nft list ruleset`) and `nft::parse_json` (`nft -j list ruleset`).
//! Invariants: common/rules.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::rules::{nft, Format};

#[path = "common/rules.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    common::run(Format::Nft, &text, nft::parse_text);
    common::run(Format::NftJson, &text, nft::parse_json);
});
