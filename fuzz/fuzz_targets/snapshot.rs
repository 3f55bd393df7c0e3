//! Snapshot loading (`--snapshot FILE`) on arbitrary bytes; whatever loads is analysed in full
//! (every topic, with --explain; and the Services view of every Service) and must save and
//! load again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::analyze::analyze;
use netcheck::report::{Command, Scope};
use netcheck::collect::snapshot;
use netcheck::discover::Hints;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = snapshot::from_reader(data, "fuzz") else {
        return;
    };
    for command in [Command::Report, Command::Services] {
        let report = analyze(&c, &Hints::default(), command, true, &Scope::default());
        assert_eq!(
            report.summary.errors + report.summary.warnings + report.summary.infos,
            report.findings.len()
        );
    }


    let mut saved = Vec::new();
    snapshot::save(&c, &mut saved).expect("saving to memory cannot fail");
    let again = snapshot::from_reader(saved.as_slice(), "fuzz-resaved")
        .unwrap_or_else(|e| panic!("a loaded snapshot does not load after saving: {}", e.0));
    let mut resaved = Vec::new();
    snapshot::save(&again, &mut resaved).unwrap();
    assert_eq!(saved, resaved, "save/load/save is not stable");
});
