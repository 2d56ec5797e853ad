//! The example architectures of models/, compiled into the binary (see build.rs).

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The `//` comment block at the top of a model file, without the slashes: what it shows and
/// what to look for.
pub fn leading_comment(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_start)
        .take_while(|l| l.starts_with("//") || l.is_empty())
        .map(|l| {
            l.strip_prefix("//")
                .map(|r| r.strip_prefix(' ').unwrap_or(r))
                .unwrap_or("")
        })
        .collect();
    let joined = lines.join("\n").trim().to_string();
    (!joined.is_empty()).then_some(joined)
}
