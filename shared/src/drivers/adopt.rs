//! `adopt`: makes a user someone made by hand the managed user of the person it belongs to, as
//! an operator decided with `onboarding roster import --apply`. Never an HR event's doing: an
//! event that could name any user would let HR hand this system (and a later departure) a user
//! that is not the person's, e.g. a break-glass administrator.
//!
//! Adopting moves the user to the employee's path, sets the permissions boundary, and writes the
//! ownership tags last, so a half-done adoption is not yet a managed user (see
//! [`ownership::ownership`]); the hire's `join-groups` and `tag-user` then run as for any hire
//! ([`crate::flow::ADOPTED`]). The user's name, password, access keys and MFA devices are not touched,
//! and no welcome is sent: the person already has their credentials. On Identity Center the
//! adoption is the people record naming the user (`person::identity_center::adopt`).

use std::collections::BTreeMap;

use crate::audit::{Action, Outcome};
use crate::aws::iam::User;
use crate::context::Ctx;
use crate::error::Error;
use crate::flow::Step;
use crate::intent::Intent;
use crate::lifecycle::Status;
use crate::person::UserRef;
use crate::person::ownership::{self, Owner, employee_path};
use crate::person::tagging::write_tags;
use crate::tags::{self, EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE, STATUS};
use crate::trail::Trail;

/// What adopting a user takes: each part `None`/empty when already so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claim {
    /// The employee's path, when the user lives elsewhere.
    pub path: Option<String>,
    /// The boundary, when IAM reports another (or none) and boundaries are required.
    pub boundary: Option<String>,
    /// The ownership tags the user lacks: `managed-by`, `employee-id`, `lifecycle-status`
    /// (`active`: the person already works here).
    pub tags: BTreeMap<String, String>,
}

impl Claim {
    pub fn is_empty(&self) -> bool {
        self.path.is_none() && self.boundary.is_none() && self.tags.is_empty()
    }
}

/// What adopting `u` for `employee_id` takes, or why it must not be adopted: it is protected
/// (`lifecycle.protect`), or it carries another employee's id. Pure.
pub fn claim(owner: Owner<'_>, employee_id: &str, u: &User) -> Result<Claim, String> {
    if ownership::is_protected(owner.cfg, u) {
        return Err(format!("`{}` is protected (lifecycle.protect): never adopted automatically", u.name));
    }
    if let Some(other) = u.tags.get(EMPLOYEE_ID).filter(|id| id.as_str() != employee_id) {
        return Err(format!("`{}` carries employee id `{other}`, not `{employee_id}`", u.name));
    }
    let wanted = [
        (MANAGED_BY, MANAGED_BY_VALUE),
        (EMPLOYEE_ID, employee_id),
        (STATUS, u.tags.get(STATUS).map(String::as_str).unwrap_or(Status::Active.as_str())),
    ];
    let wanted: BTreeMap<String, String> = wanted.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let tags = tags::diff(&u.tags, &wanted).set;
    if owner.cfg.identity_center_target().is_some() {
        // An Identity Store user has no path or boundary: its people record is the claim.
        return Ok(Claim { path: None, boundary: None, tags });
    }
    let path = employee_path(owner.cfg, employee_id);
    Ok(Claim {
        path: (u.path != path).then_some(path),
        boundary: (owner.require_boundary && u.boundary.as_deref() != Some(owner.boundary_arn))
            .then(|| owner.boundary_arn.to_owned()),
        tags,
    })
}

