//! The timeline chart of one run (stub until the chart is drawn; see charts.rs for the others).

use crate::stats::timeline::Timeline;

/// (file name, bytes) of the timeline chart files.
pub fn render(_model: &str, _tl: &Timeline) -> Vec<(String, Vec<u8>)> {
    Vec::new()
}
