//! Runs the `load_and_run` check over files, without libFuzzer (so it works on stable Rust):
//!
//! ```sh
//! cargo run --release --bin replay -- corpus/load_and_run [more files or directories]
//! ```
//!
//! Each argument is a file or a directory (read one level deep). A failing input is named on
//! stderr with the panic message; the exit status is 1 when any input failed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut files: Vec<PathBuf> = Vec::new();
    for arg in std::env::args_os().skip(1) {
        let path = PathBuf::from(arg);
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path);
        }
    }
    if files.is_empty() {
        eprintln!("usage: replay FILE_OR_DIR...");
        return ExitCode::from(2);
    }
    let mut failed = 0usize;
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
        if catch_unwind(AssertUnwindSafe(|| archsim_fuzz::check(&data))).is_err() {
            eprintln!("FAILED: {}", f.display());
            failed += 1;
        }
    }
    println!("{} passed, {failed} failed", files.len() - failed);
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
