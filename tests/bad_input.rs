//! Bad input: every malformed model in `tests/bad_models/` must be rejected by the real binary
//! with exit status 2, nothing on stdout, and a message on stderr that names the file, the line and
//! the column of the offending value and says what was expected. The message of each file is kept
//! as an insta snapshot in `tests/snapshots/`, so any change to the wording or the position shows
//! up in review.
//!
//! To regenerate the snapshots after an intended change:
//! `INSTA_FORCE_PASS=1 INSTA_UPDATE=always cargo test --release --test bad_input`, then read the
//! diff of `tests/snapshots/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root: every command runs there, so paths in messages are short and stable.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(root())
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the archsim binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// The `.ron` files of a directory (relative to the crate root), sorted by name.
fn ron_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("cannot read {dir}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .map(|p| {
            format!(
                "{dir}/{}",
                p.file_name().expect("a file name").to_string_lossy()
            )
        })
        .collect();
    files.sort();
    files
}

fn bad_models() -> Vec<String> {
    let files = ron_files("tests/bad_models");
    assert!(
        files.len() >= 30,
        "the corpus needs at least 30 malformed models, found {}",
        files.len()
    );
    files
}

fn stem(file: &str) -> String {
    PathBuf::from(file)
        .file_stem()
        .expect("a file stem")
        .to_string_lossy()
        .into_owned()
}

/// The `(line, col)` of every `FILE:LINE:COL: error:` line of `stderr` about `file`.
fn error_positions(stderr: &str, file: &str) -> Vec<(usize, usize)> {
    let prefix = format!("{file}:");
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (pos, _) = rest.split_once(": error:")?;
            let (line, col) = pos.split_once(':')?;
            Some((line.parse().ok()?, col.parse().ok()?))
        })
        .collect()
}

fn assert_no_panic(stderr: &str, what: &str) {
    for word in ["panicked", "RUST_BACKTRACE", "internal error"] {
        assert!(
            !stderr.contains(word),
            "{what}: stderr has `{word}`:\n{stderr}"
        );
    }
}

/// Checks what every rejection of a bad model must satisfy and returns its stderr.
fn assert_rejected(out: &Output, file: &str, what: &str) -> String {
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit status must be 2; stderr:\n{stderr}"
    );
    assert!(
        stdout.is_empty(),
        "{what}: stdout must be empty, got:\n{stdout}"
    );
    assert_no_panic(&stderr, what);
    let positions = error_positions(&stderr, file);
    assert!(
        !positions.is_empty(),
        "{what}: stderr must contain `{file}:LINE:COL: error:`, got:\n{stderr}"
    );
    let source = std::fs::read_to_string(root().join(file)).expect("the model is readable");
    let line_count = source.lines().count().max(1);
    for &(line, col) in &positions {
        // Every corpus file starts with a comment line, so 1:1 (the fallback when a value's
        // position is unknown) is never the offending value.
        assert!(
            (line, col) != (1, 1),
            "{what}: the error points at the start of the file, not at the offending value:\n{stderr}"
        );
        assert!(
            line >= 1 && line <= line_count && col >= 1,
            "{what}: position {line}:{col} is outside the file ({line_count} lines):\n{stderr}"
        );
    }
    assert!(
        stderr.to_lowercase().contains("expected"),
        "{what}: the message must say what was expected:\n{stderr}"
    );
    stderr
}

#[test]
fn every_bad_model_starts_with_a_comment_saying_what_is_wrong() {
    for file in bad_models() {
        let source = std::fs::read_to_string(root().join(&file)).expect("readable");
        let first = source.lines().next().unwrap_or("");
        assert!(
            first.starts_with("// ") && first.len() > 10,
            "{file}: the first line must be a `//` comment saying what is wrong"
        );
    }
}

#[test]
fn validate_rejects_every_bad_model_with_position_and_expectation() {
    for file in bad_models() {
        let out = archsim(&["validate", &file]);
        let stderr = assert_rejected(&out, &file, &format!("validate {file}"));
        insta::assert_snapshot!(stem(&file), stderr);
    }
}

