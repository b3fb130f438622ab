//! Initial credentials, stored in Secrets Manager where only their owner can read them: a
//! generated console password with a login profile that must be reset at first sign-in, and an
//! access key ([`provision`]). The `store-password` step and the sweep's activation of a
//! pre-hire issue them through here.
//!
//! Order matters for idempotency. The secret is written before the login profile, so a crash in
//! between leaves a secret and no profile, and the retry writes a fresh password to both. A login
//! profile is only ever created together with the secret that holds its password; an existing one
//! means the issue is done. This module writes secrets but never reads one.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{Person, StorePasswordOutput, UserRef};
use crate::audit::Outcome;
use crate::aws::iam::CredentialKind;
use crate::aws::secrets::SecretInfo;
use crate::context::Ctx;
use crate::error::Error;
use crate::password;
use crate::secret::Secret;
use crate::tags::{ACCESS_KEY_DELIVERED, CREDENTIALS_EXPIRED, EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE, WELCOME_SENT};
use crate::trail::Trail;

/// Tag on the access-key secret naming the key it holds.
pub const ACCESS_KEY_ID_TAG: &str = "access-key-id";
/// Tag on every initial-credential secret naming its user (the boundary lets a user read only
/// secrets tagged with their own name).
pub const USER_NAME_TAG: &str = "user-name";
/// Tag on every initial-credential secret: when its current value was issued (RFC 3339).
pub const ISSUED_AT_TAG: &str = "issued-at";

/// Whether credentials are issued for the first time (a hire, an activation) or again (a change
/// after the unused password expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Issue {
    Initial,
    Again,
}

/// Makes the initial credentials the person's access asks for and stores them; the actions are
/// left on the trail. Also run by the sweep when a pre-hire's activation time comes.
pub(crate) async fn provision(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    person: &Person,
    user: &UserRef<'_>,
    issue: Issue,
) -> Result<StorePasswordOutput, Error> {
    let mut out = StorePasswordOutput::default();
    #[cfg(feature = "identity-center")]
    if ctx.identity_center.is_some() {
        // Identity Center: the person sets their own password at the portal; nothing is issued,
        // so no secret exists anywhere.
        tracing::info!(user = %user.name, "Identity Center: no initial credential is made");
        return Ok(out);
    }
    let tags = secret_tags(&person.employee_id, user.name, ctx.now());
    if person.access.console {
        console_password(ctx, trail, person, user, issue, &tags, &mut out).await?;
    }
    if person.access.programmatic {
        access_key(ctx, trail, person, user, &tags, &mut out).await?;
    }
    Ok(out)
}

