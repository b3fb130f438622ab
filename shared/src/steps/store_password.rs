//! `store-password`: the initial credentials a hire's access asks for (or a change re-issues
//! after the unused password expired), issued and stored by [`crate::person::credentials`].

use std::collections::BTreeMap;

use super::identity;
use super::{Ctx, Person, State, Step, StorePasswordOutput, Trail};
use crate::error::Error;
use crate::intent::Request;
use crate::person::credentials::{Issue, provision};
use crate::person::hire_is_pending;
use crate::person::tagging::write_tags;
use crate::tags::CREDENTIALS_EXPIRED;

pub async fn run(ctx: &Ctx, state: &State) -> Result<StorePasswordOutput, Error> {
    let req = state.request(ctx)?;
    if matches!(req, Request::Depart(_)) {
        return Err(Error::Input("a departure goes to `offboard`, not `store-password`".into()));
    }
    // The user is re-derived and proven the employee's: this step makes credentials readable by
    // the ARN it acts on, so that ARN must never come from the input alone.
    let Some(found) = identity::target(ctx, state, &req.meta().employee_id, identity::Proof::Fresh).await? else {
        return Ok(StorePasswordOutput::default());
    };
    let user = &found.user;
    let target = found.user_ref();
    match req {
        Request::Hire(intent) => {
            if hire_is_pending(ctx, intent, &user.tags) {
                tracing::info!(user = %user.name, "pre-hire: credentials wait for the sweep at the activation time");
                return Ok(StorePasswordOutput::default());
            }
            let mut trail = Trail::new(ctx, &intent.hire.meta, Step::StorePassword);
            let person = Person::from_hire(&intent.hire);
            let mut out = provision(ctx, &mut trail, &person, &target, Issue::Initial).await?;
            out.actions = trail.actions;
            Ok(out)
        }
        // A change re-issues a console password the sweep withdrew unused; nothing else.
        Request::Change(c) if user.tags.contains_key(CREDENTIALS_EXPIRED) => {
            let mut trail = Trail::new(ctx, &c.meta, Step::StorePassword);
            let Some(mut person) = Person::from_tags(&user.tags, c.meta.event_id.clone()) else {
                return Err(Error::Conflict(format!(
                    "`{}` lacks the tags its welcome needs (email, given-name, employee-id); resend its hire event",
                    user.name
                )));
            };
            person.access.programmatic = false;
            let mut out = provision(ctx, &mut trail, &person, &target, Issue::Again).await?;
            write_tags(ctx, &mut trail, &target, &BTreeMap::new(), &[CREDENTIALS_EXPIRED]).await?;
            out.actions = trail.actions;
            Ok(out)
        }
        _ => Ok(StorePasswordOutput::default()),
    }
}
