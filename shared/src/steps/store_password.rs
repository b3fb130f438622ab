//! `store-password`: initial credentials, stored in Secrets Manager where only their owner can
//! read them. Console access: a generated password and a login profile that must be reset at
//! first sign-in. Programmatic access: an access key.
//!
//! Order matters for idempotency. The secret is written before the login profile, so a crash in
//! between leaves a secret and no profile, and the retry writes a fresh password to both. A login
//! profile is only ever created together with the secret that holds its password; an existing one
//! means the step is done. This function writes secrets but never reads one.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::tag_user::hire_is_pending;
use super::{Ctx, Person, State, Step, StorePasswordOutput, Trail, UserRef};
use crate::audit::Outcome;
use crate::error::Error;
use crate::intent::Request;
use crate::lifecycle::Status;
use crate::password;
use crate::secret::Secret;
use crate::tags::{EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE};

/// Tag on the access-key secret naming the key it holds.
pub const ACCESS_KEY_ID_TAG: &str = "access-key-id";

pub async fn run(ctx: &Ctx, state: &State) -> Result<StorePasswordOutput, Error> {
    let Request::Hire(intent) = Request::from_event(&ctx.cfg, &state.event)? else {
        return Err(Error::Input("`store-password` handles hires only".into()));
    };
    let Some(user) = state.target()? else { return Ok(StorePasswordOutput::default()) };
    // `tag-user` decided and reported the status; read the user only when run without it.
    let pending = match state.tag_user.as_ref().and_then(|t| t.status) {
        Some(status) => status == Status::Pending,
        None if user.exists => hire_is_pending(ctx, &intent, &ctx.aws.iam.wait_for_user(&user.user_name).await?.tags),
        None => hire_is_pending(ctx, &intent, &Default::default()),
    };
    if pending {
        tracing::info!(user = %user.user_name, "pre-hire: credentials wait for the sweep at the activation time");
        return Ok(StorePasswordOutput::default());
    }
    let mut trail = Trail::new(ctx, &intent.hire.meta, Step::StorePassword);
    let target = UserRef { name: &user.user_name, arn: &user.user_arn, exists: user.exists };
    let mut out = provision(ctx, &mut trail, &Person::from_hire(&intent.hire), &target).await?;
    out.actions = trail.actions;
    Ok(out)
}

/// Makes the initial credentials the person's access asks for and stores them; the actions are
/// left on the trail. Also run by the sweep when a pre-hire's activation time comes.
pub(crate) async fn provision(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    person: &Person,
    user: &UserRef<'_>,
) -> Result<StorePasswordOutput, Error> {
    let mut out = StorePasswordOutput::default();
    let tags = secret_tags(&person.employee_id, user.name);

    if person.access.console {
        let name = ctx.cfg.password_secret_name(user.name);
        let existing = ctx.aws.secrets.describe(&name).await?;
        let has_profile = user.exists && ctx.aws.iam.has_login_profile(user.name).await?;
        let arn = if has_profile {
            trail.record("iam:CreateLoginProfile", user.arn, Outcome::AlreadyDone).await?;
            existing.map(|s| s.arn)
        } else if trail.dry_run() {
            trail.record("secretsmanager:CreateSecret", &name, Outcome::WouldDo).await?;
            trail.record("iam:CreateLoginProfile", user.name, Outcome::WouldDo).await?;
            existing.map(|s| s.arn)
        } else {
            let policy = ctx.aws.iam.password_policy().await?;
            let pw = password::generate(&policy)?;
            let arn =
                write_secret(ctx, trail, &name, "Initial console password", existing, &pw, &person.seed, &tags).await?;
            protect(ctx, trail, &arn, user.arn).await?;
            ctx.aws.iam.set_login_profile(user.name, &pw).await?;
            tracing::info!(user = %user.name, secret = %arn, "console access ready, reset required");
            trail.record("iam:CreateLoginProfile", user.arn, Outcome::Done).await?;
            Some(arn)
        };
        out.password_secret_arn = arn;
        out.password_secret_name = Some(name);
    }

    if person.access.programmatic {
        let name = ctx.cfg.access_key_secret_name(user.name);
        let existing = ctx.aws.secrets.describe(&name).await?;
        let keys = if user.exists { ctx.aws.iam.access_keys(user.name).await? } else { Vec::new() };
        let stored = existing
            .as_ref()
            .and_then(|s| s.tags.get(ACCESS_KEY_ID_TAG))
            .and_then(|id| keys.iter().find(|k| &k.id == id));
        let arn = if stored.is_some_and(|k| k.active) && existing.as_ref().is_some_and(|s| !s.deleted) {
            trail.record("iam:CreateAccessKey", user.arn, Outcome::AlreadyDone).await?;
            existing.map(|s| s.arn)
        } else if trail.dry_run() {
            trail.record("iam:CreateAccessKey", user.name, Outcome::WouldDo).await?;
            trail.record("secretsmanager:CreateSecret", &name, Outcome::WouldDo).await?;
            existing.map(|s| s.arn)
        } else {
            // A rehire: the key stored for the previous employment was deactivated when they
            // left. It is ours and dead: delete it rather than hold two keys.
            if let Some(old) = stored.filter(|k| !k.active) {
                ctx.aws.iam.delete_access_key(user.name, &old.id).await?;
                trail
                    .record("iam:DeleteAccessKey", &format!("{}/access-key/{}", user.arn, old.id), Outcome::Done)
                    .await?;
            }
            let (key_id, key_secret) = ctx.aws.iam.create_access_key(user.name).await?;
            trail.record("iam:CreateAccessKey", &format!("{}/access-key/{key_id}", user.arn), Outcome::Done).await?;
            let doc = Secret::new(json!({"AccessKeyId": key_id, "SecretAccessKey": key_secret.expose()}).to_string());
            let mut tags = tags.clone();
            tags.insert(ACCESS_KEY_ID_TAG.into(), key_id.clone());
            let had_secret = existing.is_some();
            let arn =
                write_secret(ctx, trail, &name, "Initial access key", existing, &doc, &person.seed, &tags).await?;
            if had_secret {
                ctx.aws.secrets.tag(&arn, &tags).await?;
            }
            protect(ctx, trail, &arn, user.arn).await?;
            tracing::info!(user = %user.name, access_key_id = %key_id, secret = %arn, "programmatic access ready");
            Some(arn)
        };
        out.access_key_secret_arn = arn;
        out.access_key_secret_name = Some(name);
    }
    Ok(out)
}