/// The console password: a login profile with a generated password, the password in its
/// secret first (or what an earlier or concurrent delivery of the event left).
async fn console_password(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    person: &Person,
    user: &UserRef<'_>,
    issue: Issue,
    tags: &BTreeMap<String, String>,
    out: &mut StorePasswordOutput,
) -> Result<(), Error> {
    let user_tags = user.tags;
    let name = ctx.cfg.password_secret_name(user.name);
    let existing = settled(ctx, &name).await?;
    check_owned(existing.as_ref(), &person.employee_id)?;
    // A user this delivery made has no password yet: a concurrent delivery's would come
    // with its secret, which `created_by_this_event` below finds.
    let has_profile = user.exists && !user.made_here && ctx.aws.iam.has_login_profile(user.name).await?;
    let withdrawn = user_tags.contains_key(CREDENTIALS_EXPIRED) && issue == Issue::Initial;
    let arn = if has_profile || withdrawn {
        if withdrawn {
            tracing::info!(user = %user.name, "the unused initial password was withdrawn; an Employee Changed re-issues it");
        }
        trail.record("iam:CreateLoginProfile", user.arn, Outcome::AlreadyDone).await?;
        existing.map(|s| s.arn)
    } else if trail.dry_run() {
        trail.record("secretsmanager:CreateSecret", &name, Outcome::WouldDo).await?;
        trail.record("iam:CreateLoginProfile", user.name, Outcome::WouldDo).await?;
        existing.map(|s| s.arn)
    } else if created_by_this_event(existing.as_ref(), &person.seed, &name)
        && login_profile_appears(ctx, user.name).await?
    {
        // A concurrent delivery of this event created the secret and has now set the login
        // profile with the password in it: writing ours would split the two.
        out.concurrent = true;
        trail.record("iam:CreateLoginProfile", user.arn, Outcome::AlreadyDone).await?;
        existing.map(|s| s.arn)
    } else {
        let policy = ctx.aws.iam.password_policy().await?;
        let pw = password::generate(&policy)?;
        let written =
            write_secret(ctx, trail, &name, "Initial console password", existing, &pw, &person.seed, tags, user.arn);
        match written.await? {
            Written::Mine(arn) => {
                ctx.aws.iam.set_login_profile(user.name, &pw).await?;
                tracing::info!(user = %user.name, secret = %arn, "console access ready, reset required");
                trail.record("iam:CreateLoginProfile", user.arn, Outcome::Done).await?;
                Some(arn)
            }
            // The winner's password is the stored one: it sets the login profile, not us.
            Written::Theirs(arn) => {
                out.concurrent = true;
                trail.record("iam:CreateLoginProfile", user.arn, Outcome::AlreadyDone).await?;
                Some(arn)
            }
        }
    };
    out.password_secret_arn = arn;
    out.password_secret_name = Some(name);
    Ok(())
}

