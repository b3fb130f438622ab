//! What `bootstrap` makes in Identity Center, as this config asks: the instance, the allowed
//! groups, the permission sets (made by bootstrap, with the config's managed policies and
//! session duration) and each group's assignment to each account.

use std::collections::BTreeMap;

use shared::aws::identity_center::IdentityCenter;
use shared::config::{Config, IdentityCenterConfig};

use super::{BOOTSTRAP, Check};
use crate::bootstrap::INSTALLED_BY;

pub async fn checks(cfg: &Config, ic_cfg: &IdentityCenterConfig, ic: &IdentityCenter) -> Vec<Check> {
    let instance = match ic.instance(ic_cfg).await {
        Ok(i) => i,
        Err(e) => {
            let fix = "name [identity_center] instance_arn and identity_store_id, or check the caller may \
                       sso:ListInstances";
            return vec![Check::failed("identity center instance", e.to_string(), fix)];
        }
    };
    let mut checks =
        vec![Check::ok("identity center instance", format!("{} (store {})", instance.arn, instance.identity_store_id))];
    let mut group_ids = BTreeMap::new();
    for group in &cfg.groups.allowed {
        let check = format!("sso group {group}");
        checks.push(match ic.group_id(&instance.identity_store_id, group).await {
            Ok(Some(id)) => {
                group_ids.insert(group.as_str(), id.clone());
                Check::ok(&check, id)
            }
            Ok(None) => Check::failed(&check, "missing", BOOTSTRAP),
            Err(e) => Check::failed(&check, e.to_string(), "check the caller may identitystore:GetGroupId"),
        });
    }
    let existing = match ic.permission_sets(&instance.arn).await {
        Ok(sets) => sets,
        Err(e) => {
            let fix = "check the caller may sso:ListPermissionSets and sso:DescribePermissionSet";
            checks.push(Check::failed("permission sets", e.to_string(), fix));
            return checks;
        }
    };
    let mut arns = BTreeMap::new();
    for ps in &ic_cfg.permission_sets {
        let check = format!("permission set {}", ps.name);
        let Some(found) = existing.iter().find(|e| e.name == ps.name) else {
            checks.push(Check::failed(&check, "missing", BOOTSTRAP));
            continue;
        };
        if found.description.as_deref() != Some(INSTALLED_BY) {
            checks.push(Check::failed(
                &check,
                format!("{} was not made by bootstrap: departures would write into it", found.arn),
                "name another in identity_center.permission_sets, or rename that one",
            ));
            continue;
        }
        arns.insert(ps.name.as_str(), found.arn.clone());
        let attached = match ic.managed_policies(&instance.arn, &found.arn).await {
            Ok(p) => p,
            Err(e) => {
                let fix = "check the caller may sso:ListManagedPoliciesInPermissionSet";
                checks.push(Check::failed(&check, e.to_string(), fix));
                continue;
            }
        };
        let missing: Vec<&str> =
            ps.managed_policies.iter().filter(|p| !attached.contains(p)).map(String::as_str).collect();
        let duration = found.session_duration.as_deref();
        checks.push(if !missing.is_empty() {
            Check::failed(&check, format!("{} lacks {}", found.arn, missing.join(", ")), BOOTSTRAP)
        } else if duration != Some(ps.session_duration.as_str()) {
            let detail =
                format!("{} lasts {}, the config says {}", found.arn, duration.unwrap_or("-"), ps.session_duration);
            Check::failed(&check, detail, BOOTSTRAP)
        } else {
            Check::ok(&check, format!("{}, as configured", found.arn))
        });
    }
    for a in &ic_cfg.assignments {
        for account in &a.accounts {
            let check = format!("assignment {} -> {} in {account}", a.group, a.permission_set);
            let (Some(group), Some(ps)) = (group_ids.get(a.group.as_str()), arns.get(a.permission_set.as_str())) else {
                checks.push(Check::not_checked(&check, "its group or permission set failed above"));
                continue;
            };
            checks.push(match ic.assigned_groups(&instance.arn, account, ps).await {
                Ok(groups) if groups.contains(group) => Check::ok(&check, "assigned"),
                Ok(_) => Check::failed(&check, "missing", BOOTSTRAP),
                Err(e) => Check::failed(&check, e.to_string(), "check the caller may sso:ListAccountAssignments"),
            });
        }
    }
    checks
}
