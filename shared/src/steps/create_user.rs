//! `create-user`: finds the employee's user by `employee-id` (see [`super::identity`]) and, for
//! a hire, creates it when there is none, named from the person's names. For a change it only
//! finds: an unknown employee, a stale event or a leaver makes the rest of the flow do nothing.

use serde::{Deserialize, Serialize};

use super::{Ctx, State, Step, Trail};
use crate::audit::{Action, Outcome};
use crate::aws::iam::User;
use crate::error::Error;
use crate::intent::{Intent, Request};
use crate::lifecycle::Status;
use crate::person::ownership;
use crate::person::{Made, account};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserOutput {
    pub user_name: String,
    /// Empty in a dry run for a user that does not exist yet.
    pub user_arn: String,
    /// Whether the user exists (false only in a dry run).
    pub exists: bool,
    /// The user's status as found (`None` for a new user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// A hire for a disabled leaver: the same user is reactivated.
    #[serde(default)]
    pub rehire: bool,
    /// Why the rest of the flow must change nothing (unknown employee, stale event, leaver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub actions: Vec<Action>,
    /// The user as read from IAM or just made, for the later steps of this process only: never
    /// serialised, so it cannot come from a step's input (see [`identity::Proof`]).
    #[serde(skip)]
    pub proven: Option<User>,
    /// Whether this delivery made the user, in this process: like `proven`, never serialised.
    #[serde(skip)]
    pub made: bool,
}

impl CreateUserOutput {
    pub(crate) fn found(u: &User, actions: Vec<Action>) -> Self {
        Self {
            user_name: u.name.clone(),
            user_arn: u.arn.clone(),
            exists: true,
            status: Some(ownership::status(u)),
            rehire: false,
            skipped: None,
            actions,
            proven: Some(u.clone()),
            made: false,
        }
    }

    /// A user made now (or, in a dry run, that would be: no ARN, `exists` false).
    fn made(u: User, actions: Vec<Action>) -> Self {
        Self { user_name: u.name.clone(), user_arn: u.arn.clone(), actions, proven: Some(u), ..Self::default() }
    }

    fn skip(u: Option<&User>, reason: String) -> Self {
        tracing::info!(reason = %reason, "event changes nothing");
        Self {
            user_name: u.map(|u| u.name.clone()).unwrap_or_default(),
            user_arn: u.map(|u| u.arn.clone()).unwrap_or_default(),
            exists: u.is_some(),
            status: u.map(ownership::status),
            skipped: Some(reason),
            ..Self::default()
        }
    }
}

pub async fn run(ctx: &Ctx, state: &State) -> Result<CreateUserOutput, Error> {
    match state.request(ctx)? {
        Request::Hire(intent) => hire(ctx, intent).await,
        Request::Change(c) => {
            let found = ownership::find(ctx, &c.meta.employee_id).await?;
            Ok(match found {
                None => CreateUserOutput::skip(
                    None,
                    format!("no user for employee `{}`: nothing to change", c.meta.employee_id),
                ),
                Some(u) => match ownership::refusal(ctx.owner(), &u, c.meta.time) {
                    Some(reason) => CreateUserOutput::skip(Some(&u), reason),
                    None if ownership::status(&u) == Status::Disabled => CreateUserOutput::skip(
                        Some(&u),
                        format!(
                            "`{}` is a disabled leaver: changes would give access back, so none is applied",
                            u.name
                        ),
                    ),
                    None => CreateUserOutput::found(&u, Vec::new()),
                },
            })
        }
        Request::Depart(_) => Err(Error::Input("a departure goes to `offboard`, not `create-user`".into())),
    }
}

/// Finds the hire's user (reactivating a leaver is the later steps' work) or creates it at the
/// first free name. A candidate name held by someone else is skipped, never touched.
async fn hire(ctx: &Ctx, intent: &Intent) -> Result<CreateUserOutput, Error> {
    let meta = &intent.hire.meta;
    let mut trail = Trail::new(ctx, meta, Step::CreateUser);
    if let Some(u) = ownership::find(ctx, &meta.employee_id).await? {
        if let Err(why) = ownership::ownership(ctx.owner(), &u) {
            return Err(Error::Conflict(format!(
                "{why}; it carries employee id `{}`, and this system refuses to adopt it",
                meta.employee_id
            )));
        }
        if let Some(reason) = ownership::refusal(ctx.owner(), &u, meta.time) {
            return Ok(CreateUserOutput::skip(Some(&u), reason));
        }
        trail.record("iam:CreateUser", &u.arn, Outcome::AlreadyDone).await?;
        let mut out = CreateUserOutput::found(&u, trail.actions);
        out.rehire = out.status == Some(Status::Disabled);
        if out.rehire {
            tracing::info!(user = %u.name, "rehire: reactivating the leaver's user");
        }
        return Ok(out);
    }
    #[cfg(feature = "tombstones")]
    if let Some(reason) = crate::person::tombstone::refusal(ctx, meta).await? {
        return Ok(CreateUserOutput::skip(None, reason));
    }
    Ok(match account::create(ctx, &mut trail, intent).await? {
        Made::Found(u) => CreateUserOutput::found(&u, trail.actions),
        Made::Created(u) => CreateUserOutput { exists: true, made: true, ..CreateUserOutput::made(u, trail.actions) },
        Made::Would(u) => CreateUserOutput::made(u, trail.actions),
    })
}
