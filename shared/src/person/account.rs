//! A person's account: made for a hire at the first free name ([`create`]), unless this system
//! deleted the person and the hire is not newer than the last event applied to them
//! ([`super::tombstone::refusal`]). Finding an employee's existing user is [`super::ownership::find`].

use super::Made;
use crate::audit::Outcome;
use crate::aws::iam::User;
use crate::context::Ctx;
use crate::error::Error;
use crate::intent::Intent;
use crate::person::ownership::{self, employee_path};
use crate::tags::EMPLOYEE_ID;
use crate::trail::Trail;
use crate::username::{MAX_VARIANTS, variant};

/// Creates the hire's user at the first free name (`base`, `base2`, ...), with every tag a hire's
/// user carries (status included) in the one call. A candidate name held by someone else is
/// skipped, never touched; one holding the person's id outside their path is a conflict.
pub(crate) async fn create(ctx: &Ctx, trail: &mut Trail<'_>, intent: &Intent) -> Result<Made, Error> {
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return super::identity_center::create(ctx, t, trail, intent).await;
    }
    let meta = &intent.hire.meta;
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
                return Ok(Made::Found(u));
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
                return Ok(Made::Would(User { name, path, tags, ..User::default() }));
            }
            None => match ctx.aws.iam.create_user(&name, &path, &ctx.targets.boundary_arn, &tags).await {
                Ok(arn) => {
                    tracing::info!(user = %name, path = %path, "created user");
                    trail.record("iam:CreateUser", &arn, Outcome::Done).await?;
                    // CreateUser is atomic: the user is exactly what was asked for.
                    return Ok(Made::Created(User {
                        name,
                        arn,
                        path,
                        tags,
                        boundary: Some(ctx.targets.boundary_arn.clone()),
                        password_last_used: None,
                    }));
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

/// The employee's user of this name, read now (waiting out IAM's eventual consistency for one
/// just made); `None` when there is none. Whose it is, the caller proves.
pub async fn read(ctx: &Ctx, employee_id: &str, user_name: &str) -> Result<Option<User>, Error> {
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        let found = super::identity_center::find(ctx, t, employee_id).await?;
        return Ok(found.filter(|u| u.name == user_name));
    }
    let _ = employee_id;
    match ctx.aws.iam.wait_for_user(user_name).await {
        Ok(u) => Ok(Some(u)),
        Err(e) if e.aws_code() == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}