/// The access key: created and stored in its secret (or what an earlier or concurrent delivery
/// left; a key whose secret half was never stored is deleted).
async fn access_key(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    person: &Person,
    user: &UserRef<'_>,
    tags: &BTreeMap<String, String>,
    out: &mut StorePasswordOutput,
) -> Result<(), Error> {
    let user_tags = user.tags;
    // The welcome is sent by the delivery that made the first credential (the password
    // when there is one): losing the key's race alone must not silence it, or two
    // deliveries that each won one race would both leave the welcome to the other.
    let lost_the_welcome_race = !person.access.console;
    let name = ctx.cfg.access_key_secret_name(user.name);
    let existing = settled(ctx, &name).await?;
    check_owned(existing.as_ref(), &person.employee_id)?;
    let keys = if user.exists { ctx.aws.iam.access_keys(user.name).await? } else { Vec::new() };
    // Stored: the secret holds a value (one created empty by a delivery that died holds none).
    let stored = existing
        .as_ref()
        .filter(|s| s.current_version.is_some())
        .and_then(|s| s.tags.get(ACCESS_KEY_ID_TAG))
        .and_then(|id| keys.iter().find(|k| &k.id == id));
    // The sweep deleted the secret once the key was used (or expired): the key is the
    // person's, and a resend issues no other.
    let delivered = existing.as_ref().is_none_or(|s| s.deleted)
        && user_tags.get(ACCESS_KEY_DELIVERED).is_some_and(|id| keys.iter().any(|k| &k.id == id && k.active));
    let arn = if delivered {
        trail.record("iam:CreateAccessKey", user.arn, Outcome::AlreadyDone).await?;
        None
    } else if stored.is_some_and(|k| k.active)
        && let Some(secret) = existing.as_ref().filter(|s| !s.deleted)
    {
        trail.record("iam:CreateAccessKey", user.arn, Outcome::AlreadyDone).await?;
        // A delivery that died between storing the key and protecting the secret.
        ensure_protected(ctx, trail, &secret.arn, user.arn).await?;
        Some(secret.arn.clone())
    } else if trail.dry_run() {
        trail.record("iam:CreateAccessKey", user.name, Outcome::WouldDo).await?;
        trail.record("secretsmanager:CreateSecret", &name, Outcome::WouldDo).await?;
        existing.map(|s| s.arn)
    } else {
        // A rehire: the key stored for the previous employment was deactivated when they
        // left. It is ours and dead: delete it rather than hold two keys.
        if let Some(old) = stored.filter(|k| !k.active) {
            ctx.aws.iam.delete_credential(user.name, CredentialKind::AccessKey, &old.id).await?;
            trail.record("iam:DeleteAccessKey", &format!("{}/access-key/{}", user.arn, old.id), Outcome::Done).await?;
        }
        // A delivery that died between CreateAccessKey and storing the key left a key nobody
        // holds (its secret half died with that process). Until the welcome, only this
        // system makes keys for the user, so an active key that is not the stored one is
        // such an orphan, unless a delivery still running stores it within the retry bounds.
        let unstored: Vec<&str> =
            keys.iter().filter(|k| k.active && stored.is_none_or(|s| s.id != k.id)).map(|k| k.id.as_str()).collect();
        if !unstored.is_empty() && !user_tags.contains_key(WELCOME_SENT) {
            if let Some(arn) = stored_by_another_delivery(ctx, &name, &unstored).await? {
                out.concurrent |= lost_the_welcome_race;
                trail.record("iam:CreateAccessKey", user.arn, Outcome::AlreadyDone).await?;
                out.access_key_secret_arn = Some(arn);
                out.access_key_secret_name = Some(name);
                return Ok(());
            }
            for id in unstored {
                tracing::warn!(user = %user.name, access_key_id = id, "deleting an access key whose secret half was never stored");
                let target = format!("{}/access-key/{id} (never stored)", user.arn);
                let delete = ctx.aws.iam.delete_credential(user.name, CredentialKind::AccessKey, id);
                trail.apply("iam:DeleteAccessKey", &target, delete).await?;
            }
        }
        let Some((key_id, key_secret)) = create_key_unless_theirs(ctx, user.name, &name, &person.employee_id).await?
        else {
            // Concurrent deliveries filled the user's two key slots; one stored its key.
            out.concurrent |= lost_the_welcome_race;
            trail.record("iam:CreateAccessKey", user.arn, Outcome::AlreadyDone).await?;
            out.access_key_secret_arn = ctx.aws.secrets.describe(&name).await?.map(|s| s.arn);
            out.access_key_secret_name = Some(name);
            return Ok(());
        };
        trail.record("iam:CreateAccessKey", &format!("{}/access-key/{key_id}", user.arn), Outcome::Done).await?;
        let doc = access_key_document(&key_id, &key_secret);
        let mut tags = tags.clone();
        tags.insert(ACCESS_KEY_ID_TAG.into(), key_id.clone());
        let written =
            write_secret(ctx, trail, &name, "Initial access key", existing, &doc, &person.seed, &tags, user.arn);
        match written.await? {
            Written::Mine(arn) => {
                tracing::info!(user = %user.name, access_key_id = %key_id, secret = %arn, "programmatic access ready");
                Some(arn)
            }
            // The winner stored its key; ours can never be stored (its secret half is gone
            // with this process): delete it rather than leave a key nobody holds.
            Written::Theirs(arn) => {
                out.concurrent |= lost_the_welcome_race;
                let target = format!("{}/access-key/{key_id}", user.arn);
                trail
                    .apply(
                        "iam:DeleteAccessKey",
                        &target,
                        ctx.aws.iam.delete_credential(user.name, CredentialKind::AccessKey, &key_id),
                    )
                    .await?;
                Some(arn)
            }
        }
    };
    out.access_key_secret_arn = arn;
    out.access_key_secret_name = Some(name);
    Ok(())
}

/// Whether the secret's current value was written by this event's own create (its version id is
/// the create's deterministic `ClientRequestToken`): a delivery of this event made it, now or
/// before it crashed.
fn created_by_this_event(existing: Option<&SecretInfo>, seed: &str, name: &str) -> bool {
    existing.is_some_and(|s| s.current_version.as_deref() == Some(request_token(seed, name, "create").as_str()))
}

