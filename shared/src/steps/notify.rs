//! `notify`: the welcome message to the new hire (and their manager), over SNS. It says where
//! the initial credentials are and what happens at first sign-in; it never contains a secret.
//! The `welcome-sent` tag on the user makes a resend send nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Ctx, State, Step, Trail};
use crate::audit::{Action, Outcome};
use crate::aws::{account_of, region_of};
use crate::error::Error;
use crate::intent::Intent;
use crate::tags::WELCOME_SENT;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyOutput {
    /// Recipients messaged now (empty when the welcome had already gone out).
    pub sent_to: Vec<String>,
    pub actions: Vec<Action>,
}

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub recipient: String,
    pub kind: &'static str,
    pub subject: String,
    pub body: String,
}

/// What the welcome needs to say.
#[derive(Debug, Clone)]
pub struct Welcome<'a> {
    pub first_name: &'a str,
    pub full_name: String,
    pub email: &'a str,
    pub manager_email: Option<&'a str>,
    pub user_name: &'a str,
    pub sign_in_url: String,
    pub password_secret: Option<&'a str>,
    pub access_key_secret: Option<&'a str>,
    pub region: &'a str,
    /// Whether principals besides the user (a service desk) may read the initial credentials.
    pub delivered_by_service_desk: bool,
}

/// The messages for a new hire and their manager. Pure: built from names and locations only.
pub fn welcome_messages(w: &Welcome<'_>) -> Vec<Message> {
    let mut how = String::new();
    if let Some(s) = w.password_secret {
        how.push_str(&format!(
            "Console: sign in at {url} as `{user}`. Your initial password is in AWS Secrets Manager, \
             secret `{s}` (region {r}), readable only by you{desk}. You must choose a new password \
             at first sign-in, then set up an MFA device: until you do, your account can do nothing else.\n",
            url = w.sign_in_url,
            user = w.user_name,
            r = w.region,
            desk =
                if w.delivered_by_service_desk { " and the service desk, who hands it to you in person" } else { "" },
        ));
    }
    if let Some(s) = w.access_key_secret {
        how.push_str(&format!(
            "Programmatic access: your access key is in AWS Secrets Manager, secret `{s}` (region {r}), \
             readable only by you: `aws secretsmanager get-secret-value --secret-id {s}`.\n",
            r = w.region
        ));
    }
    let mut out = vec![Message {
        recipient: w.email.to_owned(),
        kind: "welcome",
        subject: "Your AWS account is ready".into(),
        body: format!(
            "Hello {},\n\nYour AWS user `{}` is ready.\n\n{how}\nThis message contains no password.\n",
            w.first_name, w.user_name
        ),
    }];
    if let Some(m) = w.manager_email {
        out.push(Message {
            recipient: m.to_owned(),
            kind: "welcome-manager",
            subject: "AWS account ready for your new team member".into(),
            body: format!(
                "Hello,\n\nThe AWS user `{}` for {} ({}) is ready. They have been sent sign-in \
                 instructions; their initial credentials are readable only by them.\n",
                w.user_name, w.full_name, w.email
            ),
        });
    }
    out
}

pub async fn run(ctx: &Ctx, state: &State) -> Result<NotifyOutput, Error> {
    let intent = Intent::from_event(&ctx.cfg, &state.event)?;
    let user = state.user()?;
    let mut trail = Trail::new(ctx, &intent, Step::Notify);
    let h = &intent.hire;
    let current = if user.exists { ctx.aws.iam.wait_for_user(&user.user_name).await?.tags } else { BTreeMap::new() };
    if current.contains_key(WELCOME_SENT) {
        trail.record("sns:Publish", &ctx.targets.notifications_topic_arn, Outcome::AlreadyDone).await?;
        return Ok(NotifyOutput { sent_to: Vec::new(), actions: trail.actions });
    }
    let stored = state.store_password.as_ref();
    let account = account_of(&user.user_arn).unwrap_or("<account-id>");
    let sign_in_url = ctx
        .cfg
        .console
        .sign_in_url
        .clone()
        .unwrap_or_else(|| format!("https://{account}.signin.aws.amazon.com/console"));
    let region = stored
        .and_then(|s| s.password_secret_arn.as_deref().or(s.access_key_secret_arn.as_deref()))
        .and_then(region_of)
        .or_else(|| region_of(&ctx.targets.notifications_topic_arn))
        .unwrap_or("-");
    let messages = welcome_messages(&Welcome {
        first_name: h.first_name(),
        full_name: format!("{} {}", h.first_name(), h.family_name),
        email: &h.email,
        manager_email: h.manager_email.as_deref(),
        user_name: &user.user_name,
        sign_in_url,
        password_secret: if h.access.console {
            Some(stored.and_then(|s| s.password_secret_name.as_deref()).unwrap_or("-"))
        } else {
            None
        },
        access_key_secret: if h.access.programmatic {
            Some(stored.and_then(|s| s.access_key_secret_name.as_deref()).unwrap_or("-"))
        } else {
            None
        },
        region,
        delivered_by_service_desk: !ctx.cfg.secrets.readers.is_empty(),
    });
    let mut sent_to = Vec::new();
    for m in &messages {
        if !trail.dry_run() {
            let attrs = [
                ("recipient", m.recipient.as_str()),
                ("employee-id", h.meta.employee_id.as_str()),
                ("event-type", m.kind),
            ];
            ctx.aws.sns.publish(&ctx.targets.notifications_topic_arn, Some(&m.subject), &m.body, &attrs).await?;
            tracing::info!(recipient = %m.recipient, kind = m.kind, "welcome sent");
            sent_to.push(m.recipient.clone());
        }
        trail
            .record("sns:Publish", &format!("{} ({})", ctx.targets.notifications_topic_arn, m.kind), trail.change())
            .await?;
    }
    if !trail.dry_run() {
        let tag = BTreeMap::from([(WELCOME_SENT.to_owned(), h.meta.event_id.clone())]);
        ctx.aws.iam.tag_user(&user.user_name, &tag).await?;
    }
    Ok(NotifyOutput { sent_to, actions: trail.actions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welcome_says_where_and_how_and_the_manager_gets_a_note() {
        let m = welcome_messages(&Welcome {
            first_name: "Zoë",
            full_name: "Zoë O'Brien".into(),
            email: "zoe@example.com",
            manager_email: Some("boss@example.com"),
            user_name: "zoe.obrien",
            sign_in_url: "https://123456789012.signin.aws.amazon.com/console".into(),
            password_secret: Some("employee-lifecycle/zoe.obrien/console-password"),
            access_key_secret: None,
            region: "eu-west-1",
            delivered_by_service_desk: false,
        });
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].recipient.as_str(), m[0].kind), ("zoe@example.com", "welcome"));
        for needle in [
            "zoe.obrien",
            "signin.aws.amazon.com",
            "employee-lifecycle/zoe.obrien/console-password",
            "new password",
            "MFA",
        ] {
            assert!(m[0].body.contains(needle), "missing {needle}: {}", m[0].body);
        }
        assert!(m[0].subject.is_ascii());
        assert_eq!(m[1].recipient, "boss@example.com");
        assert!(!m[1].body.contains("console-password"));
    }
}
