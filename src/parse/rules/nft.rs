//! nftables mode: kube-proxy's `ip kube-proxy` / `ip6 kube-proxy` tables.

use super::{err, ParseError, Programmed};

pub fn parse_text(_text: &str) -> Result<Programmed, ParseError> {
    Err(err(0, "nft ruleset: not read yet"))
}

pub fn parse_json(_text: &str) -> Result<Programmed, ParseError> {
    Err(err(0, "nft -j ruleset: not read yet"))
}
