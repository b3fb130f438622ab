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
use crate::person::ownership::{self, employee_path};
use crate::tags::EMPLOYEE_ID;
use crate::username::{MAX_VARIANTS, variant};

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
        }
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
    match ctx.request(&state.event)? {
        Request::Hire(intent) => hire(ctx, &intent).await,
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
    if let Some(reason) = tombstone_refusal(ctx, meta).await? {
        return Ok(CreateUserOutput::skip(None, reason));
    }
    let path = employee_path(&ctx.cfg, &meta.employee_id);
    // Created with every tag a hire's user carries (status included), in the one call.
    let tags = crate::person::hire_tags(&ctx.cfg.lifecycle, ctx.due_now(), intent, &Default::default());
    let mut n = 1;
    let mut races = 0;
    while n <= MAX_VARIANTS {
        let name = variant(&intent.base_name, n);
        match ctx.aws.iam.get_user(&name).await? {
            // The person's own user, made by a concurrent delivery of this event between our
            // look-up and our create (`EntityAlreadyExists` sent us back here): already done.
            Some(u) if u.tags.get(EMPLOYEE_ID) == Some(&meta.employee_id) && u.path == path => {
                if let Err(why) = ownership::ownership(ctx.owner(), &u) {
                    return Err(Error::Conflict(why));
                }
                trail.record("iam:CreateUser", &u.arn, Outcome::AlreadyDone).await?;
                return Ok(CreateUserOutput::found(&u, trail.actions));
            }
            // The person's id on a user outside their employee path: not made by this system
            // (ours live at the path), so never adopted, and never given a second user either.
            Some(u) if u.tags.get(EMPLOYEE_ID) == Some(&meta.employee_id) => {
                return Err(Error::Conflict(format!(
                    "user `{}` at path `{}` carries employee id `{}` but is not at `{path}`; move or remove it by hand",
                    u.name, u.path, meta.employee_id
                )));
            }
            Some(u) => {
                tracing::info!(candidate = %name, taken_by = %u.path, "user name taken, trying the next variant");
                n += 1;
            }
            None if trail.dry_run() => {
                trail.record("iam:CreateUser", &name, Outcome::WouldDo).await?;
                // What it would be made with, so the plan's later steps see what the run's will.
                let would = User { name: name.clone(), path, tags, ..User::default() };
                return Ok(CreateUserOutput {
                    user_name: name,
                    actions: trail.actions,
                    proven: Some(would),
                    ..CreateUserOutput::default()
                });
            }
            None => match ctx.aws.iam.create_user(&name, &path, &ctx.targets.boundary_arn, &tags).await {
                Ok(arn) => {
                    tracing::info!(user = %name, path = %path, "created user");
                    trail.record("iam:CreateUser", &arn, Outcome::Done).await?;
                    // CreateUser is atomic: the user is exactly what was asked for.
                    let made = User {
                        name: name.clone(),
                        arn: arn.clone(),
                        path,
                        tags,
                        boundary: Some(ctx.targets.boundary_arn.clone()),
                        password_last_used: None,
                    };
                    return Ok(CreateUserOutput {
                        user_name: name,
                        user_arn: arn,
                        exists: true,
                        actions: trail.actions,
                        proven: Some(made),
                        ..CreateUserOutput::default()
                    });
                }
                // Someone created this name between our GetUser and CreateUser (a concurrent
                // delivery of the same event, or another person): look again at the same name.
                Err(e) if e.aws_code() == Some("EntityAlreadyExists") && races < 3 => races += 1,
                Err(e) => return Err(e),
            },
        }
    }
    Err(Error::Conflict(format!(
        "no free user name: `{}` and its variants up to `{}` all belong to someone else",
        intent.base_name,
        variant(&intent.base_name, MAX_VARIANTS)
    )))
}

/// Why a hire for someone this system deleted must create nothing: the event is not newer than
/// the last one applied to them (a replay of the bus archive, a late resend). A genuinely newer
/// hire is a rehire and goes ahead.
#[cfg(feature = "tombstones")]
async fn tombstone_refusal(ctx: &Ctx, meta: &crate::event::EventMeta) -> Result<Option<String>, Error> {
    let table = &ctx.cfg.lifecycle.tombstones_table;
    let Some(t) = ctx.aws.tombstones.get(table, &meta.employee_id).await? else { return Ok(None) };
    let last = t.last_event_time.unwrap_or(t.deleted_at);
    Ok((meta.time <= last).then(|| {
        format!(
            "employee `{}` (user `{}`) was deleted on {}; this event ({}) is not newer than the last one applied \
             to them ({}): a replay or a late resend, so nothing is created",
            meta.employee_id,
            t.user_name,
            crate::lifecycle::stamp(t.deleted_at),
            crate::lifecycle::stamp(meta.time),
            crate::lifecycle::stamp(last)
        )
    }))
}
