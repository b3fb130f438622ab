//! Crashes at any moment: the CLI is killed (SIGKILL) right after the emulator carried out its
//! Nth AWS call, for N across a whole batch of hires, a change and a departure; the same input
//! is then run again, and the account must end exactly as after a run that never crashed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tests::proxy::CallProxy;
use tests::{Account, Inbox, binary, emulator, event, scratch};

/// The batch: two hires (one with an access key), a transfer of one of them, and the immediate
/// departure of a person hired (with a key) before the batch.
const BATCH: [(&str, &str); 4] = [
    ("hire-engineering.json", "{}"),
    ("hire-finance-programmatic.json", "{}"),
    ("change-transfer.json", "{}"),
    ("depart-immediate.json", "{}"),
];

/// An account ready for the batch, with the CLI's traffic going through a counting proxy.
struct Scenario {
    acct: Account,
    proxy: CallProxy,
    notifications: Inbox,
    audit: Inbox,
    config: PathBuf,
    batch: Vec<PathBuf>,
    started: DateTime<Utc>,
}

impl Scenario {
    async fn new(label: &str) -> Self {
        let acct = Account::new().await;
        let (_ctx, inboxes) = acct.ready(tests::config()).await;
        let dir = scratch().join(format!("crash-{}-{label}", acct.id));
        std::fs::create_dir_all(&dir).expect("scenario dir");
        let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("shipped config");
        let config = dir.join("onboarding.toml");
        // The shipped retry delays, shortened (a rerun waits them out for a delivery that died).
        assert!(shipped.contains("base_delay_ms = 200\nmax_delay_ms = 5000"), "the shipped [retry] changed");
        let fast = shipped.replace("base_delay_ms = 200\nmax_delay_ms = 5000", "base_delay_ms = 5\nmax_delay_ms = 20");
        std::fs::write(&config, fast).expect("config");
        let write = |file: &str, overrides: &str| {
            let path = dir.join(file);
            let v = event(file, serde_json::from_str(overrides).expect("overrides"));
            std::fs::write(&path, v.to_string()).expect("event file");
            path
        };
        let leaver = write("hire-unmapped-department.json", r#"{"access": {"console": true, "programmatic": true}}"#);
        let batch = BATCH.iter().map(|(f, o)| write(f, o)).collect();
        let s = Self {
            proxy: CallProxy::start(&emulator().endpoint),
            acct,
            notifications: inboxes.notifications,
            audit: inboxes.audit,
            config,
            batch,
            started: Utc::now(),
        };
        let setup = s.run(&[leaver], false).await;
        assert!(setup.status.success(), "setup hire: {}", String::from_utf8_lossy(&setup.stderr));
        s.notifications.drain().await;
        s.audit.drain().await;
        s
    }

    /// Runs the CLI on `events`, through the proxy when `proxied`.
    async fn run(&self, events: &[PathBuf], proxied: bool) -> Output {
        let mut cmd = self.acct.command(binary("onboarding"));
        if proxied {
            cmd.env("AWS_ENDPOINT_URL", &self.proxy.endpoint);
        }
        // One person at a time: "killed after call N" must name the same call in every run.
        cmd.arg("--config").arg(&self.config).args(["--concurrency", "1", "run", "--format", "json"]).args(events);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().expect("spawn onboarding");
        self.proxy.victim(child.id());
        tokio::task::spawn_blocking(move || child.wait_with_output().expect("onboarding output")).await.expect("join")
    }

    /// The batch, uninterrupted; returns the calls it made.
    async fn run_batch(&self) -> Vec<String> {
        self.proxy.take_calls();
        let out = self.run(&self.batch, true).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        self.proxy.take_calls()
    }

    /// The batch, killed right after call `n`; then again, to the end.
    async fn crash_then_rerun(&self, n: usize) -> Output {
        self.proxy.kill_after(n);
        let crashed = self.run(&self.batch, true).await;
        assert!(self.proxy.killed(), "call {n} never came: {}", String::from_utf8_lossy(&crashed.stderr));
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&crashed.status), Some(9));
        self.proxy.take_calls();
        self.run(&self.batch, false).await
    }

    async fn snapshot(&self) -> String {
        tests::snapshot(&self.acct, self.started).await
    }

    /// How many messages of each kind went to each recipient.
    async fn messages(&self) -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for m in self.notifications.drain().await {
            let key = (m.attributes["recipient"].clone(), m.attributes["event-type"].clone());
            *counts.entry(key).or_default() += 1;
        }
        counts
    }
}

