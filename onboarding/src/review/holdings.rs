//! What a campaign reviews: every managed person's access read from the target (IAM users, or
//! Identity Center's memberships), frozen as the campaign's items with the population's manifest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use shared::review::{self, Campaign, Decision, Grant, Holding, Population, Status};
use shared::steps::Ctx;

use crate::output::Stop;

/// On Identity Center: every managed person's group memberships, each with the permission sets
/// and accounts the group is assigned (the accounts the config assigns to).
async fn ic_holdings(ctx: &Ctx) -> Result<(Vec<Holding>, String), Stop> {
    let (Some(t), Some(ic_cfg)) = (&ctx.identity_center, ctx.cfg.identity_center_target()) else {
        return Err(Stop::usage("not connected to Identity Center"));
    };
    let users = crate::audit::ic_users(ctx).await.map_err(Stop::failed)?;
    let (view, accounts) = crate::audit::ic_view(ic_cfg, &t.ic, &ctx.aws.people).await.map_err(Stop::failed)?;
    let mut grants_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (ps, account, kind, id) in &view.assignments {
        if *kind == shared::aws::identity_center::Principal::Group
            && let Some(name) = view.groups.get(id)
        {
            grants_of.entry(name.as_str()).or_default().push(format!("{ps} in {account}"));
        }
    }
    let mut people = Vec::new();
    for (d, _) in users.iter().filter(|(_, managed)| *managed) {
        let since = d.user.tags.get(shared::tags::START_DATE).cloned();
        let grants = d
            .groups
            .iter()
            .map(|g| {
                let what = grants_of.get(g.as_str()).map_or("no permission set assigned".into(), |p| p.join(", "));
                (Grant::Group, g.clone(), format!("grants {what}"), since.clone(), None)
            })
            .collect();
        people.extend(Holding::of(&d.user.name, &d.user.tags, grants));
    }
    let source = format!(
        "identity center: ListUsers, ListGroups, ListGroupMemberships, ListAccountAssignments in the accounts the \
         config assigns to ({}); dynamodb: the people table {}. Direct user assignments are not reviewed \
         (this system assigns only groups)",
        accounts.join(", "),
        ic_cfg.people_table
    );
    Ok((people, source))
}

/// Every managed person's access (IAM users, or Identity Center), frozen as a campaign.
pub(super) async fn freeze(
    ctx: &Ctx,
    name: &str,
    due: DateTime<Utc>,
    default: Decision,
    now: DateTime<Utc>,
) -> Result<(Campaign, Vec<review::Frozen>), Stop> {
    let (people, source) = match ctx.identity_center {
        Some(_) => ic_holdings(ctx).await?,
        None => iam_holdings(ctx).await?,
    };
    let frozen =
        review::freeze(name, &people, ctx.cfg.review.fallback_reviewer.as_deref()).map_err(|e| Stop::usage(e.0))?;
    let lines = review::population_lines(&frozen);
    let population = Population {
        source,
        extracted_at: shared::lifecycle::stamp(now),
        filters: BTreeMap::from([
            ("target".to_owned(), ctx.cfg.target.kind.as_str().to_owned()),
            ("managed".to_owned(), "true".to_owned()),
        ]),
        people: people.len(),
        items: frozen.len(),
        sha256: review::sha256_hex(&lines),
    };
    let campaign = Campaign {
        name: name.to_owned(),
        status: Status::Open,
        started_at: shared::lifecycle::stamp(now),
        due: shared::lifecycle::stamp(due),
        default,
        max_revoke_percent: ctx.cfg.review.max_revoke_percent,
        population,
        closed_at: None,
    };
    Ok((campaign, frozen))
}

/// Every managed IAM user's access: groups (and what they grant), console access, access keys
/// with their last use, policies on the user.
async fn iam_holdings(ctx: &Ctx) -> Result<(Vec<Holding>, String), Stop> {
    let iam = &ctx.aws.iam;
    let (users, report) = crate::audit::iam_view(ctx).await.map_err(Stop::failed)?;
    let mut granted: BTreeMap<String, String> = BTreeMap::new();
    let mut people = Vec::new();
    for (d, _) in users.iter().filter(|(_, managed)| *managed) {
        let u = &d.user;
        if !u.tags.contains_key(shared::tags::EMPLOYEE_ID) {
            continue;
        }
        let since = d.created.map(shared::lifecycle::stamp);
        let row = report.get(&u.name);
        let cell = |k: &str| {
            row.and_then(|r| r.get(k))
                .filter(|v| !matches!(v.as_str(), "" | "N/A" | "no_information" | "not_supported"))
                .cloned()
        };
        let mut grants = Vec::new();
        for g in &d.groups {
            if !granted.contains_key(g) {
                let policies = iam.group_policies(g).await.map_err(Stop::failed)?;
                let what = if policies.is_empty() {
                    "no policies".to_owned()
                } else {
                    format!("grants {}", policies.join(", "))
                };
                granted.insert(g.clone(), what);
            }
            grants.push((Grant::Group, g.clone(), granted[g].clone(), since.clone(), None));
        }
        if cell("password_enabled").as_deref() == Some("true") {
            let detail = format!("MFA {}", if cell("mfa_active").as_deref() == Some("true") { "on" } else { "off" });
            grants.push((
                Grant::Console,
                String::new(),
                detail,
                cell("password_last_changed").or(since.clone()),
                cell("password_last_used"),
            ));
        }
        for k in iam.access_keys(&u.name).await.map_err(Stop::failed)? {
            let used = iam.access_key_last_used(&k.id).await.map_err(Stop::failed)?.map(shared::lifecycle::stamp);
            let detail = if k.active { "active" } else { "inactive" }.to_owned();
            grants.push((Grant::AccessKey, k.id.clone(), detail, None, used));
        }
        for p in &d.attached_policies {
            grants.push((
                Grant::Policy,
                p.clone(),
                "a managed policy on the user, outside the groups".into(),
                None,
                None,
            ));
        }
        for p in &d.inline_policies {
            grants.push((
                Grant::InlinePolicy,
                p.clone(),
                "an inline policy on the user, outside the groups".into(),
                None,
                None,
            ));
        }
        people.extend(Holding::of(&u.name, &u.tags, grants));
    }
    let source = format!(
        "iam: GetAccountAuthorizationDetails (users under {}), the credential report, ListAccessKeys, \
         GetAccessKeyLastUsed, ListAttachedGroupPolicies, ListGroupPolicies",
        ctx.cfg.iam.user_path
    );
    Ok((people, source))
}
