//! `docs/state-machine.md` draws the machine from [`auth_core::RULES`], and `docs/contract.md`
//! shows [`auth_core::ANSWER_RULES`]: these tests fail when a picture and the code drift
//! apart, and print what to paste.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::Path;

fn doc(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap()
}

/// The text between a start marker and the next end marker.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
    let to = from
        + text[from..]
            .find(end)
            .unwrap_or_else(|| panic!("no {end:?} after {start:?}"));
    &text[from..to]
}

#[test]
fn the_documented_diagram_is_the_one_the_rules_draw() {
    let expected = auth_core::state_diagram();
    let doc = doc("state-machine.md");
    assert!(
        between(&doc, "```mermaid\n", "```") == expected,
        "docs/state-machine.md is out of date; its diagram should read:\n{expected}"
    );
}

#[test]
fn the_documented_rules_table_is_the_code_s() {
    let expected = auth_core::rules_table();
    let doc = doc("state-machine.md");
    assert!(
        between(&doc, "<!-- rules table -->\n", "<!-- end -->") == expected,
        "docs/state-machine.md is out of date; its rules table should read:\n{expected}"
    );
}

#[test]
fn the_documented_answer_table_is_the_code_s() {
    let expected = auth_core::answer_table();
    let doc = doc("contract.md");
    assert!(
        between(&doc, "<!-- answer table -->\n", "<!-- end -->") == expected,
        "docs/contract.md is out of date; its answer table should read:\n{expected}"
    );
}

#[test]
fn every_phase_appears_in_the_diagram() {
    let diagram = auth_core::state_diagram();
    for phase in auth_core::Phase::ALL {
        assert!(diagram.contains(phase.name()), "{phase:?} is missing");
    }
}
