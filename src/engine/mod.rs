//! The discrete-event engine: time, the event queue, random streams, compiled programs and the
//! simulation loop.

pub mod program;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;
