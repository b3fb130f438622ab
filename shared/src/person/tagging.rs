//! The one way anything writes tags on a person's user: [`write_tags`].

use std::collections::BTreeMap;

use super::UserRef;
use crate::audit::Outcome;
use crate::context::Ctx;
use crate::error::Error;
use crate::tags;
use crate::trail::Trail;

/// Sets the tags in `set` and removes the keys in `remove` where the user's tags (as read,
/// `user.tags`) differ; returns `already-done` when none does (recording nothing: the caller
/// knows what that means), else `done` (`would-do` in a dry run, with nothing written). Each IAM
/// call is an audit record.
///
/// Removals first, then what is set. A user holds at most 50 tags, so making room comes before
/// using it; and what a change sets (a status, a due date, a marker) is what says it was made, so
/// a crash in between leaves it visibly undone and the retry, computing the difference again,
/// makes both. A caller whose removal is itself the "done" mark (a due date that triggered the
/// change) writes twice instead: the set, then the removal.
pub(crate) async fn write_tags(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    user: &UserRef<'_>,
    set: &BTreeMap<String, String>,
    remove: &[&str],
) -> Result<Outcome, Error> {
    apply(ctx, trail, user, tags::change(user.tags, set, remove)).await
}

/// [`write_tags`] for a difference already computed (`tags::diff` between the tags a step wants
/// and the user's).
pub(crate) async fn apply(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    user: &UserRef<'_>,
    diff: tags::TagDiff,
) -> Result<Outcome, Error> {
    if diff.is_empty() {
        return Ok(Outcome::AlreadyDone);
    }
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return super::identity_center::write_lifecycle(ctx, t, trail, user, diff).await;
    }
    let iam = &ctx.aws.iam;
    if !diff.remove.is_empty() {
        trail.apply("iam:UntagUser", user.label(), iam.untag_user(user.name, &diff.remove)).await?;
    }
    if !diff.set.is_empty() {
        trail.apply("iam:TagUser", user.label(), iam.tag_user(user.name, &diff.set)).await?;
    }
    Ok(trail.change())
}
