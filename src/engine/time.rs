//! Simulated time: integer nanoseconds, so that event order never depends on float rounding.
//! Units appear only at the edges (`_ms`, `_s` in names).

/// Nanoseconds since the start of a run.
pub type Time = u64;

pub const NS_PER_MS: f64 = 1e6;
pub const NS_PER_S: f64 = 1e9;

pub fn from_s(s: f64) -> Time {
    (s * NS_PER_S).round() as Time
}

pub fn from_ms(ms: f64) -> Time {
    (ms * NS_PER_MS).round() as Time
}

pub fn to_ms(t: Time) -> f64 {
    t as f64 / NS_PER_MS
}

pub fn to_s(t: Time) -> f64 {
    t as f64 / NS_PER_S
}
