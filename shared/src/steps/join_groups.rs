//! `join-groups`: the groups from the mapping rules, and only those.

use serde::{Deserialize, Serialize};

use super::{Ctx, State, Step, Trail};
use crate::audit::{Action, Outcome};
use crate::error::Error;
use crate::intent::Intent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinGroupsOutput {
    /// The groups the mapping gives, all of which the user is (or would be) in.
    pub groups: Vec<String>,
    /// No rule matched the person's attributes: only the always-groups apply.
    pub no_rule_matched: bool,
    pub actions: Vec<Action>,
}

pub async fn run(ctx: &Ctx, state: &State) -> Result<JoinGroupsOutput, Error> {
    let intent = Intent::from_event(&ctx.cfg, &state.event)?;
    let user = state.user()?;
    let mut trail = Trail::new(ctx, &intent, Step::JoinGroups);
    let wanted = &intent.membership.groups;

    // Every group must exist before the first change: a missing one is a clear error.
    let mut arns = Vec::with_capacity(wanted.len());
    for g in wanted {
        let arn = ctx.aws.iam.group_arn(g).await?.ok_or_else(|| Error::Missing {
            kind: "IAM group",
            name: g.clone(),
            hint: "create it (`onboarding bootstrap`) or remove it from the config",
        })?;
        arns.push(arn);
    }
    let current = if user.exists { ctx.aws.iam.groups_for_user(&user.user_name).await? } else { Vec::new() };
    for (g, arn) in wanted.iter().zip(&arns) {
        if current.contains(g) {
            trail.record("iam:AddUserToGroup", arn, Outcome::AlreadyDone).await?;
        } else {
            if !trail.dry_run() {
                ctx.aws.iam.add_user_to_group(&user.user_name, g).await?;
                tracing::info!(user = %user.user_name, group = %g, "joined group");
            }
            trail.record("iam:AddUserToGroup", arn, trail.change()).await?;
        }
    }
    if intent.membership.no_rule_matched {
        tracing::info!(user = %user.user_name, department = %intent.hire.department, "no mapping rule matched; always-groups only");
    }
    Ok(JoinGroupsOutput {
        groups: wanted.clone(),
        no_rule_matched: intent.membership.no_rule_matched,
        actions: trail.actions,
    })
}
