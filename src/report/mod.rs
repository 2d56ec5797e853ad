//! Reports: what users read. Terminal tables here; files (CSV, JSON, charts, HTML) in the
//! submodules. Reports see summaries only, never the engine.

pub mod terminal;
