//! The HTML report (stub: being written).

use super::{Chart, SweepOutput};

pub fn render(out: &SweepOutput, _charts: &[Chart]) -> String {
    format!("<!doctype html><title>{}</title>", out.title)
}
