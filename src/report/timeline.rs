//! The timeline chart of one run (stub until the chart is drawn; see charts.rs for the others).

use crate::stats::timeline::Timeline;

/// A file-name-safe form of a model name.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let parts: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        "model".into()
    } else {
        parts.join("-")
    }
}

/// (file name, bytes) of the timeline chart files: `timeline-<slug>.svg` and `.png`.
pub fn render(_model: &str, _tl: &Timeline) -> Vec<(String, Vec<u8>)> {
    Vec::new()
}
