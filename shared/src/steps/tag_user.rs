//! `tag-user`: reconciles the tags this system owns with the HR attributes; other tags are
//! never touched.

use serde::{Deserialize, Serialize};

use super::{Ctx, State, Step, Trail};
use crate::audit::{Action, Outcome};
use crate::error::Error;
use crate::intent::Intent;
use crate::tags;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagUserOutput {
    /// Keys added or updated.
    pub set: Vec<String>,
    /// Owned keys removed (their attribute is no longer given).
    pub removed: Vec<String>,
    pub actions: Vec<Action>,
}

pub async fn run(ctx: &Ctx, state: &State) -> Result<TagUserOutput, Error> {
    let intent = Intent::from_event(&ctx.cfg, &state.event)?;
    let user = state.user()?;
    let mut trail = Trail::new(ctx, &intent, Step::TagUser);
    let current = if user.exists { ctx.aws.iam.wait_for_user(&user.user_name).await?.tags } else { Default::default() };
    let diff = tags::diff(&current, &intent.tags);
    let target = if user.user_arn.is_empty() { user.user_name.clone() } else { user.user_arn.clone() };
    if diff.is_empty() {
        trail.record("iam:TagUser", &target, Outcome::AlreadyDone).await?;
    }
    if !diff.set.is_empty() {
        if !trail.dry_run() {
            ctx.aws.iam.tag_user(&user.user_name, &diff.set).await?;
        }
        trail.record("iam:TagUser", &target, trail.change()).await?;
    }
    if !diff.remove.is_empty() {
        if !trail.dry_run() {
            ctx.aws.iam.untag_user(&user.user_name, &diff.remove).await?;
        }
        trail.record("iam:UntagUser", &target, trail.change()).await?;
    }
    Ok(TagUserOutput { set: diff.set.into_keys().collect(), removed: diff.remove, actions: trail.actions })
}
