//! Embeds every model in models/ into the binary, so `archsim tour` works from any directory.

use std::fmt::Write as _;

fn main() {
    println!("cargo:rerun-if-changed=models");
    let mut files: Vec<_> = std::fs::read_dir("models")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ron"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// Bundled models: (file name, contents), in file-name order.\npub const BUNDLED: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        let abs = std::fs::canonicalize(f).unwrap();
        println!("cargo:rerun-if-changed={}", f.display());
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("bundled.rs");
    std::fs::write(dest, out).unwrap();
}
