//! Test support shared by the integration tests (`mod support;`): fake servers that speak the
//! real wire formats of the paid cloud APIs, peers (SIPp, Postgres), the local models, and
//! scratch directories that clean up after themselves (`tmp`).

#![allow(dead_code)]

pub mod fake_openai;
pub mod models;
pub mod postgres;
pub mod sip;
pub mod sipp;
pub mod tmp;
