//! Messages to people over the notifications topic: one [`Message`] each, published together
//! and audited one action each ([`publish`]); the welcome of a new hire and their manager
//! ([`welcome`]: where the initial credentials are, what happens at first sign-in). No message
//! ever contains a secret.

use std::collections::BTreeMap;

use super::tagging::write_tags;
use super::{Person, StorePasswordOutput, UserRef};
use crate::arn::{account_of, region_of};
use crate::audit::Outcome;
use crate::aws::sns;
use crate::context::Ctx;
use crate::error::Error;
use crate::tags::{CREDENTIALS_EXPIRED, WELCOME_SENT};
use crate::trail::Trail;

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub recipient: String,
    pub kind: &'static str,
    pub subject: String,
    pub body: String,
}

/// Publishes messages to the notifications topic (not in a dry run), one audited action each;
/// `employee_id` (the person they are about) is an attribute unless empty (a reviewer's message).
pub(crate) async fn publish(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    employee_id: &str,
    messages: &[Message],
) -> Result<Vec<String>, Error> {
    let topic = &ctx.targets.notifications_topic_arn;
    let target = |m: &Message| format!("{topic} ({})", m.kind);
    if trail.dry_run() {
        for m in messages {
            trail.record("sns:Publish", &target(m), Outcome::WouldDo).await?;
        }
        return Ok(Vec::new());
    }
    // All of them in one call (`PublishBatch`; authorised by `sns:Publish`).
    let outgoing: Vec<sns::Message> = messages
        .iter()
        .map(|m| {
            let mut attributes = vec![("recipient", m.recipient.clone()), ("event-type", m.kind.to_owned())];
            if !employee_id.is_empty() {
                attributes.push(("employee-id", employee_id.to_owned()));
            }
            sns::Message { subject: Some(m.subject.clone()), body: m.body.clone(), attributes }
        })
        .collect();
    let results = ctx.aws.sns.publish_batch(topic, &outgoing).await;
    let (mut sent_to, mut failed) = (Vec::new(), None);
    for (m, e) in messages.iter().zip(results) {
        match e {
            None => {
                tracing::info!(recipient = %m.recipient, kind = m.kind, "message sent");
                trail.record("sns:Publish", &target(m), Outcome::Done).await?;
                sent_to.push(m.recipient.clone());
            }
            Some(e) => failed = failed.or(Some(e)),
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(sent_to),
    }
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
    /// The AWS access portal, when the person's access is in Identity Center: they sign in
    /// there and set their own password, and no credential was made.
    pub portal_url: Option<&'a str>,
    /// Whether principals besides the user (a service desk) may read the initial credentials.
    pub delivered_by_service_desk: bool,
}

/// The messages for a new hire and their manager. Pure: built from names and locations only.
pub fn welcome_messages(w: &Welcome<'_>) -> Vec<Message> {
    let mut how = String::new();
    if let Some(portal) = w.portal_url {
        how.push_str(&format!(
            "Sign in to the AWS access portal at {portal} as `{user}`. At your first sign-in you choose \
             your own password, with a one-time code AWS sends to this address, then register an MFA \
             device. The portal lists the accounts and roles your groups give you.\n",
            user = w.user_name
        ));
    }
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
                 instructions; {}.\n",
                w.user_name,
                w.full_name,
                w.email,
                if w.portal_url.is_some() {
                    "they choose their own password at first sign-in"
                } else {
                    "their initial credentials are readable only by them"
                }
            ),
        });
    }
    out
}

/// Sends the welcome unless the user's `welcome-sent` tag says it went out already (it is
/// removed when the person leaves, so a rehire is welcomed again). Returns the recipients.
pub(crate) async fn welcome(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    person: &Person,
    user: &UserRef<'_>,
    stored: Option<&StorePasswordOutput>,
) -> Result<Vec<String>, Error> {
    let current = user.tags;
    // Sent already; or the credentials it announced were withdrawn unused (an `Employee Changed`
    // re-issues them and removes that marker first); or another delivery of this event made the
    // credentials at the same moment, and welcomes the person itself.
    let concurrent = stored.is_some_and(|s| s.concurrent);
    if current.contains_key(WELCOME_SENT) || current.contains_key(CREDENTIALS_EXPIRED) || concurrent {
        trail.record("sns:Publish", &ctx.targets.notifications_topic_arn, Outcome::AlreadyDone).await?;
        return Ok(Vec::new());
    }
    let account = account_of(user.arn).unwrap_or("<account-id>");
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
    #[cfg(feature = "identity-center")]
    let portal_url = ctx.identity_center.as_ref().map(|t| t.portal_url.as_str());
    #[cfg(not(feature = "identity-center"))]
    let portal_url = None;
    let messages = welcome_messages(&Welcome {
        first_name: &person.first_name,
        full_name: person.full_name.clone(),
        email: &person.email,
        manager_email: person.manager_email.as_deref(),
        user_name: user.name,
        sign_in_url,
        password_secret: if person.access.console && portal_url.is_none() {
            Some(stored.and_then(|s| s.password_secret_name.as_deref()).unwrap_or("-"))
        } else {
            None
        },
        access_key_secret: if person.access.programmatic && portal_url.is_none() {
            Some(stored.and_then(|s| s.access_key_secret_name.as_deref()).unwrap_or("-"))
        } else {
            None
        },
        region,
        portal_url,
        delivered_by_service_desk: !ctx.cfg.secrets.readers.is_empty(),
    });
    let sent_to = publish(ctx, trail, &person.employee_id, &messages).await?;
    let sent = BTreeMap::from([(WELCOME_SENT.to_owned(), person.seed.clone())]);
    write_tags(ctx, trail, user, &sent, &[]).await?;
    Ok(sent_to)
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
            portal_url: None,
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

    #[test]
    fn an_identity_center_welcome_names_the_portal_and_no_credential() {
        let m = welcome_messages(&Welcome {
            first_name: "Zoë",
            full_name: "Zoë O'Brien".into(),
            email: "zoe@example.com",
            manager_email: Some("boss@example.com"),
            user_name: "zoe.obrien",
            sign_in_url: String::new(),
            password_secret: None,
            access_key_secret: None,
            region: "eu-west-1",
            portal_url: Some("https://example.awsapps.com/start"),
            delivered_by_service_desk: false,
        });
        for needle in ["https://example.awsapps.com/start", "`zoe.obrien`", "choose your own password", "MFA"] {
            assert!(m[0].body.contains(needle), "missing {needle}: {}", m[0].body);
        }
        assert!(!m[0].body.contains("Secrets Manager"), "{}", m[0].body);
        assert!(m[1].body.contains("choose their own password"), "{}", m[1].body);
    }
}
