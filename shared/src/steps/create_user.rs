//! `create-user`: the IAM user, named from the person's names, identified by `employee-id`.

use serde::{Deserialize, Serialize};

use super::{Ctx, State, Step, Trail};
use crate::audit::{Action, Outcome};
use crate::error::Error;
use crate::intent::Intent;
use crate::tags::{EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE};
use crate::username::{MAX_VARIANTS, variant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserOutput {
    pub user_name: String,
    /// Empty in a dry run for a user that does not exist yet.
    pub user_arn: String,
    /// Whether the user exists (false only in a dry run).
    pub exists: bool,
    pub actions: Vec<Action>,
}

/// Finds this employee's user among the name candidates, or creates it at the first free one.
/// A candidate held by someone else (another employee, or a user this system does not manage)
/// is skipped, never touched.
pub async fn run(ctx: &Ctx, state: &State) -> Result<CreateUserOutput, Error> {
    let intent = Intent::from_event(&ctx.cfg, &state.event)?;
    let mut trail = Trail::new(ctx, &intent, Step::CreateUser);
    let employee = &intent.hire.meta.employee_id;
    let mut n = 1;
    let mut races = 0;
    while n <= MAX_VARIANTS {
        let name = variant(&intent.base_name, n);
        match ctx.aws.iam.get_user(&name).await? {
            Some(u)
                if u.tags.get(EMPLOYEE_ID) == Some(employee)
                    && u.tags.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE) =>
            {
                trail.record("iam:CreateUser", &u.arn, Outcome::AlreadyDone).await?;
                return Ok(CreateUserOutput {
                    user_name: u.name,
                    user_arn: u.arn,
                    exists: true,
                    actions: trail.actions,
                });
            }
            Some(u) => {
                tracing::info!(candidate = %name, taken_by_managed = u.tags.contains_key(MANAGED_BY), "user name taken, trying the next variant");
                n += 1;
            }
            None if trail.dry_run() => {
                trail.record("iam:CreateUser", &name, Outcome::WouldDo).await?;
                return Ok(CreateUserOutput {
                    user_name: name,
                    user_arn: String::new(),
                    exists: false,
                    actions: trail.actions,
                });
            }
            None => match ctx
                .aws
                .iam
                .create_user(&name, &ctx.cfg.iam.user_path, &ctx.targets.boundary_arn, &intent.tags)
                .await
            {
                Ok(arn) => {
                    tracing::info!(user = %name, path = %ctx.cfg.iam.user_path, "created user");
                    trail.record("iam:CreateUser", &arn, Outcome::Done).await?;
                    return Ok(CreateUserOutput {
                        user_name: name,
                        user_arn: arn,
                        exists: true,
                        actions: trail.actions,
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
