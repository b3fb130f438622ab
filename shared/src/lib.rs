//! Domain crate of the employee-lifecycle automation.
//!
//! Pure modules (no I/O, unit-tested without AWS): [`event`], [`username`], [`password`], [`policies`],
//! [`mapping`], [`tags`], [`config`], [`intent`], [`lifecycle`], [`audit`], [`secret`].
//! Effects (the only modules that name SDK types): [`aws`].
//! Behaviour: [`steps`] (one module per Lambda step) and [`pipeline`] (the step order, once).

pub mod archive;
pub mod audit;
pub mod aws;
pub mod config;
pub mod error;
pub mod event;
#[cfg(test)]
mod fuzz;
pub mod intake;
pub mod intent;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod lanes;
pub mod lifecycle;
pub mod mapping;
pub mod password;
#[cfg(feature = "secrets")]
pub mod pipeline;
pub mod policies;
pub mod retry;
pub mod secret;
pub mod steps;
pub mod tags;
pub mod username;
pub mod webhook;

pub use error::{Error, ValidationError};
