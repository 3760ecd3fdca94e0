//! Renderers: each turns a [`crate::report::Report`] into one output format.
//!
//! Renderers read only the report model and write to `&mut impl Write`; they never decide
//! anything about the network. `progress` draws the live line on a terminal while checks
//! run.

pub mod json;
pub mod progress;
pub mod table;