/// Waits, within the retry bounds, for the login profile a concurrent delivery is setting;
/// `false` when none appears (that delivery died: recover by writing a fresh password to both).
async fn login_profile_appears(ctx: &Ctx, user: &str) -> Result<bool, Error> {
    let policy = ctx.cfg.retry_policy();
    for attempt in 0..policy.max_attempts {
        if ctx.aws.iam.has_login_profile(user).await? {
            return Ok(true);
        }
        tokio::time::sleep(policy.delay(attempt)).await;
    }
    Ok(false)
}

/// Waits, within the retry bounds, for a delivery still running to store one of the `keys` in
/// the secret `name`; its ARN once one has, `None` when none does (those deliveries died).
async fn stored_by_another_delivery(ctx: &Ctx, name: &str, keys: &[&str]) -> Result<Option<String>, Error> {
    let policy = ctx.cfg.retry_policy();
    for attempt in 0..policy.max_attempts {
        tokio::time::sleep(policy.delay(attempt)).await;
        let secret = ctx.aws.secrets.describe(name).await?.filter(|s| !s.deleted && s.current_version.is_some());
        if let Some(s) = secret.filter(|s| s.tags.get(ACCESS_KEY_ID_TAG).is_some_and(|id| keys.contains(&id.as_str())))
        {
            tracing::info!(secret = %s.arn, "another delivery of this event stored the access key");
            return Ok(Some(s.arn));
        }
    }
    Ok(None)
}

