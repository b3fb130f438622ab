//! Domain crate of the employee-lifecycle automation.
//!
//! Pure modules (no I/O, unit-tested without AWS): [`event`], [`username`], [`password`], [`policies`],
//! [`mapping`], [`tags`], [`config`], [`intent`], [`lifecycle`], [`audit`], [`secret`], [`html`], [`review`] (access reviews:
//! the model, tokens, the page; its API over the store needs `tombstones`).
//! Effects (the only modules that name SDK types): [`aws`].
//! Behaviour, from the bottom up: [`flow`] (the steps and each flow's order), [`context`] (what
//! every operation runs with) and the trail; [`person`] (what happens to a person: ownership,
//! credentials, ending access, notices); [`steps`] (one module per Lambda step); [`drivers`]
//! (sweep, quarantine, adoption) and [`pipeline`] (the step order, once).

pub mod archive;
pub mod arn;
pub mod audit;
pub mod aws;
pub mod config;
pub mod context;
pub mod drivers;
pub mod error;
pub mod event;
pub mod flow;
#[cfg(test)]
mod fuzz;
pub mod html;
pub mod intake;
pub mod intent;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod lanes;
pub mod lifecycle;
pub mod mapping;
#[cfg(feature = "identity-center")]
pub mod pace;
pub mod password;
pub mod person;
#[cfg(feature = "secrets")]
pub mod pipeline;
pub mod policies;
pub mod retry;
pub mod review;
pub mod secret;
pub mod steps;
pub mod tags;
pub(crate) mod trail;
pub mod username;
pub mod webhook;

pub use error::{Error, ValidationError};
