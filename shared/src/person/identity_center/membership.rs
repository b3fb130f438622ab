//! A person's group memberships in the Identity Store.

use std::collections::BTreeMap;

use super::{GROUP_ARN, MEMBERSHIP_ARN, user_id};
use crate::audit::Outcome;
use crate::aws::is_code;
use crate::context::{Ctx, IdentityCenterTarget};
use crate::error::Error;
use crate::lifecycle::Status;
use crate::person::UserRef;
use crate::tags::{self, STATUS};
use crate::trail::Trail;

/// Puts the user in every group of `wanted` and out of the mapped groups (`groups.allowed`) not
/// in it; returns the groups it left. Every wanted group must exist before the first change.
/// Memberships in groups outside the mapping are never touched.
pub(crate) async fn regroup(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    user: &UserRef<'_>,
    wanted: &[String],
) -> Result<Vec<String>, Error> {
    if waits_for_activation(ctx, user.tags) {
        // The groups are the access: a pre-hire joins them at activation (`on_activation`).
        tracing::info!(user = %user.name, "pre-hire: groups wait for the activation");
        return Ok(Vec::new());
    }
    let store = &t.instance.identity_store_id;
    let mut ids = Vec::with_capacity(wanted.len());
    for g in wanted {
        ids.push(t.group_id(g).await?);
    }
    if !user.exists {
        for id in &ids {
            trail.record("identitystore:CreateGroupMembership", &format!("{GROUP_ARN}{id}"), Outcome::WouldDo).await?;
        }
        return Ok(Vec::new());
    }
    let uid = user_id(user)?;
    // A user this delivery made is in no group yet.
    let current = if user.made_here { Vec::new() } else { t.ic.memberships_of(store, uid).await? };
    for id in &ids {
        let target = format!("{GROUP_ARN}{id}");
        if current.iter().any(|(_, g)| g == id) {
            trail.record("identitystore:CreateGroupMembership", &target, Outcome::AlreadyDone).await?;
        } else {
            let join = async {
                let joined = t.ic.join(store, id, uid).await;
                if joined.as_ref().is_err_and(|e| is_code(e, "ResourceNotFoundException")) {
                    // The group went since its id was read: the retry reads it again.
                    t.forget_group_ids();
                }
                joined
            };
            trail.apply("identitystore:CreateGroupMembership", &target, join).await?;
            tracing::info!(user = %user.name, group = %target, "joined group");
        }
    }
    let mut stale = Vec::new();
    let foreign: Vec<_> = current.iter().filter(|(_, g)| !ids.contains(g)).collect();
    if foreign.is_empty() {
        return Ok(stale);
    }
    let names: BTreeMap<String, String> = t.ic.groups(store).await?.into_iter().collect();
    for (membership, group) in foreign {
        let Some(name) = names.get(group).filter(|n| ctx.cfg.groups.allowed.contains(n)) else { continue };
        let target = format!("{MEMBERSHIP_ARN}{membership}");
        trail.apply("identitystore:DeleteGroupMembership", &target, t.ic.leave(store, membership)).await?;
        tracing::info!(user = %user.name, group = %name, "left group that no longer applies");
        stale.push(name.clone());
    }
    Ok(stale)
}

/// Ends one group membership an access review revoked (the departure's call), then reads the
/// user's memberships back: the proof. A person without a user has no access left to end.
#[cfg(feature = "review")]
pub(crate) async fn revoke_group(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    employee_id: &str,
    group: &str,
) -> Result<String, Error> {
    let Some(user) = super::find(ctx, t, employee_id).await? else {
        return Ok(format!("no Identity Store user of {employee_id} (access already ended)"));
    };
    if crate::person::ownership::is_protected(&ctx.cfg, &user) {
        return Err(Error::Conflict(format!("`{}` is protected: its access is not changed", user.name)));
    }
    let uid = user.arn.strip_prefix(super::USER_ARN).filter(|u| !u.is_empty()).ok_or_else(|| {
        Error::Conflict(format!("{employee_id}: the people record names no user yet; run close again"))
    })?;
    let store = &t.instance.identity_store_id;
    let gid = t.group_id(group).await?;
    match t.ic.memberships_of(store, uid).await?.into_iter().find(|(_, g)| *g == gid) {
        Some((m, _)) => {
            let target = format!("{MEMBERSHIP_ARN}{m}");
            trail.apply("identitystore:DeleteGroupMembership", &target, t.ic.leave(store, &m)).await?;
        }
        None => {
            let target = format!("{GROUP_ARN}{gid}");
            trail.record("identitystore:DeleteGroupMembership", &target, Outcome::AlreadyDone).await?;
        }
    }
    let after = t.ic.memberships_of(store, uid).await?;
    if after.iter().any(|(_, g)| *g == gid) {
        return Err(Error::Conflict(format!("`{}` is still in group {group} after its removal", user.name)));
    }
    Ok(format!(
        "identitystore:ListGroupMembershipsForMember({}): not a member of {group}; {} membership(s) left",
        user.name,
        after.len()
    ))
}

/// A pre-hire whose activation time has not come.
fn waits_for_activation(ctx: &Ctx, lifecycle: &BTreeMap<String, String>) -> bool {
    let at = lifecycle.get(tags::ACTIVATE_AT).and_then(|t| crate::lifecycle::parse_stamp(t));
    lifecycle.get(STATUS).map(String::as_str) == Some(Status::Pending.as_str())
        && at.is_some_and(|at| ctx.due_now() < at)
}