/// Creates an access key, unless concurrent deliveries of the same event hold the user's two
/// key slots (`LimitExceeded`): then waits (within the retry bounds) for one of them to store
/// its key, and returns `None` once it has (the person's key is that one). Still full after the
/// bounds: the `LimitExceeded` error (a person who made two keys of their own).
async fn create_key_unless_theirs(
    ctx: &Ctx,
    user: &str,
    secret_name: &str,
    employee_id: &str,
) -> Result<Option<(String, Secret)>, Error> {
    let policy = ctx.cfg.retry_policy();
    let mut attempt = 0;
    loop {
        match ctx.aws.iam.create_access_key(user).await {
            Ok(key) => return Ok(Some(key)),
            Err(e) if e.aws_code() == Some("LimitExceeded") && attempt + 1 < policy.max_attempts => {
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
                let stored =
                    ctx.aws.secrets.describe(secret_name).await?.filter(|s| !s.deleted && s.current_version.is_some());
                if stored.is_some() {
                    check_owned(stored.as_ref(), employee_id)?;
                    tracing::info!(user, "another delivery of this event stored the access key");
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// `{"AccessKeyId": ..., "SecretAccessKey": ...}`, written straight into one buffer that the
/// `Secret` owns (no intermediate JSON value holding a copy).
fn access_key_document(key_id: &str, key_secret: &Secret) -> Secret {
    let id = serde_json::Value::from(key_id).to_string();
    let secret = key_secret.expose();
    let mut doc = String::with_capacity(40 + id.len() + 2 * secret.len());
    doc.push_str("{\"AccessKeyId\":");
    doc.push_str(&id);
    doc.push_str(",\"SecretAccessKey\":\"");
    for c in secret.chars() {
        // AWS secret keys are base64 text; escape anyway so the document is always JSON.
        match c {
            '"' => doc.push_str("\\\""),
            '\\' => doc.push_str("\\\\"),
            c => doc.push(c),
        }
    }
    doc.push_str("\"}");
    Secret::new(doc)
}

/// The secret's tags: whose it is (the boundary and the sweep read `user-name`) and when the
/// credential in it was issued, on the context's clock (the sweep's TTL counts from it).
fn secret_tags(employee_id: &str, user: &str, issued: chrono::DateTime<chrono::Utc>) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (EMPLOYEE_ID.to_owned(), employee_id.to_owned()),
        (USER_NAME_TAG.to_owned(), user.to_owned()),
        (ISSUED_AT_TAG.to_owned(), crate::lifecycle::stamp(issued)),
    ])
}

/// Who wrote the secret's value.
enum Written {
    /// This run: the value in it is the one this run made.
    Mine(String),
    /// Another delivery of the same event, at the same moment (`ResourceExistsException` on the
    /// create): the value in it is theirs.
    Theirs(String),
}

/// Creates the secret, or writes a new version into the one a failed earlier attempt left, and
/// protects it ([`protect`]) before anyone but this system can read the value: under this
/// system's key (whose policy lets only the person decrypt) the value comes with the create;
/// under the account's default key, which every principal allowed `GetSecretValue` may use, the
/// secret is created empty, protected, and only then given its value.
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
    user_arn: &str,
) -> Result<Written, Error> {
    match existing {
        None => {
            let token = request_token(event_id, name, "create");
            let kms = ctx.cfg.secrets.kms_key_id.as_deref();
            let first = kms.map(|_| value);
            match ctx.aws.secrets.create(name, description, first, &token, kms, tags).await {
                Ok(arn) => {
                    trail.record("secretsmanager:CreateSecret", &arn, Outcome::Done).await?;
                    protect(ctx, trail, &arn, user_arn).await?;
                    if first.is_none() {
                        // The create's token: the version says this event's create wrote it.
                        ctx.aws.secrets.put_value(&arn, value, &token).await?;
                        trail.record("secretsmanager:PutSecretValue", &arn, Outcome::Done).await?;
                    }
                    Ok(Written::Mine(arn))
                }
                Err(e) if e.aws_code() == Some("ResourceExistsException") => {
                    // Someone made it between our look and our create: ours only if it is this
                    // system's for this person (checked as any existing secret is).
                    let found = ctx.aws.secrets.describe(name).await?;
                    check_owned(found.as_ref(), tags.get(EMPLOYEE_ID).map(String::as_str).unwrap_or_default())?;
                    let arn = found.map(|s| s.arn).ok_or(e)?;
                    tracing::info!(secret = %arn, "another delivery of this event created the secret first");
                    trail.record("secretsmanager:CreateSecret", &arn, Outcome::AlreadyDone).await?;
                    Ok(Written::Theirs(arn))
                }
                Err(e) => Err(e),
            }
        }
        Some(s) => {
            if s.deleted {
                ctx.aws.secrets.restore(&s.arn).await?;
                trail.record("secretsmanager:RestoreSecret", &s.arn, Outcome::Done).await?;
            }
            protect(ctx, trail, &s.arn, user_arn).await?;
            // Derived from the version it replaces: deterministic for this state, new once the
            // write succeeded (so a later retry, with a new password, writes a new version).
            let purpose = format!("put-after-{}", s.current_version.as_deref().unwrap_or("none"));
            ctx.aws.secrets.put_value(&s.arn, value, &request_token(event_id, name, &purpose)).await?;
            trail.record("secretsmanager:PutSecretValue", &s.arn, Outcome::Done).await?;
            // A new credential: a new issue time (and, for a key, its id).
            ctx.aws.secrets.tag(&s.arn, tags).await?;
            Ok(Written::Mine(s.arn))
        }
    }
}

/// The secret `name` as it is once a delivery still writing it is done: one created empty
/// (under the default key, [`write_secret`]) gets its value within moments, so an empty one is
/// read again within the retry bounds; still empty then, its writer died (and this delivery
/// writes it).
async fn settled(ctx: &Ctx, name: &str) -> Result<Option<SecretInfo>, Error> {
    let policy = ctx.cfg.retry_policy();
    let mut secret = ctx.aws.secrets.describe(name).await?;
    for attempt in 0..policy.max_attempts {
        if ctx.dry_run || !secret.as_ref().is_some_and(|s| s.current_version.is_none() && !s.deleted) {
            break;
        }
        tokio::time::sleep(policy.delay(attempt)).await;
        secret = ctx.aws.secrets.describe(name).await?;
    }
    Ok(secret)
}

/// Lets the person read the secret and nobody else; only this system may manage it
/// ([`crate::policies::secret_policy`]).
async fn protect(ctx: &Ctx, trail: &mut Trail<'_>, secret_arn: &str, user_arn: &str) -> Result<(), Error> {
    let s = &ctx.cfg.secrets;
    let policy = crate::policies::secret_policy(user_arn, &s.readers, &s.writers).to_string();
    ctx.aws.secrets.put_resource_policy(secret_arn, &policy).await?;
    trail.record("secretsmanager:PutResourcePolicy", secret_arn, Outcome::Done).await
}

/// Protects the secret unless its resource policy already is the one [`protect`] writes.
async fn ensure_protected(ctx: &Ctx, trail: &mut Trail<'_>, secret_arn: &str, user_arn: &str) -> Result<(), Error> {
    let s = &ctx.cfg.secrets;
    let want = crate::policies::secret_policy(user_arn, &s.readers, &s.writers);
    let has = ctx.aws.secrets.resource_policy(secret_arn).await?;
    if has.and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok()).as_ref() == Some(&want) {
        return Ok(());
    }
    if trail.dry_run() {
        return trail.record("secretsmanager:PutResourcePolicy", secret_arn, Outcome::WouldDo).await;
    }
    protect(ctx, trail, secret_arn, user_arn).await
}

