//! Charts (stub: being written).

use super::{Chart, SweepOutput};

pub fn render_all(_out: &SweepOutput) -> Vec<Chart> {
    Vec::new()
}
