//! Test support shared by the integration tests (`mod support;`): fake servers that speak the
//! real wire formats of the paid cloud APIs.

#![allow(dead_code)]

pub mod fake_openai;
pub mod models;
pub mod postgres;
pub mod sip;
pub mod sipp;
