//! Statistics: streaming histograms and the summaries of runs and replications.

pub mod histogram;
pub mod summary;
pub mod timeline;
