//! `parse::rules::parse`: the format detected from the text, then that format's reader. The
//! answer must be the detected reader's own (same entries, notes and counts, or the same
//! error), keep the invariants of common/rules.rs, and an undetected text is an error without
//! a line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::rules::{self, iptables, ipvs, nft, Format, Mode, ParseError, Programmed};

#[path = "common/rules.rs"]
mod common;

fn reader(f: Format) -> fn(&str) -> Result<Programmed, ParseError> {
    match f {
        Format::IptablesSave => iptables::parse_save,
        Format::IptablesList => iptables::parse_list,
        Format::Nft => nft::parse_text,
        Format::NftJson => nft::parse_json,
        Format::IpvsadmList => ipvs::parse_list,
        Format::IpvsadmSave => ipvs::parse_save,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let detected = rules::detect(&text);
    if text.trim_start().starts_with('{') {
        assert_eq!(detected, Some(Format::NftJson));
    }
    match (detected, rules::parse(&text)) {
        (None, Ok(_)) => panic!("parsed without a detected format"),
        (None, Err(e)) => assert_eq!(e.line, 0, "{e}"),
        (Some(f), Ok((g, p))) => {
            assert_eq!(f, g);
            assert_eq!(
                g.mode(),
                match g {
                    Format::IptablesSave | Format::IptablesList => Mode::Iptables,
                    Format::Nft | Format::NftJson => Mode::Nftables,
                    Format::IpvsadmList | Format::IpvsadmSave => Mode::Ipvs,
                }
            );
            common::check(f, &text, &p);
            let direct = reader(f)(&text).expect("the detected reader fails on its own");
            assert_eq!(p.frontends, direct.frontends);
            assert_eq!(p.masquerade, direct.masquerade);
            assert_eq!(p.notes, direct.notes);
            assert_eq!((p.lines, p.kube_lines), (direct.lines, direct.kube_lines));
        }
        (Some(f), Err(e)) => {
            common::check_error(f, &text, &e);
            assert_eq!(reader(f)(&text).err(), Some(e));
        }
    }
});