fn secret_tags(employee_id: &str, user: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (EMPLOYEE_ID.to_owned(), employee_id.to_owned()),
        ("user-name".to_owned(), user.to_owned()),
    ])
}

/// Creates the secret, or writes a new version into the one a failed earlier attempt left.
#[allow(clippy::too_many_arguments)]
async fn write_secret(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    name: &str,
    description: &str,
    existing: Option<crate::aws::secrets::SecretInfo>,
    value: &Secret,
    event_id: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, Error> {
    match existing {
        None => {
            let arn = ctx
                .aws
                .secrets
                .create(
                    name,
                    description,
                    value,
                    &request_token(event_id, name, "create"),
                    ctx.cfg.secrets.kms_key_id.as_deref(),
                    tags,
                )
                .await?;
            trail.record("secretsmanager:CreateSecret", &arn, Outcome::Done).await?;
            Ok(arn)
        }
        Some(s) => {
            if s.deleted {
                ctx.aws.secrets.restore(&s.arn).await?;
                trail.record("secretsmanager:RestoreSecret", &s.arn, Outcome::Done).await?;
            }
            // Derived from the version it replaces: deterministic for this state, new once the
            // write succeeded (so a later retry, with a new password, writes a new version).
            let purpose = format!("put-after-{}", s.current_version.as_deref().unwrap_or("none"));
            ctx.aws.secrets.put_value(&s.arn, value, &request_token(event_id, name, &purpose)).await?;
            trail.record("secretsmanager:PutSecretValue", &s.arn, Outcome::Done).await?;
            Ok(s.arn)
        }
    }
}

/// Lets the user read the secret and denies every other principal (except the configured
/// readers). The account root can still change the policy: that is the break-glass path.
async fn protect(ctx: &Ctx, trail: &mut Trail<'_>, secret_arn: &str, user_arn: &str) -> Result<(), Error> {
    let policy = resource_policy(user_arn, &ctx.cfg.secrets.readers);
    ctx.aws.secrets.put_resource_policy(secret_arn, &policy).await?;
    trail.record("secretsmanager:PutResourcePolicy", secret_arn, Outcome::Done).await
}

/// The secret's resource policy: only `user_arn` (and `readers`) may read the value.
pub fn resource_policy(user_arn: &str, readers: &[String]) -> String {
    let mut allowed = vec![user_arn.to_owned()];
    allowed.extend(readers.iter().cloned());
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnerReads",
                "Effect": "Allow",
                "Principal": {"AWS": allowed},
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": "*"
            },
            {
                "Sid": "NobodyElseReads",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": allowed}}
            }
        ]
    })
    .to_string()
}

/// A deterministic `ClientRequestToken` (64 hex characters): the SDK's own retries of the same
/// request then never create a second version.
pub fn request_token(event_id: &str, secret_name: &str, purpose: &str) -> String {
    let mut h = Sha256::new();
    for part in [event_id, secret_name, purpose] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_deterministic_and_distinct() {
        let a = request_token("e1", "p/jane/console-password", "create");
        assert_eq!(a, request_token("e1", "p/jane/console-password", "create"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, request_token("e2", "p/jane/console-password", "create"));
        assert_ne!(a, request_token("e1", "p/jane/access-key", "create"));
    }

    #[test]
    fn policy_names_only_the_owner() {
        let p: serde_json::Value =
            serde_json::from_str(&resource_policy("arn:aws:iam::1:user/e/jane", &[])).expect("json");
        assert_eq!(p["Statement"][0]["Principal"]["AWS"], json!(["arn:aws:iam::1:user/e/jane"]));
        assert_eq!(p["Statement"][1]["Effect"], "Deny");
        assert_eq!(
            p["Statement"][1]["Condition"]["StringNotEquals"]["aws:PrincipalArn"],
            json!(["arn:aws:iam::1:user/e/jane"])
        );
    }
}
