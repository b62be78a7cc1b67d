//! `docs/state-machine.md` draws the machine from [`auth_core::TRANSITIONS`]: this test
//! fails when the picture and the code drift apart, and prints the diagram to paste.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::Path;

#[test]
fn the_documented_diagram_is_the_one_the_code_draws() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/state-machine.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc.find("```mermaid\n").unwrap() + "```mermaid\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let expected = auth_core::state_diagram();
    assert!(
        doc[start..end] == expected,
        "docs/state-machine.md is out of date; its diagram should read:\n{expected}"
    );
}

#[test]
fn every_phase_appears_in_the_diagram() {
    let diagram = auth_core::state_diagram();
    for phase in auth_core::Phase::ALL {
        assert!(diagram.contains(&format!("{phase:?}")), "{phase:?} is missing");
    }
}
