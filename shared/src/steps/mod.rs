//! The lifecycle steps. Each is one Lambda binary's behaviour, also run in process by the CLI
//! and the tests. A step takes the [`State`] (the HR event plus the outputs of earlier steps, as
//! a state machine hands it over) and returns its own typed output.
//!
//! The table of contents: [`state`] (what flows between steps), [`identity`] (the user a step
//! acts on, proven), one module per step; `run` below dispatches one step. Steps never import
//! each other: what they share about a person is the layer below, [`crate::person`], and below
//! that [`crate::flow`] (the steps and each flow's order), [`crate::context`] (`Ctx`, `Targets`)
//! and `crate::trail` (each action recorded, sent per step). What runs steps without being one:
//! [`crate::pipeline`] and [`crate::drivers`].

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

mod state;

pub mod create_user;
pub mod identity;
pub mod join_groups;
pub mod notify;
#[cfg(feature = "secrets")]
pub mod offboard;
pub mod record;
#[cfg(feature = "secrets")]
pub mod store_password;
pub mod tag_user;

pub use crate::context::{Ctx, Targets};
pub use crate::flow::{ADOPTED, Flow, Step};
pub use crate::person::StorePasswordOutput;
pub use crate::person::{Person, UserRef};
pub(crate) use crate::trail::Trail;
pub use create_user::CreateUserOutput;
pub use join_groups::JoinGroupsOutput;
pub use notify::NotifyOutput;
pub use state::{OffboardOutput, State};
pub use tag_user::TagUserOutput;

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
        Step::Review => Err(Error::Input("an access review is closed by `onboarding review close`".into())),
        Step::Record => json(&record::run(ctx, state).await?),
    }
}
