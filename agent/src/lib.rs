//! The Switchboard runtime as a library, so `tests/` can boot it.

pub mod cli;
