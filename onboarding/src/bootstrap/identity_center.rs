//! `onboarding bootstrap` for IAM Identity Center: the allowed groups, the permission sets and
//! their group assignments to accounts, created idempotently.
//!
//! What bootstrap made carries its description ([`super::INSTALLED_BY`]); it never changes or
//! deletes anything else. A group of an allowed name that someone else made is used as it is
//! (the config chose that name); a permission set of a configured name that someone else made is
//! refused before anything is created, since this system would write leavers' denials into it.
//! An assignment is asynchronous: each request's status is polled, at most
//! [`ASSIGNMENTS_IN_FLIGHT`] at once, and a failure is reported for its account. A permission
//! set bootstrap made whose policies or session duration the config changed is updated (policies
//! only added, never removed) and provisioned again to the accounts it is in.

use std::collections::BTreeMap;

use shared::Error;
use shared::aws::identity_center::{IdentityCenter, Instance, PermissionSet, Polled};
use shared::config::{AssignmentConfig, Config, IdentityCenterConfig};
use shared::tags::{MANAGED_BY, MANAGED_BY_VALUE};

use super::{INSTALLED_BY, Item};

/// Assignment requests polled at once.
pub const ASSIGNMENTS_IN_FLIGHT: usize = 10;

pub async fn bootstrap(cfg: &Config, ic_cfg: &IdentityCenterConfig, ic: &IdentityCenter) -> Result<Vec<Item>, Error> {
    let instance = ic.instance(ic_cfg).await?;
    let existing = ic.permission_sets(&instance.arn).await?;
    // Refused before anything is made: a configured name held by a permission set not made here.
    for ps in &ic_cfg.permission_sets {
        if let Some(foreign) =
            existing.iter().find(|e| e.name == ps.name && e.description.as_deref() != Some(INSTALLED_BY))
        {
            return Err(Error::Conflict(format!(
                "permission set `{}` ({}) exists and was not created by bootstrap: departures would write into it; \
                 name another in identity_center.permission_sets, or rename that one, and run bootstrap again",
                ps.name, foreign.arn
            )));
        }
    }
    let mut items = Vec::new();
    let mut group_ids = BTreeMap::new();
    for group in &cfg.groups.allowed {
        let (id, created) = match ic.group_id(&instance.identity_store_id, group).await? {
            Some(id) => (id, false),
            None => (ic.create_group(&instance.identity_store_id, group, INSTALLED_BY).await?, true),
        };
        items.push(Item::new("sso group", group, created));
        group_ids.insert(group.clone(), id);
    }
    let mut permission_sets = BTreeMap::new();
    for ps in &ic_cfg.permission_sets {
        let (arn, created) = match existing.iter().find(|e| e.name == ps.name) {
            Some(PermissionSet { arn, .. }) => (arn.clone(), false),
            None => {
                let tag = (MANAGED_BY, MANAGED_BY_VALUE);
                (
                    ic.create_permission_set(&instance.arn, &ps.name, INSTALLED_BY, &ps.session_duration, tag).await?,
                    true,
                )
            }
        };
        let attached = if created { Vec::new() } else { ic.managed_policies(&instance.arn, &arn).await? };
        let missing: Vec<&String> = ps.managed_policies.iter().filter(|p| !attached.contains(p)).collect();
        for policy in &missing {
            ic.attach_managed_policy(&instance.arn, &arn, policy).await?;
        }
        let mut item = Item::new("permission set", &ps.name, created);
        let duration = existing.iter().find(|e| e.arn == arn).and_then(|e| e.session_duration.as_deref());
        let longer_or_shorter = !created && duration != Some(ps.session_duration.as_str());
        if longer_or_shorter {
            ic.set_session_duration(&instance.arn, &arn, INSTALLED_BY, &ps.session_duration).await?;
        }
        // A change to a permission set reaches the accounts it is in only once provisioned again
        // (a new one is provisioned by its first assignment).
        item.updated = !created && (!missing.is_empty() || longer_or_shorter);
        if item.updated
            && let Err(e) =
                ic.settled(&instance.arn, ic.provision(&instance.arn, &arn).await?, Polled::Provisioning).await
        {
            item.error = Some(format!("changed, but not provisioned to its accounts: {e}"));
        }
        items.push(item);
        permission_sets.insert(ps.name.clone(), arn);
    }
    let wanted: Vec<(&AssignmentConfig, &String)> =
        ic_cfg.assignments.iter().flat_map(|a| a.accounts.iter().map(move |acct| (a, acct))).collect();
    let lanes = (0..wanted.len()).map(|i| vec![i]).collect();
    let assign = |i: usize| {
        let (a, account) = wanted[i];
        let (group, ps) = (&group_ids[&a.group], &permission_sets[&a.permission_set]);
        Box::pin(assignment(ic, &instance, a, account, group, ps))
    };
    items.extend(shared::lanes::run(lanes, ASSIGNMENTS_IN_FLIGHT, assign, &|_, _| {}).await);
    Ok(items)
}

/// One group's permission set in one account: already there, created (its request polled until
/// it succeeded), or failed with AWS's reason.
async fn assignment(
    ic: &IdentityCenter,
    instance: &Instance,
    a: &AssignmentConfig,
    account: &str,
    group_id: &str,
    permission_set: &str,
) -> Item {
    let name = format!("{} -> {} in {account}", a.group, a.permission_set);
    let made = async {
        if ic.assigned_groups(&instance.arn, account, permission_set).await?.iter().any(|g| g == group_id) {
            return Ok(false);
        }
        let started = ic.assign_group(&instance.arn, account, permission_set, group_id).await?;
        ic.settled(&instance.arn, started, Polled::Assignment).await.map(|()| true)
    };
    match made.await {
        Ok(created) => Item::new("assignment", &name, created),
        Err(e) => Item { error: Some(e.to_string()), ..Item::new("assignment", &name, false) },
    }
}
