//! Test harness: the AWS emulator (moto's server, pinned, from the project venv), one fresh AWS
//! account per test, SQS inboxes subscribed to SNS topics, the emulator's request recording,
//! and log capture. Everything checks results through the AWS API with the real SDK clients.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::Credentials;
use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use shared::aws::Aws;
use shared::config::Config;
use shared::steps::{Ctx, Targets};

pub mod asl;
pub mod browser;
pub mod elf;
pub mod http;
pub mod inbox;
pub mod infra;
pub mod policy;
pub mod proxy;
pub mod runtime_api;
pub mod simulator;

pub use inbox::Inbox;

pub const REGION: &str = "us-east-1";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Cargo's target directory: as `cargo xtask test` resolved it (`ONBOARDING_TARGET_DIR`), else
/// `CARGO_TARGET_DIR`, else `./target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("ONBOARDING_TARGET_DIR")
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A scratch directory for files the tests write (configs, recordings), inside the target dir.
pub fn scratch() -> PathBuf {
    let dir = target_dir().join("test-scratch");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A binary of this workspace (built by `cargo xtask test` before the tests run).
pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join("debug").join(name);
    assert!(path.exists(), "{} is missing: run `cargo xtask test` (it builds the binaries first)", path.display());
    path
}

/// The emulator shared by all tests of this process; it stops when the process exits.
pub struct Emulator {
    pub endpoint: String,
    /// `tests/emulator.py`'s control port: what AWS does that no API call makes moto do.
    pub control: String,
    pub recording: PathBuf,
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();

/// The project's Python (the venv `cargo xtask test` makes, or `ONBOARDING_PYTHON`): it runs the
/// emulator, and its standard library reads what our exports write (e.g. `csv`).
pub fn python() -> PathBuf {
    std::env::var_os("ONBOARDING_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv").join("bin").join("python"))
}

pub fn emulator() -> &'static Emulator {
    EMULATOR.get_or_init(|| {
        let python = python();
        assert!(
            python.exists(),
            "no emulator: {} is missing; run `cargo xtask test` (it installs moto into .venv)",
            python.display()
        );
        // The recording holds request bodies (test passwords included): keep it under target/,
        // one file per run, and clear earlier runs' files.
        let dir = target_dir().join("moto-recordings");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("recording dir");
        let recording = dir.join(format!("{}.jsonl", std::process::id()));
        let mut start = Command::new(python);
        start
            .arg(root().join("tests").join("emulator.py"))
            .env("MOTO_ENABLE_RECORDING", "true")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::piped())
            .stderr(Stdio::inherit());
        let (mut child, ports, _) = spawn_announcing(&mut start, &["port=", "control="]).expect("start the emulator");
        let (port, control) = (&ports[0], &ports[1]);
        let stdin = child.stdin.take().expect("stdin");
        Emulator {
            endpoint: format!("http://127.0.0.1:{port}"),
            control: format!("127.0.0.1:{control}"),
            recording,
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }
    })
}

/// Starts `cmd` with its stdout piped and reads what it announces on its first lines: for each
/// of `prefixes` in turn, a line starting with it, whose rest is returned (`onboarding serve`
/// announces `listening on http://ADDR`; the emulator `port=N`, then `control=N`). The rest of
/// its stdout comes back to read or drain.
pub fn spawn_announcing(
    cmd: &mut Command,
    prefixes: &[&str],
) -> Result<(Child, Vec<String>, BufReader<ChildStdout>), String> {
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut values = Vec::new();
    for prefix in prefixes {
        let mut line = String::new();
        out.read_line(&mut line).map_err(|e| format!("{cmd:?}: {e}"))?;
        match line.trim().strip_prefix(prefix) {
            Some(value) => values.push(value.to_owned()),
            None => {
                let _ = child.kill();
                return Err(format!("{cmd:?} said {line:?}, not `{prefix}...`"));
            }
        }
    }
    Ok((child, values, out))
}

/// Adds moto's `x-moto-account-id` header: used only to create a test account's first
/// credentials; every later request finds its account through its access key, like on AWS.
#[derive(Debug)]
struct AccountHeader(String);

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

static NEXT_ACCOUNT: AtomicU64 = AtomicU64::new(1);

fn sdk_config(endpoint: &str, key: &str, secret: &str) -> SdkConfig {
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

/// The shipped configuration, with retry delays shortened for tests.
pub fn config() -> Config {
    let mut cfg = Config::load(&root().join("onboarding.toml")).expect("shipped config");
    cfg.retry.base_delay_ms = 5;
    cfg.retry.max_delay_ms = 50;
    cfg
}

/// A sample event from `events/`, with `detail` fields overridden.
pub fn event(file: &str, overrides: serde_json::Value) -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("events").join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("sample event is JSON");
    if let (Some(d), Some(o)) = (v["detail"].as_object_mut(), overrides.as_object()) {
        for (k, val) in o {
            d.insert(k.clone(), val.clone());
        }
    }
    v
}

fn recorded_requests(file: &Path, access_key_id: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let text = std::fs::read_to_string(file).unwrap_or_default();
    // Every line is whole (tests/emulator.py writes one at a time), but for one another test's
    // request may be writing at the end of the file right now.
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("a broken recording line: {e}"))
        })
        .filter(|r| r["headers"]["Authorization"].as_str().is_some_and(|a| a.contains(access_key_id)))
        .map(|r| {
            let raw = r["body"].as_str().unwrap_or_default();
            let body = if r["body_encoded"].as_bool() == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default()
            } else {
                raw.to_owned()
            };
            let action = form_value(&body, "Action")
                .or_else(|| r["headers"]["X-Amz-Target"].as_str().map(str::to_owned))
                .unwrap_or_default();
            (action, body)
        })
        .collect()
}

/// A value of an `application/x-www-form-urlencoded` body.
pub fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| shared::aws::percent_decode(&v.replace('+', " ")))
    })
}

/// Captured log output (everything at TRACE, the SDK's own logs included).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of this thread at TRACE level until the guard drops. Use with the
/// default (current-thread) `#[tokio::test]` runtime.
pub fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
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
fn normal(acct: &Account, started: chrono::DateTime<chrono::Utc>, value: &str) -> String {
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
