//! `notify`: messages to people over SNS. For a hire, the welcome to the new hire (and their
//! manager): where the initial credentials are and what happens at first sign-in. For a change,
//! a notice of what changed. No message ever contains a secret. The `welcome-sent` tag on the
//! user makes a resend send nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Ctx, Person, State, Step, Trail};
use crate::audit::{Action, Outcome};
use crate::error::Error;
use crate::intent::Request;
use crate::person::hire_is_pending;
use crate::person::notices::{Message, publish, welcome};
use crate::tags::{EMAIL, GIVEN_NAME};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyOutput {
    /// Recipients messaged now (empty when the welcome had already gone out).
    pub sent_to: Vec<String>,
    pub actions: Vec<Action>,
}

pub async fn run(ctx: &Ctx, state: &State) -> Result<NotifyOutput, Error> {
    let Some((req, target, mut trail)) = super::identity::begin(ctx, state, Step::Notify).await? else {
        return Ok(NotifyOutput::default());
    };
    let user = &target.user;
    let current = &user.tags;
    let sent_to = match &req {
        Request::Hire(intent) => {
            if hire_is_pending(ctx, intent, current) {
                tracing::info!(user = %user.name, "pre-hire: the welcome waits for the sweep");
                return Ok(NotifyOutput::default());
            }
            let person = Person::from_hire(&intent.hire);
            welcome(ctx, &mut trail, &person, &target.user_ref(), state.store_password.as_ref()).await?
        }
        Request::Change(c) => {
            let mut sent = change_notice(ctx, &mut trail, state, &user.name, current).await?;
            // A re-issued password (see store-password) comes with a new welcome.
            let stored = state.store_password.as_ref();
            if stored.is_some_and(|s| s.password_secret_arn.is_some())
                && let Some(person) = Person::from_tags(current, c.meta.event_id.clone())
            {
                sent.extend(welcome(ctx, &mut trail, &person, &target.user_ref(), stored).await?);
            }
            sent
        }
        Request::Depart(_) => return Err(Error::Input("a departure goes to `offboard`, not `notify`".into())),
    };
    Ok(NotifyOutput { sent_to, actions: trail.actions })
}

/// Tells the person what a change did to their access, when this run changed something. A
/// resend changes nothing and so sends nothing.
async fn change_notice(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    state: &State,
    user_name: &str,
    current: &BTreeMap<String, String>,
) -> Result<Vec<String>, Error> {
    let changed = |actions: &[Action]| actions.iter().any(|a| matches!(a.outcome, Outcome::Done | Outcome::WouldDo));
    let groups = state.join_groups.as_ref();
    let regrouped = groups.is_some_and(|g| changed(&g.actions));
    let retagged = state.tag_user.as_ref().is_some_and(|t| changed(&t.actions));
    let (Some(email), true) = (current.get(EMAIL), regrouped || retagged) else {
        trail.record("sns:Publish", &ctx.targets.notifications_topic_arn, Outcome::AlreadyDone).await?;
        return Ok(Vec::new());
    };
    let greeting = current.get(GIVEN_NAME).map(String::as_str).unwrap_or("there");
    let mut body = format!("Hello {greeting},\n\nHR updated your record; your AWS user `{user_name}` follows it.\n");
    if let Some(g) = groups.filter(|_| regrouped) {
        body.push_str(&format!("\nYour groups are now: {}.\n", g.groups.join(", ")));
        if !g.left.is_empty() {
            body.push_str(&format!("You left: {}.\n", g.left.join(", ")));
        }
    }
    let message =
        Message { recipient: email.clone(), kind: "access-changed", subject: "Your AWS access changed".into(), body };
    let employee = current.get(crate::tags::EMPLOYEE_ID).map(String::as_str).unwrap_or("-");
    publish(ctx, trail, employee, std::slice::from_ref(&message)).await
}
