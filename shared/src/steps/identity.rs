//! The user a step acts on. Every step re-derives its user from the event's `employeeId`
//! ([`target`]); names and ARNs handed on between steps are hints that must agree, never
//! authority. Whose a user is: [`crate::person::ownership`].

use crate::aws::iam::User;
use crate::error::Error;
use crate::intent::Request;
use crate::person::ownership::ownership;
use crate::tags::EMPLOYEE_ID;

use super::{Ctx, State, Step, Trail};

/// The user a step after `create-user` acts on, re-derived from IAM. `None` when `create-user`
/// decided the event changes nothing (skipping writes nothing, so that hint needs no proof).
#[derive(Debug, Clone)]
pub struct Target {
    /// As IAM reports it (with tags); in a dry run for a user not created yet, the name alone.
    pub user: User,
    /// False only in a dry run for a user not created yet.
    pub exists: bool,
    /// `create-user` made it in this delivery, in this process ([`State::made_here`]): it has no
    /// group and no password but what this delivery gives it, so those need not be read.
    pub made_here: bool,
}

impl Target {
    /// The user as a step acts on it, with its tags as proven.
    pub fn user_ref(&self) -> crate::person::UserRef<'_> {
        crate::person::UserRef {
            name: &self.user.name,
            arn: &self.user.arn,
            exists: self.exists,
            made_here: self.made_here,
            tags: &self.user.tags,
        }
    }
}

/// What a step after `create-user` starts from: the event's request, the proven target and the
/// step's trail. `None` when `create-user` decided the event changes nothing.
pub(crate) async fn begin<'a>(
    ctx: &'a Ctx,
    state: &'a State,
    step: Step,
) -> Result<Option<(&'a Request, Target, Trail<'a>)>, Error> {
    let req = state.request(ctx)?;
    let Some(target) = target(ctx, state, &req.meta().employee_id, Proof::Reuse).await? else { return Ok(None) };
    let trail = Trail::new(ctx, req.meta(), step);
    Ok(Some((req, target, trail)))
}

/// How a step proves its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// From IAM, now: the step issues credentials, so a departure that landed since `create-user`
    /// must be seen.
    Fresh,
    /// The user as `create-user` read or made it in this process ([`State::proven`]), while no
    /// step since changed its tags; from IAM otherwise. A state that came from outside the process
    /// (a Lambda's input) carries none, so a Lambda always reads.
    Reuse,
}

/// Resolves the user named in the state and proves it is the event's employee's, as this system
/// made it: the state's name and ARN must be that user's, and [`ownership`] must hold. A forged
/// state (another person's user, another ARN, an unmanaged user) fails before any write.
pub async fn target(ctx: &Ctx, state: &State, employee_id: &str, proof: Proof) -> Result<Option<Target>, Error> {
    let Some(hint) = state.target()? else { return Ok(None) };
    if ctx.dry_run && !hint.exists {
        let would = state.proven().filter(|u| u.name == hint.user_name).cloned();
        let user = would.unwrap_or_else(|| User { name: hint.user_name.clone(), ..User::default() });
        return Ok(Some(Target { user, exists: false, made_here: false }));
    }
    let untrusted = |why: String| Error::Untrusted(format!("`createUser` names user `{}`: {why}", hint.user_name));
    if hint.user_name.is_empty() {
        return Err(untrusted("no user name".into()));
    }
    let proven = state.proven().filter(|u| proof == Proof::Reuse && u.name == hint.user_name).cloned();
    let user = match proven {
        Some(u) => u,
        None => crate::person::account::read(ctx, employee_id, &hint.user_name)
            .await?
            .ok_or_else(|| untrusted("no such user".into()))?,
    };
    if user.arn != hint.user_arn {
        return Err(untrusted(format!("its ARN is `{}`, not `{}`", user.arn, hint.user_arn)));
    }
    if user.tags.get(EMPLOYEE_ID).map(String::as_str) != Some(employee_id) {
        return Err(untrusted(format!("it is not employee `{employee_id}`'s user")));
    }
    ownership(ctx.owner(), &user).map_err(untrusted)?;
    Ok(Some(Target { user, exists: true, made_here: state.made_here() }))
}