/// The calls worth dying after: every call that changes something (a read changes nothing, so
/// dying after it equals dying before the next change).
fn changes(calls: &[String]) -> Vec<usize> {
    let read = |a: &str| {
        let name = a.split(':').nth(1).unwrap_or_default();
        ["Get", "List", "Describe", "Query", "Scan", "Receive"].iter().any(|p| name.starts_with(p))
    };
    calls.iter().enumerate().filter(|(_, a)| !read(a)).map(|(i, _)| i + 1).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_after_any_call_then_a_rerun_ends_as_an_uninterrupted_run() {
    let reference = Scenario::new("reference").await;
    let calls = reference.run_batch().await;
    let want = reference.snapshot().await;
    let want_messages = reference.messages().await;
    assert!(want.contains("access key Active, stored: true"), "{want}");
    assert!(want.contains("console password is the stored one: true"), "{want}");
    assert!(!want.contains("stored: false") && !want.contains("stored one: false"), "{want}");

    let points = changes(&calls);
    eprintln!("{} calls, {} of them changes: killing after each change", calls.len(), points.len());
    let failures = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let limit = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = Vec::new();
    for n in points.clone() {
        let (want, want_messages, calls) = (want.clone(), want_messages.clone(), calls.clone());
        let (failures, limit) = (Arc::clone(&failures), Arc::clone(&limit));
        tasks.push(tokio::spawn(async move {
            let _slot = limit.acquire().await.expect("semaphore");
            let s = Scenario::new(&n.to_string()).await;
            let rerun = s.crash_then_rerun(n).await;
            let at = format!("killed after call {n} ({})", calls[n - 1]);
            let mut wrong = Vec::new();
            if !rerun.status.success() {
                wrong.push(format!("{at}: the rerun failed: {}", String::from_utf8_lossy(&rerun.stdout)));
            }
            let got = s.snapshot().await;
            if got != want {
                wrong.push(format!("{at}: the account differs\n--- uninterrupted\n{want}\n--- after the crash\n{got}"));
            }
            let got_messages = s.messages().await;
            for (to, kind) in got_messages.keys().chain(want_messages.keys()) {
                let count = got_messages.get(&(to.clone(), kind.clone())).copied().unwrap_or(0);
                let expected = want_messages.get(&(to.clone(), kind.clone())).copied().unwrap_or(0);
                // At-least-once (welcome, access-ended): a crash between the publish and its
                // marker sends one more. At-most-once (access-changed): never more.
                let most = if kind == "access-changed" { expected } else { expected + 1 };
                if count > most || count == 0 && kind == "welcome" {
                    wrong.push(format!("{at}: {count} {kind} messages to {to} (uninterrupted: {expected})"));
                }
            }
            failures.lock().await.extend(wrong);
        }));
    }
    for t in tasks {
        t.await.expect("a crash scenario panicked");
    }
    let failures = failures.lock().await;
    assert!(
        failures.is_empty(),
        "{} of {} crash points went wrong:\n{}",
        failures.len(),
        points.len(),
        failures.join("\n")
    );
}

/// The case the crash test found first: a delivery dies between `CreateAccessKey` and storing
/// the key. The rerun deletes the key nobody holds (its secret half died with the process),
/// says so in the audit trail, and issues one key that is stored.
#[tokio::test]
async fn an_access_key_whose_secret_was_never_stored_is_deleted_and_replaced() {
    let s = Scenario::new("orphan").await;
    let hire = vec![s.batch[1].clone()];
    s.proxy.take_calls();
    let _ = s.run(&hire, true).await;
    let calls = s.proxy.take_calls();
    let n = calls.iter().position(|c| c == "iam:CreateAccessKey").expect("the hire creates a key") + 1;

    let s = Scenario::new("orphan-crash").await;
    s.proxy.kill_after(n);
    let crashed = s.run(&hire, true).await;
    assert!(s.proxy.killed(), "{}", String::from_utf8_lossy(&crashed.stderr));
    let user = "zoe.obrien-nunez";
    let keys = s.acct.iam().list_access_keys().user_name(user).send().await.expect("keys");
    let orphan = keys.access_key_metadata()[0].access_key_id().expect("id").to_owned();
    s.audit.drain().await;

    let rerun = s.run(&hire, false).await;
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stdout));
    assert_ne!(s.acct.the_stored_access_key(user).await, orphan, "the orphan went");
    let records: Vec<Value> = s.audit.drain().await.iter().map(|m| m.json()).collect();
    let said = records.iter().any(|r| {
        r["action"] == "iam:DeleteAccessKey"
            && r["outcome"] == "done"
            && r["target"].as_str().is_some_and(|t| t.ends_with(&format!("/access-key/{orphan} (never stored)")))
    });
    assert!(said, "the audit trail names the deleted orphan: {records:#?}");
}

/// Under the account's default key (the shipped config names no KMS key of this system's), a
/// secret's value never exists before its resource policy: killed right after `CreateSecret`
/// the secret holds no value at all, killed right after `PutResourcePolicy` it holds none yet and
/// is protected; the rerun stores the credential, which is the one IAM has.
#[tokio::test]
async fn no_credential_is_readable_before_its_secret_is_protected() {
    let s = Scenario::new("protect-first").await;
    let hire = vec![s.batch[1].clone()];
    s.proxy.take_calls();
    let _ = s.run(&hire, true).await;
    let calls = s.proxy.take_calls();
    let first =
        |action: &str| calls.iter().position(|c| c == action).unwrap_or_else(|| panic!("no {action}: {calls:?}"));
    let (created, protected) = (first("secretsmanager:CreateSecret"), first("secretsmanager:PutResourcePolicy"));
    assert!(created < protected, "{calls:?}");
    for (n, label) in [(created + 1, "create"), (protected + 1, "protect")] {
        let s = Scenario::new(&format!("protect-first-{label}")).await;
        s.proxy.kill_after(n);
        let crashed = s.run(&hire, true).await;
        assert!(s.proxy.killed(), "{}", String::from_utf8_lossy(&crashed.stderr));
        let secrets = s.acct.secrets();
        let listed = secrets.list_secrets().send().await.expect("ListSecrets");
        let left: Vec<&str> = listed
            .secret_list()
            .iter()
            .filter_map(|x| x.name())
            .filter(|n| n.starts_with("employee-lifecycle/zoe.obrien-nunez/"))
            .collect();
        assert_eq!(left.len(), 1, "killed after the {label}: {left:?}");
        let value = secrets.get_secret_value().secret_id(left[0]).send().await;
        assert!(value.is_err(), "killed after the {label}, the secret already holds a value");
        let policy = secrets.get_resource_policy().secret_id(left[0]).send().await.expect("GetResourcePolicy");
        assert_eq!(policy.resource_policy().is_some(), label == "protect", "{policy:?}");
        let rerun = s.run(&hire, false).await;
        assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stdout));
        s.acct.the_stored_access_key("zoe.obrien-nunez").await;
    }
}
