//! The check behind the `load_and_run` fuzz target (and the `replay` binary).
//!
//! For any input:
//! - loading never panics;
//! - an invalid model gives at least one diagnostic, each rendered as `fuzz.ron:LINE:COL: error: …`
//!   with LINE and COL inside the text (COL may be one past the end of its line, for an error at
//!   the end of input), or, for an error that has no position, `fuzz.ron: error: …`;
//! - a valid model simulates a short bounded run (2 s, 0.5 s warm-up, at most 200 000 events, one
//!   replication) without panicking, with requests conserved and the event limit respected.

use archsim::model::{LoadError, Model};
use archsim::runner::{RunOptions, run_point};

/// The name the fuzzed text is loaded under; error messages start with it.
pub const FILE: &str = "fuzz.ron";

/// Events allowed per run.
pub const MAX_EVENTS: u64 = 200_000;

/// The run settings every valid model is simulated with.
pub fn options() -> RunOptions {
    RunOptions {
        duration_s: Some(2.0),
        warmup_s: Some(0.5),
        max_events: Some(MAX_EVENTS),
        // A fuzzed `sim: Sim(replications: …)` must not multiply the cost of one input.
        replications: Some(1),
        ..RunOptions::at_traffic(1.0)
    }
}

/// Runs the whole check on one input; panics (with the reason) on a failure.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Model::from_text(text, FILE) {
        Err(e) => check_error(&e, text),
        Ok(model) => {
            let summary = run_point(&model, &options())
                .unwrap_or_else(|e| panic!("a valid model was refused at run time: {e}"));
            assert!(
                summary.checks.conservation,
                "requests were not conserved: {:?}",
                summary.requests
            );
            assert!(
                summary.engine.events <= MAX_EVENTS,
                "{} events processed, more than the limit of {MAX_EVENTS}",
                summary.engine.events
            );
        }
    }
}

/// Checks every diagnostic of a load error: its position lies inside `text`, and it renders in
/// the `file:line:col: error: message` form.
pub fn check_error(e: &LoadError, text: &str) {
    assert!(
        !e.diagnostics.is_empty(),
        "a load error without diagnostics"
    );
    // Lines as an editor numbers them: split on '\n' only, so a text ending in a newline has an
    // empty last line where an error at the end of input may point.
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &e.diagnostics {
        let one = LoadError {
            file: e.file.clone(),
            diagnostics: vec![d.clone()],
            text: e.text.clone(),
        }
        .to_string();
        let p = d.span.start;
        if p.line == 0 {
            let prefix = format!("{FILE}: error: ");
            assert!(
                one.starts_with(&prefix),
                "a diagnostic without a position must start with {prefix:?}, got {one:?}"
            );
            continue;
        }
        let prefix = format!("{FILE}:{}:{}: error: ", p.line, p.col);
        assert!(
            one.starts_with(&prefix),
            "the message must start with {prefix:?}, got {one:?}"
        );
        assert!(
            p.line <= lines.len(),
            "line {} is past the end of the text ({} lines): {one}",
            p.line,
            lines.len()
        );
        let width = lines[p.line - 1].chars().count();
        assert!(
            p.col >= 1 && p.col <= width + 1,
            "column {} is outside line {} ({width} characters): {one}",
            p.col,
            p.line
        );
    }
}
