//! The lifecycle steps. Each is one Lambda binary's behaviour, also run in process by the CLI
//! and the tests. A step takes the [`State`] (the HR event plus the outputs of earlier steps, as
//! a state machine hands it over) and returns its own typed output.
//!
//! The table of contents: [`flow`] (the steps and each flow's order), [`state`] (what flows
//! between steps), [`context`] (`Ctx`, `Targets`), [`trail`] (each action recorded, sent per step), [`person`],
//! [`identity`] (whose user, proven), one module per step, [`adopt`] (the operator's), [`quarantine`] and [`sweep`]; `run`
//! below dispatches one step.

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

mod context;
mod flow;
mod person;
mod state;
pub(crate) mod trail;

pub mod adopt;
pub mod create_user;
pub mod identity;
pub mod join_groups;
pub mod notify;
#[cfg(feature = "secrets")]
pub mod offboard;
#[cfg(feature = "secrets")]
pub mod quarantine;
pub mod record;
#[cfg(feature = "secrets")]
pub mod store_password;
#[cfg(feature = "secrets")]
pub mod sweep;
pub mod tag_user;

pub use context::{Ctx, Targets};
pub use create_user::CreateUserOutput;
pub use flow::{ADOPTED, CHANGE, OFFBOARD, ONBOARD, Step, flow};
pub use join_groups::JoinGroupsOutput;
pub use notify::NotifyOutput;
pub use person::{Person, UserRef};
pub use state::{OffboardOutput, State, StorePasswordOutput};
pub use tag_user::TagUserOutput;
pub(crate) use trail::Trail;

/// Runs one step against the state and stores its output there; returns the output as JSON.
pub async fn run(step: Step, ctx: &Ctx, state: &mut State) -> Result<Value, Error> {
    fn json<T: Serialize>(o: &T) -> Result<Value, Error> {
        serde_json::to_value(o).map_err(|e| Error::Input(format!("step output: {e}")))
    }
    // The step module `$step` runs; its output goes to the state's field of the same name.
    macro_rules! run_and_keep {
        ($step:ident) => {{
            let o = Box::pin($step::run(ctx, state)).await?;
            json(state.$step.insert(o))
        }};
    }
    match step {
        Step::CreateUser => run_and_keep!(create_user),
        Step::JoinGroups => run_and_keep!(join_groups),
        Step::TagUser => run_and_keep!(tag_user),
        #[cfg(feature = "secrets")]
        Step::StorePassword => run_and_keep!(store_password),
        Step::Notify => run_and_keep!(notify),
        #[cfg(feature = "secrets")]
        Step::Offboard => run_and_keep!(offboard),
        #[cfg(not(feature = "secrets"))]
        Step::StorePassword | Step::Offboard => {
            Err(Error::Input(format!("{} needs the `secrets` feature of the shared crate", step.name())))
        }
        Step::Sweep => Err(Error::Input("the sweep is not an event step: run `onboarding sweep` or its Lambda".into())),
        Step::Adopt => Err(Error::Input(
            "adopting a user is an operator's decision: run `onboarding roster import --apply`".into(),
        )),
        Step::Record => json(&record::run(ctx, state).await?),
    }
}