/// An existing secret at the expected name is used only if this system made it for this
/// person: its tags must say so. Anything else (made by hand, or for someone else who had the
/// name) is refused: writing the person's credentials into it would hand them to its owner.
fn check_owned(existing: Option<&SecretInfo>, employee_id: &str) -> Result<(), Error> {
    let Some(s) = existing else { return Ok(()) };
    let managed = s.tags.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE);
    let theirs = s.tags.get(EMPLOYEE_ID).map(String::as_str) == Some(employee_id);
    if managed && theirs {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "secret `{}` exists but was not made by this system for employee `{employee_id}` (its tags {}); \
         delete or rename it, then resend the event",
        s.arn,
        if managed { "name another employee" } else { "lack `managed-by`" }
    )))
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
    use serde_json::json;

    #[test]
    fn tokens_are_deterministic_and_distinct() {
        let a = request_token("e1", "p/jane/console-password", "create");
        assert_eq!(a, request_token("e1", "p/jane/console-password", "create"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, request_token("e2", "p/jane/console-password", "create"));
        assert_ne!(a, request_token("e1", "p/jane/access-key", "create"));
    }

    #[test]
    fn the_access_key_document_is_json_with_both_halves() {
        let doc = access_key_document("AKIAEXAMPLE", &Secret::new("ab/c+d\"e".into()));
        let v: serde_json::Value = serde_json::from_str(doc.expose()).expect("json");
        assert_eq!(v, json!({"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "ab/c+d\"e"}));
    }

    #[test]
    fn a_secret_not_made_for_this_person_is_refused() {
        let info = |tags: &[(&str, &str)]| SecretInfo {
            arn: "arn:aws:secretsmanager:us-east-1:1:secret:p/jane/console-password-AbCdEf".into(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            deleted: false,
            current_version: None,
        };
        assert!(check_owned(None, "E1").is_ok());
        assert!(check_owned(Some(&info(&[(MANAGED_BY, MANAGED_BY_VALUE), (EMPLOYEE_ID, "E1")])), "E1").is_ok());
        let other = check_owned(Some(&info(&[(MANAGED_BY, MANAGED_BY_VALUE), (EMPLOYEE_ID, "E2")])), "E1");
        assert!(other.expect_err("other person").to_string().contains("another employee"));
        let by_hand = check_owned(Some(&info(&[])), "E1");
        assert!(by_hand.expect_err("unmanaged").to_string().contains("managed-by"));
    }
}