/// Adopts `user_name` for the intent's person (apply only: the import's plan is the dry run).
/// Again from IAM, not from the plan: the person must have no other user, and [`claim`] must
/// allow it. A rerun after a partial adoption finishes it; after a full one it records
/// `already-done`. Returns the adopted user, as IAM reports it now, and what was done.
pub async fn run(ctx: &Ctx, intent: &Intent, user_name: &str) -> Result<(User, Vec<Action>), Error> {
    if ctx.dry_run {
        return Err(Error::Input(
            "adopt has no dry run: `onboarding roster import` without --apply is its plan".into(),
        ));
    }
    let meta = &intent.hire.meta;
    let mut trail = Trail::new(ctx, meta, Step::Adopt);
    if let Some(u) = ownership::find(ctx, &meta.employee_id).await?
        && !u.name.eq_ignore_ascii_case(user_name)
    {
        return Err(Error::Conflict(format!(
            "employee `{}` already has user `{}`; `{user_name}` is not adopted",
            meta.employee_id, u.name
        )));
    }
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        if ownership::is_protected(&ctx.cfg, &User { name: user_name.to_owned(), ..User::default() }) {
            return Err(Error::Conflict(format!("`{user_name}` is protected (lifecycle.protect): never adopted")));
        }
        let adopted = crate::person::identity_center::adopt(ctx, t, &mut trail, intent, user_name).await?;
        tracing::info!(user = %adopted.name, employee_id = %meta.employee_id, "adopted Identity Store user");
        return Ok((adopted, trail.actions));
    }
    let Some(u) = ctx.aws.iam.get_user(user_name).await? else {
        return Err(Error::Conflict(format!("no user `{user_name}` to adopt")));
    };
    let claim = claim(ctx.owner(), &meta.employee_id, &u).map_err(Error::Conflict)?;
    if claim.is_empty() {
        trail.record("iam:UpdateUser", &u.arn, Outcome::AlreadyDone).await?;
    }
    let iam = &ctx.aws.iam;
    if let Some(path) = &claim.path {
        trail.apply("iam:UpdateUser", &u.arn, iam.move_user(&u.name, path)).await?;
    }
    if let Some(boundary) = &claim.boundary {
        trail.apply("iam:PutUserPermissionsBoundary", &u.arn, iam.set_boundary(&u.name, boundary)).await?;
    }
    write_tags(ctx, &mut trail, &UserRef::of(&u), &claim.tags, &[]).await?;
    // The ARN changes with the path.
    let adopted = iam.wait_for_user(&u.name).await?;
    ownership::ownership(ctx.owner(), &adopted).map_err(Error::Conflict)?;
    tracing::info!(user = %adopted.name, employee_id = %meta.employee_id, "adopted user");
    Ok((adopted, trail.actions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn cfg() -> Config {
        let mut c = Config::shipped().expect("config");
        c.lifecycle.protect = vec!["breakglass".into()];
        c
    }

    fn user(name: &str, path: &str, tags: &[(&str, &str)]) -> User {
        User {
            name: name.into(),
            arn: format!("arn:aws:iam::123456789012:user{path}{name}"),
            path: path.into(),
            tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..User::default()
        }
    }

    const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/employee-boundary";

    #[test]
    fn a_hand_made_user_gets_path_boundary_and_ownership_tags() {
        let c = cfg();
        let owner = Owner { cfg: &c, boundary_arn: BOUNDARY, require_boundary: true };
        let u = user("jdoe", "/", &[("team", "core")]);
        let claim = claim(owner, "E1", &u).expect("adoptable");
        assert_eq!(claim.path.as_deref(), Some("/employees/E1/"));
        assert_eq!(claim.boundary.as_deref(), Some(BOUNDARY));
        let owned = [(MANAGED_BY, MANAGED_BY_VALUE), (EMPLOYEE_ID, "E1"), (STATUS, "active")];
        let owned: BTreeMap<String, String> = owned.map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        assert_eq!(claim.tags, owned, "the user's own tags are kept, not rewritten");
        // Once adopted, it takes nothing more; the claim then also holds without a boundary
        // requirement (an IAM that reports none).
        let mut done = user("jdoe", "/employees/E1/", &[("team", "core")]);
        done.tags.extend(owned);
        done.boundary = Some(BOUNDARY.into());
        assert!(super::claim(owner, "E1", &done).expect("adoptable").is_empty());
        done.boundary = None;
        let lax = Owner { require_boundary: false, ..owner };
        assert!(super::claim(lax, "E1", &done).expect("adoptable").is_empty());
        assert_eq!(super::claim(owner, "E1", &done).expect("adoptable").boundary.as_deref(), Some(BOUNDARY));
    }

    #[test]
    fn on_identity_center_the_claim_is_the_ownership_marks_only() {
        let c = Config::shipped_identity_center().expect("config");
        let owner = Owner { cfg: &c, boundary_arn: "", require_boundary: false };
        let u = User { name: "jdoe".into(), arn: "arn:aws:identitystore:::user/u-1".into(), ..User::default() };
        let claim = claim(owner, "E1", &u).expect("adoptable");
        assert_eq!((claim.path, claim.boundary), (None, None), "an Identity Store user has neither");
        assert_eq!(claim.tags.get(EMPLOYEE_ID).map(String::as_str), Some("E1"));
    }

    #[test]
    fn protected_users_and_other_peoples_users_are_refused() {
        let c = cfg();
        let owner = Owner { cfg: &c, boundary_arn: BOUNDARY, require_boundary: true };
        let e = claim(owner, "E1", &user("breakglass", "/", &[])).expect_err("protected");
        assert!(e.contains("protected"), "{e}");
        let e = claim(owner, "E1", &user("jdoe", "/", &[(EMPLOYEE_ID, "E2")])).expect_err("someone else's");
        assert!(e.contains("`E2`"), "{e}");
        // Its own id on a user made by hand is no obstacle.
        assert!(claim(owner, "E1", &user("jdoe", "/", &[(EMPLOYEE_ID, "E1")])).is_ok());
    }
}
