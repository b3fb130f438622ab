//! `tag-user`: reconciles the tags this system owns ([`tags::owned`]) with the HR attributes and
//! the lifecycle state; other tags are never touched. For a hire it decides `pending` (start date
//! ahead: console access and welcome wait for the sweep) or `active`, and cancels any scheduled
//! departure or deletion (a rehire). For a change it updates the changed attributes only.

use serde::{Deserialize, Serialize};

use super::{Ctx, State, Step};
use crate::audit::{Action, Outcome};
use crate::error::Error;
use crate::intent::Request;
use crate::lifecycle::{self, Status};
use crate::person::tagging;
use crate::tags::{self, LAST_EVENT_TIME};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagUserOutput {
    /// Keys added or updated.
    pub set: Vec<String>,
    /// Owned keys removed (their attribute is no longer given, or a departure was cancelled).
    pub removed: Vec<String>,
    /// The user's status after the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    pub actions: Vec<Action>,
}

pub async fn run(ctx: &Ctx, state: &State) -> Result<TagUserOutput, Error> {
    let Some((req, target, mut trail)) = super::identity::begin(ctx, state, Step::TagUser).await? else {
        return Ok(TagUserOutput::default());
    };
    let user = &target.user;
    let current = &user.tags;
    let desired = match &req {
        Request::Hire(intent) => crate::person::hire_tags(&ctx.cfg.lifecycle, ctx.due_now(), intent, current),
        Request::Change(c) => {
            let mut t = tags::after_change(current, c);
            t.insert(LAST_EVENT_TIME.into(), lifecycle::stamp(c.meta.time));
            t
        }
        Request::Depart(_) => return Err(Error::Input("a departure goes to `offboard`, not `tag-user`".into())),
    };
    let status = Some(Status::of(&desired));
    let diff = tags::diff(current, &desired);
    let (set, removed) = (diff.set.keys().cloned().collect(), diff.remove.clone());
    let person = target.user_ref();
    if tagging::apply(ctx, &mut trail, &person, diff).await? == Outcome::AlreadyDone {
        trail.record("iam:TagUser", person.label(), Outcome::AlreadyDone).await?;
    }
    Ok(TagUserOutput { set, removed, status, actions: trail.actions })
}
