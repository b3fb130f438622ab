//! What runs steps and the person layer without being a step: the sweep (due dates on every
//! managed user, on a schedule), the mass-departure quarantine an operator decides, and the
//! adoption of a user made by hand (`roster import --apply`), and closing an access review. The in-process pipeline of HR
//! events is [`crate::pipeline`].

pub mod adopt;
#[cfg(feature = "secrets")]
pub mod quarantine;
#[cfg(feature = "review")]
pub mod review;
#[cfg(feature = "secrets")]
pub mod sweep;
