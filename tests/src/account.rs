//! One fresh AWS account per test in the emulator, and reading back what it holds.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::Credentials;
use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use shared::aws::Aws;
use shared::config::Config;
use shared::steps::{Ctx, Targets};

use crate::*;

/// Adds moto's `x-moto-account-id` header: used only to create a test account's first
/// credentials; every later request finds its account through its access key, like on AWS.
#[derive(Debug)]
pub(crate) struct AccountHeader(String);

impl Intercept for AccountHeader {
    fn name(&self) -> &'static str {
        "AccountHeader"
    }

    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        ctx.request_mut().headers_mut().insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

/// A fresh, empty AWS account in the emulator, with its own credentials: tests run in
/// parallel without seeing each other's users, topics or secrets.
#[derive(Clone)]
pub struct Account {
    pub id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub sdk: SdkConfig,
}

pub(crate) static NEXT_ACCOUNT: AtomicU64 = AtomicU64::new(1);

pub(crate) fn sdk_config(endpoint: &str, key: &str, secret: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(Credentials::new(
            key, secret, None, None, "test",
        )))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
        .build()
}

impl Account {
    pub async fn new() -> Self {
        let emu = emulator();
        let n = NEXT_ACCOUNT.fetch_add(1, Ordering::SeqCst);
        let id = format!("{:012}", 200_000_000_000u64 + (u64::from(std::process::id()) % 10_000) * 10_000 + n);
        let bootstrap = sdk_config(&emu.endpoint, "bootstrap", "bootstrap");
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&bootstrap).interceptor(AccountHeader(id.clone())).build(),
        );
        iam.create_user().user_name("test-admin").send().await.expect("create test admin");
        let key = iam.create_access_key().user_name("test-admin").send().await.expect("create test key");
        let key = key.access_key().expect("key");
        let (access_key_id, secret_access_key) = (key.access_key_id().to_owned(), key.secret_access_key().to_owned());
        let sdk = sdk_config(&emu.endpoint, &access_key_id, &secret_access_key);
        Self { id, access_key_id, secret_access_key, sdk }
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk)
    }

    pub fn identity_store(&self) -> aws_sdk_identitystore::Client {
        aws_sdk_identitystore::Client::new(&self.sdk)
    }

    pub fn sso_admin(&self) -> aws_sdk_ssoadmin::Client {
        aws_sdk_ssoadmin::Client::new(&self.sdk)
    }

    pub fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    /// Environment for a spawned binary (CLI or Lambda) to reach this account.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", emulator().endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", self.access_key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_access_key.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// `command` with this account's environment (and no inherited AWS settings).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        for k in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"] {
            c.env_remove(k);
        }
        c.envs(self.env()).current_dir(root());
        c
    }

    /// Bootstraps the account for `cfg` (as `onboarding bootstrap` does) and returns the
    /// context the steps run with, plus inboxes on both topics.
    pub async fn ready(&self, cfg: Config) -> (Ctx, Inboxes) {
        let aws = Aws::new(&self.sdk, cfg.retry_policy());
        onboarding::bootstrap::bootstrap(&cfg, &aws).await.expect("bootstrap");
        let targets = Targets::resolve(&cfg, &aws).await.expect("targets");
        let inboxes = Inboxes {
            audit: Inbox::subscribe(&self.sdk, &targets.audit_topic_arn, "audit").await,
            notifications: Inbox::subscribe(&self.sdk, &targets.notifications_topic_arn, "notifications").await,
        };
        (Ctx::new(cfg, aws, targets), inboxes)
    }

    /// A secret's current value (by name or ARN), read back through the API.
    pub async fn secret_value(&self, id: &str) -> String {
        let out = self.secrets().get_secret_value().secret_id(id).send().await;
        out.unwrap_or_else(|e| panic!("GetSecretValue {id}: {e}")).secret_string().expect("a string secret").to_owned()
    }

    /// A stored access key (`AccessKeyId`, `SecretAccessKey`), by the secret's name or ARN.
    pub async fn access_key_document(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.secret_value(id).await).expect("the access-key secret is JSON")
    }

    /// The user's one access key's id, after checking it is the one stored in the person's
    /// access-key secret (the key the person can read is the key IAM has).
    pub async fn the_stored_access_key(&self, user: &str) -> String {
        let keys = self.iam().list_access_keys().user_name(user).send().await.expect("ListAccessKeys");
        let ids: Vec<&str> = keys.access_key_metadata().iter().filter_map(|k| k.access_key_id()).collect();
        assert_eq!(ids.len(), 1, "one access key for {user}: {ids:?}");
        let doc = self.access_key_document(&format!("employee-lifecycle/{user}/access-key")).await;
        assert_eq!(doc["AccessKeyId"], ids[0], "the key the person has is the stored one");
        ids[0].to_owned()
    }

    /// The deployed intake's world in this account, as the stack makes it: a signing secret
    /// `hr/{table}-signing` holding `secret`, the dedupe table `table`, the bus `bus`. Returns the
    /// secret's ARN.
    pub async fn intake_world(&self, secret: &str, table: &str, bus: &str) -> String {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let created = self
            .secrets()
            .create_secret()
            .name(format!("employee-lifecycle-intake/{table}"))
            .secret_string(secret)
            .send();
        let arn = created.await.expect("signing secret").arn().expect("arn").to_owned();
        let key = |k: KeyType| KeySchemaElement::builder().attribute_name("webhookKey").key_type(k).build();
        let attribute =
            AttributeDefinition::builder().attribute_name("webhookKey").attribute_type(ScalarAttributeType::S).build();
        aws_sdk_dynamodb::Client::new(&self.sdk)
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute.expect("attribute"))
            .key_schema(key(KeyType::Hash).expect("key"))
            .send()
            .await
            .expect("dedupe table");
        aws_sdk_eventbridge::Client::new(&self.sdk).create_event_bus().name(bus).send().await.expect("bus");
        arn
    }

    /// Records a console sign-in of `user` now, as AWS does when the person signs in (sets
    /// `PasswordLastUsed`; the emulator has no sign-in, so `tests/emulator.py` does it).
    pub fn sign_in(&self, user: &str) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&emulator().control).expect("emulator control port");
        let request = format!(
            "POST /sign-in?account={}&user={user} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.id
        );
        s.write_all(request.as_bytes()).expect("sign-in request");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("sign-in answer");
        assert!(answer.starts_with("HTTP/1.0 204") || answer.starts_with("HTTP/1.1 204"), "{answer}");
    }

    /// The requests this account sent to the emulator (from its recording), as
    /// `(action or path, decoded body)` pairs.
    pub fn recorded(&self) -> Vec<(String, String)> {
        recorded_requests(&emulator().recording, &self.access_key_id)
    }
}

