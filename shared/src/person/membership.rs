//! A person's groups: joined to the ones that apply, out of the mapped ones that no longer do
//! ([`regroup`]), out of every one at a departure ([`leave_all`]). Groups outside the mapping
//! (`groups.allowed`) are left only by a departure.

use std::collections::BTreeMap;

use super::UserRef;
use crate::audit::Outcome;
use crate::context::Ctx;
use crate::error::Error;
use crate::mapping::{Attributes, Membership};
use crate::tags::{DEPARTMENT, LOCATION, TITLE};
use crate::trail::Trail;

/// Puts the user in every group of `wanted` and out of the mapped groups not in it; returns the
/// groups it left. Every wanted group must exist before the first change: a missing one is a
/// clear error and nothing is joined.
pub(crate) async fn regroup(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    user: &UserRef<'_>,
    wanted: &[String],
) -> Result<Vec<String>, Error> {
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return super::identity_center::regroup(ctx, t, trail, user, wanted).await;
    }
    let iam = &ctx.aws.iam;
    let mut arns = Vec::with_capacity(wanted.len());
    for g in wanted {
        arns.push(group_arn(ctx, g).await?);
    }
    // A user this delivery made is in no group yet (joining one twice is harmless in IAM).
    let read = user.exists && !user.made_here;
    let current = if read { iam.groups_for_user(user.name).await? } else { Vec::new() };
    for (g, arn) in wanted.iter().zip(&arns) {
        if current.contains(g) {
            trail.record("iam:AddUserToGroup", arn, Outcome::AlreadyDone).await?;
        } else {
            trail.apply("iam:AddUserToGroup", arn, iam.add_user_to_group(user.name, g)).await?;
            tracing::info!(user = %user.name, group = %g, "joined group");
        }
    }
    let stale: Vec<String> =
        current.iter().filter(|g| ctx.cfg.groups.allowed.contains(g) && !wanted.contains(g)).cloned().collect();
    for g in &stale {
        let arn = group_arn(ctx, g).await?;
        trail.apply("iam:RemoveUserFromGroup", &arn, iam.remove_user_from_group(user.name, g)).await?;
        tracing::info!(user = %user.name, group = %g, "left group that no longer applies");
    }
    Ok(stale)
}

/// The groups the mapping gives a person with these attributes (an IAM user's tags, an Identity
/// Center person's record).
pub(crate) fn wanted(ctx: &Ctx, attributes: &BTreeMap<String, String>) -> Result<Membership, Error> {
    let at = |k: &str| attributes.get(k).map(String::as_str);
    Ok(ctx.cfg.groups.resolve(Attributes {
        department: at(DEPARTMENT).unwrap_or(""),
        title: at(TITLE),
        location: at(LOCATION),
    })?)
}

/// What a pre-hire's activation does to their groups. IAM: nothing (they were joined at the hire:
/// without credentials they give nothing). Identity Center: the groups are the access, so they
/// are joined now ([`super::identity_center::regroup`] kept them back until the activation time).
#[cfg(feature = "secrets")]
pub(crate) async fn on_activation(ctx: &Ctx, trail: &mut Trail<'_>, user: &UserRef<'_>) -> Result<(), Error> {
    #[cfg(feature = "identity-center")]
    if ctx.identity_center.is_some() {
        let membership = wanted(ctx, user.tags)?;
        regroup(ctx, trail, user, &membership.groups).await?;
    }
    let _ = (ctx, trail, user);
    Ok(())
}

/// Takes the user out of every group it is in, mapped or not: a leaver keeps none.
#[cfg(feature = "secrets")]
pub(crate) async fn leave_all(ctx: &Ctx, trail: &mut Trail<'_>, user_name: &str) -> Result<(), Error> {
    let iam = &ctx.aws.iam;
    for g in iam.groups_for_user(user_name).await? {
        trail
            .apply("iam:RemoveUserFromGroup", &format!("group/{g}"), iam.remove_user_from_group(user_name, &g))
            .await?;
    }
    Ok(())
}

async fn group_arn(ctx: &Ctx, g: &str) -> Result<String, Error> {
    ctx.aws.iam.group_arn(g).await?.ok_or_else(|| Error::Missing {
        kind: "IAM group",
        name: g.to_owned(),
        hint: "create it (`onboarding bootstrap`) or remove it from the config",
    })
}