#[test]
fn run_rejects_every_bad_model_without_output() {
    for file in bad_models() {
        let out = archsim(&["run", &file]);
        assert_rejected(&out, &file, &format!("run {file}"));
        let out = archsim(&["run", &file, "--json"]);
        assert_rejected(&out, &file, &format!("run --json {file}"));
    }
}

#[test]
fn graph_rejects_every_bad_model_without_output() {
    for file in bad_models() {
        let out = archsim(&["graph", &file]);
        assert_rejected(&out, &file, &format!("graph {file}"));
    }
}

#[test]
fn a_missing_file_is_named_and_exits_2() {
    let file = "tests/bad_models/does-not-exist.ron";
    for cmd in ["validate", "run", "graph"] {
        let out = archsim(&[cmd, file]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: stderr:\n{stderr}");
        assert!(out.stdout.is_empty(), "{cmd}: stdout must be empty");
        assert!(
            stderr.contains(file),
            "{cmd}: the message must name the file:\n{stderr}"
        );
        assert!(stderr.contains("error"), "{cmd}: stderr:\n{stderr}");
        assert_no_panic(&stderr, cmd);
    }
}

#[test]
fn validate_good_and_bad_exits_2_and_reports_the_bad_one() {
    let good = "models/01-single-server.ron";
    let bad = "tests/bad_models/24-zero-workers.ron";
    for args in [["validate", good, bad], ["validate", bad, good]] {
        let out = archsim(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: stderr:\n{stderr}");
        assert!(
            !error_positions(&stderr, bad).is_empty(),
            "{args:?}: the bad model must be reported:\n{stderr}"
        );
        assert!(
            error_positions(&stderr, good).is_empty(),
            "{args:?}: the good model must not be reported as an error:\n{stderr}"
        );
        assert_no_panic(&stderr, "validate good bad");
    }
}

#[test]
fn validate_reports_every_bad_model_of_a_list() {
    let files = bad_models();
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let out = archsim(&args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no model of the corpus is valid");
    assert_no_panic(&stderr, "validate corpus");
    for file in &files {
        assert!(
            !error_positions(&stderr, file).is_empty(),
            "{file} is not reported when validated with the others:\n{stderr}"
        );
    }
}

#[test]
fn validate_accepts_every_bundled_model() {
    let models = ron_files("models");
    assert!(!models.is_empty(), "models/ has no .ron files");
    let mut args = vec!["validate"];
    args.extend(models.iter().map(String::as_str));
    let out = archsim(&args);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "bundled models must be valid; stderr:\n{stderr}"
    );
    assert!(!stderr.contains(": error:"), "stderr:\n{stderr}");
    let stdout = text(&out.stdout);
    for m in &models {
        assert!(
            stdout.contains(m.as_str()),
            "`validate` must confirm {m}:\n{stdout}"
        );
    }
}

#[test]
fn all_independent_mistakes_are_reported_together() {
    let file = "tests/bad_models/49-several-mistakes.ron";
    let out = archsim(&["validate", file]);
    let stderr = assert_rejected(&out, file, "several mistakes");
    let errors = stderr.matches(": error:").count();
    assert_eq!(
        errors, 4,
        "four independent mistakes must give four errors:\n{stderr}"
    );
    // In the order of the file, each at its own value.
    let positions = error_positions(&stderr, file);
    assert_eq!(positions, vec![(8, 21), (12, 22), (15, 26), (15, 44)]);
    for needle in ["timeout", "workers", "probability", "`cache`"] {
        assert!(stderr.contains(needle), "`{needle}` missing:\n{stderr}");
    }
}

#[test]
fn errors_found_after_parsing_point_at_the_offending_value() {
    // The span scanner must find values inside nested steps, `Some(...)` and after comments.
    let file = "tests/bad_models/37-parallel-empty-branch.ron";
    let out = archsim(&["validate", file]);
    let stderr = assert_rejected(&out, file, "nested value");
    assert_eq!(error_positions(&stderr, file), vec![(13, 54)]);
    let file = "tests/bad_models/46-warmup-not-shorter.ron";
    let out = archsim(&["validate", file]);
    let stderr = assert_rejected(&out, file, "sim value");
    assert_eq!(error_positions(&stderr, file), vec![(11, 43)]);
}
