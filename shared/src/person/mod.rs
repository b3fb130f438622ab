//! What happens to a person, below the steps: whose a user is ([`ownership`]), their account
//! ([`account`]), their initial
//! credentials (`credentials`), ending their access (`access`: the disable, leavers' role sessions,
//! the deletion), the mass-departure guard (`guard`: rules, override, alert, enforcement), the
//! one tag write ([`tagging`]), their groups ([`membership`]), the messages they get ([`notices`]), the tags a hire's user
//! carries ([`hire_tags`]), and who a step works for and the user it acts on ([`Person`],
//! [`UserRef`]). The steps and the drivers (pipeline, sweep, quarantine, adopt) use this layer;
//! it uses none of them.

#[cfg(feature = "secrets")]
pub mod access;
pub mod account;
#[cfg(feature = "secrets")]
pub mod credentials;
#[cfg(feature = "secrets")]
pub mod guard;
#[cfg(feature = "identity-center")]
pub mod identity_center;
pub mod membership;
pub mod notices;
pub mod ownership;
pub mod tagging;
#[cfg(feature = "tombstones")]
pub mod tombstone;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::Action;
use crate::aws::iam::User;
use crate::config::LifecycleConfig;
use crate::context::Ctx;
use crate::intent::Intent;
use crate::lifecycle::{self, Status};
use crate::tags::{ACTIVATE_AT, LAST_EVENT_TIME, STATUS};

/// What [`create`] came to.
#[derive(Debug, Clone)]
pub enum Made {
    /// Made now, exactly as asked (`CreateUser` is atomic).
    Created(User),
    /// The person's own user, made by a concurrent delivery of the same event.
    Found(User),
    /// A dry run: what it would be made with (no ARN), so a plan's later steps see what the
    /// run's will.
    Would(User),
}

/// Who a step works for, as the messages and credentials need it: from a hire event, or from
/// the user's tags when the sweep activates a pre-hire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub employee_id: String,
    pub first_name: String,
    pub full_name: String,
    pub email: String,
    pub manager_email: Option<String>,
    pub access: crate::event::Access,
    /// Seeds request tokens and marks the welcome: the hire's event id, or the sweep's.
    pub seed: String,
}

impl Person {
    pub fn from_hire(h: &crate::event::Hire) -> Self {
        Self {
            employee_id: h.meta.employee_id.clone(),
            first_name: h.first_name().to_owned(),
            full_name: format!("{} {}", h.first_name(), h.family_name),
            email: h.email.clone(),
            manager_email: h.manager_email.clone(),
            access: h.access,
            seed: h.meta.event_id.clone(),
        }
    }

    /// From the tags `tag-user` wrote; `None` when a tag the messages need is missing.
    pub fn from_tags(tags: &std::collections::BTreeMap<String, String>, seed: String) -> Option<Self> {
        use crate::tags::{ACCESS, DISPLAY_NAME, EMAIL, EMPLOYEE_ID, GIVEN_NAME, MANAGER_EMAIL};
        let access = tags.get(ACCESS).map(String::as_str).unwrap_or("console");
        Some(Self {
            employee_id: tags.get(EMPLOYEE_ID)?.clone(),
            first_name: tags.get(GIVEN_NAME)?.clone(),
            full_name: tags.get(DISPLAY_NAME).or(tags.get(GIVEN_NAME))?.clone(),
            email: tags.get(EMAIL)?.clone(),
            manager_email: tags.get(MANAGER_EMAIL).cloned(),
            access: crate::event::Access {
                console: access.contains("console"),
                programmatic: access.contains("programmatic"),
            },
            seed,
        })
    }
}

/// The user a step acts on.
#[derive(Debug, Clone, Copy)]
pub struct UserRef<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    /// False only in a dry run for a user not created yet.
    pub exists: bool,
    /// Created by this delivery, in this process (`steps::identity::Target::made_here`).
    pub made_here: bool,
    /// Its tags as read at the start of the step.
    pub tags: &'a BTreeMap<String, String>,
}

impl<'a> UserRef<'a> {
    /// A user as IAM reported it.
    pub fn of(user: &'a crate::aws::iam::User) -> Self {
        UserRef { name: &user.name, arn: &user.arn, exists: true, made_here: false, tags: &user.tags }
    }

    /// What the trail names: the ARN, or the name in a dry run for a user not created yet.
    pub fn label(&self) -> &'a str {
        if self.arn.is_empty() { self.name } else { self.arn }
    }
}

/// What issuing initial credentials produced (`store-password`'s output). Holds ARNs and names,
/// never a secret value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorePasswordOutput {
    /// Secret holding the initial console password (console access).
    pub password_secret_arn: Option<String>,
    pub password_secret_name: Option<String>,
    /// Secret holding the initial access key (programmatic access).
    pub access_key_secret_arn: Option<String>,
    pub access_key_secret_name: Option<String>,
    /// Another delivery of the same event made the first credential (the password, else the
    /// access key) at the same moment: it won that race, and it sends the welcome, not this one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub concurrent: bool,
    pub actions: Vec<Action>,
}

/// Whether a hire's console access and welcome wait for the sweep: the user is not active yet
/// and its activation time (start date minus lead days) is still ahead.
pub fn hire_is_pending(ctx: &Ctx, intent: &Intent, current: &BTreeMap<String, String>) -> bool {
    pending(&ctx.cfg.lifecycle, ctx.due_now(), intent, current)
}

pub(crate) fn pending(
    cfg: &LifecycleConfig,
    now: DateTime<Utc>,
    intent: &Intent,
    current: &BTreeMap<String, String>,
) -> bool {
    current.get(STATUS).map(String::as_str) != Some(Status::Active.as_str())
        && now < lifecycle::activation_time(intent.hire.start_date, cfg)
}

/// Every tag this system owns that a hire's user should carry, given its tags now: the HR
/// attributes, the status (`pending` with its activation time, or `active`) and the event's time.
/// `create-user` creates a user with them all, so a new hire's `tag-user` has nothing to add.
pub fn hire_tags(
    cfg: &LifecycleConfig,
    now: DateTime<Utc>,
    intent: &Intent,
    current: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut t = intent.tags.clone();
    if pending(cfg, now, intent, current) {
        let at = lifecycle::activation_time(intent.hire.start_date, cfg);
        t.insert(STATUS.into(), Status::Pending.as_str().into());
        t.insert(ACTIVATE_AT.into(), lifecycle::stamp(at));
    } else {
        t.insert(STATUS.into(), Status::Active.as_str().into());
    }
    t.insert(LAST_EVENT_TIME.into(), lifecycle::stamp(intent.hire.meta.time));
    t
}