/// Inboxes subscribed to the audit and notifications topics.
pub struct Inboxes {
    pub audit: Inbox,
    pub notifications: Inbox,
}

/// The user's tags, through the API.
pub async fn user_tags(acct: &Account, user: &str) -> BTreeMap<String, String> {
    let out = acct.iam().list_user_tags().user_name(user).send().await.expect("ListUserTags");
    out.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

/// The user's groups, through the API.
pub async fn user_groups(acct: &Account, user: &str) -> Vec<String> {
    let out = acct.iam().list_groups_for_user().user_name(user).send().await.expect("ListGroupsForUser");
    let mut g: Vec<String> = out.groups().iter().map(|g| g.group_name().to_owned()).collect();
    g.sort();
    g
}

/// Names of all users in the account.
pub async fn user_names(acct: &Account) -> Vec<String> {
    let out = acct.iam().list_users().send().await.expect("ListUsers");
    let mut names: Vec<String> =
        out.users().iter().map(|u| u.user_name().to_owned()).filter(|n| n != "test-admin").collect();
    names.sort();
    names
}

/// What the account holds, as text to compare: users (path, tags, groups, console access and
/// whether its password is the stored one, keys and whether each active one is stored),
/// secrets (tags, policy, scheduled deletion). Run-dependent values are normalised: the
/// account id, and times of this run (as whole days from `started`).
pub async fn snapshot(acct: &Account, started: chrono::DateTime<chrono::Utc>) -> String {
    let normal = |v: &str| normal(acct, started, v);
    let (iam, sm) = (acct.iam(), acct.secrets());
    let mut lines = Vec::new();
    let recorded = acct.recorded();
    for user in user_names(acct).await {
        let u = iam.get_user().user_name(&user).send().await.expect("GetUser");
        lines.push(format!("user {user} path {}", u.user().map(|u| u.path()).unwrap_or_default()));
        for (k, v) in user_tags(acct, &user).await {
            lines.push(format!("  tag {k} = {}", normal(&v)));
        }
        lines.push(format!("  groups {:?}", user_groups(acct, &user).await));
        if iam.get_login_profile().user_name(&user).send().await.is_ok() {
            // The password the login profile was last given (the emulator cannot tell it).
            let given = recorded
                .iter()
                .filter(|(a, b)| {
                    (a == "CreateLoginProfile" || a == "UpdateLoginProfile")
                        && form_value(b, "UserName").as_deref() == Some(user.as_str())
                })
                .filter_map(|(_, b)| form_value(b, "Password"))
                .next_back();
            let stored = acct.secret_value(&format!("employee-lifecycle/{user}/console-password")).await;
            lines.push(format!("  console password is the stored one: {}", given.as_deref() == Some(&*stored)));
        }
        let keys = iam.list_access_keys().user_name(&user).send().await.expect("keys");
        for k in keys.access_key_metadata() {
            let status = k.status().map(|s| s.as_str().to_owned()).unwrap_or_default();
            let stored = if status == "Active" {
                let doc = acct.access_key_document(&format!("employee-lifecycle/{user}/access-key")).await;
                (doc["AccessKeyId"].as_str() == k.access_key_id()).to_string()
            } else {
                "-".into()
            };
            lines.push(format!("  access key {status}, stored: {stored}"));
        }
    }
    let secrets = sm.list_secrets().include_planned_deletion(true).send().await.expect("ListSecrets");
    let mut secrets: Vec<_> = secrets.secret_list().to_vec();
    secrets.sort_by_key(|s| s.name().map(str::to_owned));
    for s in secrets {
        let name = s.name().unwrap_or_default();
        lines.push(format!("secret {name} deleted: {}", s.deleted_date().is_some()));
        let tags: BTreeMap<&str, &str> = s.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
        for (k, v) in tags {
            lines.push(format!("  tag {k} = {}", normal(v)));
        }
        let policy = sm.get_resource_policy().secret_id(name).send().await.expect("GetResourcePolicy");
        let policy =
            policy.resource_policy().map(|p| serde_json::from_str::<serde_json::Value>(p).expect("policy JSON"));
        lines.push(format!("  policy {}", normal(&policy.map(|p| p.to_string()).unwrap_or_default())));
    }
    lines.join("\n")
}

/// `value` with the account id, and times of this run, made comparable across runs.
pub(crate) fn normal(acct: &Account, started: chrono::DateTime<chrono::Utc>, value: &str) -> String {
    let value = value.replace(&acct.id, "<account>");
    if value.starts_with("AKIA") {
        return "<access key id>".into();
    }
    match value.parse::<chrono::DateTime<chrono::Utc>>() {
        Ok(t) if t >= started - chrono::Duration::minutes(1) => {
            format!("<run start + {} days>", ((t - started).num_seconds() as f64 / 86_400.0).round())
        }
        _ => value,
    }
}
