//! `join-groups`: the groups from the mapping rules, and only those. Joins the ones that apply
//! and leaves the mapped ones (`groups.allowed`) that no longer do; groups outside the mapping
//! are never touched ([`crate::person::membership`]).

use serde::{Deserialize, Serialize};

use super::{Ctx, State, Step};
use crate::audit::Action;
use crate::error::Error;
use crate::intent::Request;
use crate::mapping::Membership;
use crate::person::membership;
use crate::tags;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinGroupsOutput {
    /// The groups the mapping gives, all of which the user is (or would be) in.
    pub groups: Vec<String>,
    /// Mapped groups the user left because they no longer apply.
    #[serde(default)]
    pub left: Vec<String>,
    /// No rule matched the person's attributes: only the always-groups apply.
    pub no_rule_matched: bool,
    pub actions: Vec<Action>,
}

pub async fn run(ctx: &Ctx, state: &State) -> Result<JoinGroupsOutput, Error> {
    let Some((req, target, mut trail)) = super::identity::begin(ctx, state, Step::JoinGroups).await? else {
        return Ok(JoinGroupsOutput::default());
    };
    let user = &target.user;
    let membership: Membership = match &req {
        Request::Hire(intent) => intent.membership.clone(),
        Request::Change(c) => {
            // The person's attributes are the tags, with this event's changes applied.
            membership::wanted(ctx, &tags::after_change(&user.tags, c))?
        }
        Request::Depart(_) => return Err(Error::Input("a departure goes to `offboard`, not `join-groups`".into())),
    };
    let wanted = &membership.groups;

    let stale = membership::regroup(ctx, &mut trail, &target.user_ref(), wanted).await?;
    if membership.no_rule_matched {
        tracing::info!(user = %user.name, "no mapping rule matched; always-groups only");
    }
    Ok(JoinGroupsOutput {
        groups: wanted.clone(),
        left: stale,
        no_rule_matched: membership.no_rule_matched,
        actions: trail.actions,
    })
}
