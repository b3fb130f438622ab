//! The `onboarding` binary as an operator runs it: exit codes, output formats, bad input (here),
//! and by theme: the lifecycle, concurrency, drift and the roster import.

mod concurrency;
mod drift;
mod lifecycle;
mod roster;

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::Value;
use tests::{Account, Inbox, binary, config, root, user_names};

fn onboarding(acct: &Account, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = acct.command(binary("onboarding"));
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn onboarding");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("onboarding output")
}

/// Each JSON line's string fields `keys`, in order.
fn columns(out: &Output, keys: &[&str]) -> Vec<Vec<String>> {
    let cell = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_owned();
    json_lines(out).iter().map(|r| keys.iter().map(|k| cell(r, k)).collect()).collect()
}

/// [`columns`], sorted: for outputs whose order is not the point.
fn sorted_columns(out: &Output, keys: &[&str]) -> Vec<Vec<String>> {
    let mut rows = columns(out, keys);
    rows.sort();
    rows
}

/// A row of [`columns`] from string slices.
fn cells(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Bootstraps through the CLI and subscribes an inbox to the audit topic.
async fn bootstrapped(acct: &Account) -> Inbox {
    let out = onboarding(acct, &["bootstrap"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, inboxes) = acct.ready(config()).await;
    inboxes.audit
}

#[tokio::test]
async fn bootstrap_is_idempotent() {
    let acct = Account::new().await;
    let first = onboarding(&acct, &["bootstrap", "--format", "json"], None);
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(json_lines(&first).iter().all(|i| i["created"] == true));
    let second = onboarding(&acct, &["bootstrap", "--format", "json"], None);
    assert_eq!(second.status.code(), Some(0));
    let items = json_lines(&second);
    assert_eq!(items.len(), 11, "topics 2, tables 2 (tombstones, reviews), policies 4, groups 3: {items:?}");
    assert!(items.iter().all(|i| i["created"] == false), "{items:?}");
    let attached = acct.iam().list_attached_group_policies().group_name("AllEmployees").send().await.expect("policies");
    let mut names: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_name()).collect();
    names.sort();
    assert_eq!(names, ["employee-force-mfa", "employee-self-service"]);
    // the always-group lets a new hire change the initial password (reset is required)
    let arn = attached
        .attached_policies()
        .iter()
        .find(|p| p.policy_name() == Some("employee-self-service"))
        .and_then(|p| p.policy_arn())
        .expect("arn");
    let policy = acct.iam().get_policy().policy_arn(arn).send().await.expect("policy");
    let version = policy.policy().and_then(|p| p.default_version_id()).expect("version");
    let doc = acct.iam().get_policy_version().policy_arn(arn).version_id(version).send().await.expect("version");
    let doc = doc.policy_version().and_then(|v| v.document()).expect("document");
    let doc = if doc.starts_with('%') {
        tests::form_value(&format!("d={doc}"), "d").unwrap_or_default()
    } else {
        doc.to_owned()
    };
    assert!(doc.contains("iam:ChangePassword"), "{doc}");

    // A policy bootstrap installed, changed since (an older version's document): given this
    // version's again, as a new default version.
    let stale =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"*"}]}"#;
    acct.iam()
        .create_policy_version()
        .policy_arn(arn)
        .policy_document(stale)
        .set_as_default(true)
        .send()
        .await
        .expect("v2");
    let third = onboarding(&acct, &["bootstrap", "--format", "json"], None);
    assert_eq!(third.status.code(), Some(0), "{}", String::from_utf8_lossy(&third.stderr));
    let updated: Vec<Value> = json_lines(&third).into_iter().filter(|i| i["updated"] == true).collect();
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert_eq!(updated[0]["name"], "employee-self-service");
    let policy = acct.iam().get_policy().policy_arn(arn).send().await.expect("policy");
    assert_eq!(policy.policy().and_then(|p| p.default_version_id()), Some("v3"));
    // Someone else's policy of the same name, with another document: refused, named, unchanged.
    let fresh = Account::new().await;
    let theirs = fresh
        .iam()
        .create_policy()
        .policy_name("employee-force-mfa")
        .policy_document(stale)
        .send()
        .await
        .expect("theirs");
    let refused = onboarding(&fresh, &["bootstrap"], None);
    assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stdout));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("employee-force-mfa") && said.contains("not installed by bootstrap"), "{said}");
    let theirs = theirs.policy().and_then(|p| p.arn()).expect("arn");
    let still = fresh.iam().get_policy().policy_arn(theirs).send().await.expect("policy");
    assert_eq!(still.policy().and_then(|p| p.default_version_id()), Some("v1"));
}

#[tokio::test]
async fn run_prints_one_json_object_per_event_from_json_lines_on_stdin() {
    let acct = Account::new().await;
    bootstrapped(&acct).await;
    let a = std::fs::read_to_string(root().join("events/hire-engineering.json")).expect("event");
    let b = std::fs::read_to_string(root().join("events/hire-unmapped-department.json")).expect("event");
    let compact = |t: &str| serde_json::from_str::<Value>(t).expect("json").to_string();
    let lines = format!("{}\n{}\n", compact(&a), compact(&b));

    let out = onboarding(&acct, &["run", "--format", "json", "-"], Some(&lines));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 2);
    for key in ["eventId", "employeeId", "outcome", "userName", "userArn", "secretArn", "groups", "actions", "error"] {
        assert!(reports[0].get(key).is_some(), "missing {key}: {}", reports[0]);
    }
    assert_eq!(reports[0]["outcome"], "succeeded");
    assert_eq!(reports[0]["groups"], serde_json::json!(["AllEmployees", "Developers"]));
    assert_eq!(reports[1]["noRuleMatched"], true);
    assert_eq!(user_names(&acct).await, ["jane.doe", "majo.garcia-lopez"]);

    // a second run of the same input reports `unchanged`, still exit 0
    let again = onboarding(&acct, &["run", "--format", "json", "-"], Some(&lines));
    assert_eq!(again.status.code(), Some(0));
    assert!(json_lines(&again).iter().all(|r| r["outcome"] == "unchanged"));
}

/// Each bad input: the field its error must name.
const BAD: &[(&str, &str)] = &[
    ("missing-field.json", "detail.familyName"),
    ("empty-field.json", "detail.department"),
    ("bad-date.json", "detail.startDate"),
    ("unknown-detail-type.json", "detail-type"),
    ("no-usable-name.json", "detail.givenName/detail.familyName"),
    ("absurd-name.json", "detail.familyName"),
    ("smuggled-groups.json", "detail.groups"),
    ("bad-email.json", "detail.email"),
    ("malformed.json", "malformed JSON"),
];

#[tokio::test]
async fn bad_input_is_named_exits_1_is_audited_and_creates_nothing() {
    let acct = Account::new().await;
    let audit = bootstrapped(&acct).await;
    for (file, field) in BAD {
        let path = format!("events/invalid/{file}");
        let out = onboarding(&acct, &["run", "--format", "json", &path], None);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        let reports = json_lines(&out);
        assert_eq!(reports.len(), 1, "{file}");
        assert_eq!(reports[0]["outcome"], "failed", "{file}");
        let error = reports[0]["error"].as_str().unwrap_or_default();
        assert!(error.contains(field), "{file}: error does not name `{field}`: {error}");
        assert_eq!(reports[0]["errorType"], "Onboarding.InvalidEvent", "{file}");
        assert!(error.len() < 1_000, "{file}: the error echoes too much input ({} bytes)", error.len());

        let records: Vec<Value> = audit.drain().await.iter().map(|m| m.json()).collect();
        assert_eq!(records.len(), 1, "{file}: {records:?}");
        assert_eq!(
            (records[0]["terminal"].as_bool(), records[0]["outcome"].as_str()),
            (Some(true), Some("failed")),
            "{file}"
        );
        assert!(records[0]["error"].as_str().is_some_and(|e| e.contains(field)), "{file}");
    }
    // nothing half-created
    assert!(user_names(&acct).await.is_empty());
    assert!(acct.secrets().list_secrets().send().await.expect("list").secret_list().is_empty());
    let calls: Vec<String> = acct.recorded().into_iter().map(|(a, _)| a).collect();
    for mutating in ["CreateUser", "AddUserToGroup", "TagUser", "CreateLoginProfile", "CreateAccessKey"] {
        assert!(!calls.iter().any(|c| c == mutating), "{mutating} was called for bad input");
    }
}

#[tokio::test]
async fn one_bad_event_among_good_ones_fails_alone() {
    let acct = Account::new().await;
    bootstrapped(&acct).await;
    let out = onboarding(
        &acct,
        &["run", "events/hire-engineering.json", "events/invalid/bad-date.json", "events/hire-same-name.json"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with("succeeded")).count(), 2, "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("failed")).count(), 1, "{text}");
    assert!(text.contains("detail.startDate"), "{text}");
    assert_eq!(user_names(&acct).await, ["jane.doe", "jane.doe2"]);
}

#[tokio::test]
async fn usage_and_config_errors_exit_2_and_name_the_problem() {
    let acct = Account::new().await;
    let out = onboarding(&acct, &["run", "events/does-not-exist.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.json"));

    let out = onboarding(&acct, &["frobnicate"], None);
    assert_eq!(out.status.code(), Some(2));

    let out = onboarding(&acct, &["audit", "--source", "/nonexistent/trail.jsonl", "trail"], None);
    assert_eq!(out.status.code(), Some(2), "an unreadable input, as for `run`");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/trail.jsonl"));

    let dir = std::env::temp_dir().join(format!("onboarding-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.toml");
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).expect("config");
    std::fs::write(&bad, shipped.replace("groups = [\"Finance\"]", "groups = [\"Admins\"]")).expect("write");
    let out =
        onboarding(&acct, &["--config", bad.to_str().expect("path"), "run", "events/hire-engineering.json"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("groups.rules[1].groups") && err.contains("Admins"), "{err}");
    assert!(user_names(&acct).await.is_empty());
}

/// Without a region or credentials the CLI says so, and where the SDK looked, before any call;
/// an endpoint that does not answer, with its address.
#[tokio::test]
async fn no_region_or_no_credentials_is_said_before_any_call() {
    let acct = Account::new().await;
    let without = |unset: &[&str]| {
        let mut cmd = acct.command(binary("onboarding"));
        for k in unset {
            cmd.env_remove(k);
        }
        // Nowhere else to look: no files, no metadata service.
        cmd.env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
        cmd.args(["plan", "events/hire-engineering.json"]).stdin(Stdio::null());
        cmd.output().expect("run onboarding")
    };
    let out = without(&["AWS_REGION"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no AWS region: set AWS_REGION"), "{err}");
    let out = without(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no AWS credentials") && err.contains("AWS_PROFILE"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line (the SDK's account of its chain is at debug level): {err}");
    // An endpoint nobody answers on is said at once, with its address, not after the retries.
    let mut cmd = acct.command(binary("onboarding"));
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:1").args(["plan", "events/hire-engineering.json"]);
    let out = cmd.stdin(Stdio::null()).output().expect("run onboarding");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot reach the AWS endpoint http://127.0.0.1:1"), "{err}");
}

#[tokio::test]
async fn plan_shows_what_would_change_and_changes_nothing() {
    let acct = Account::new().await;
    let audit = bootstrapped(&acct).await;
    let out = onboarding(&acct, &["plan", "events/hire-engineering.json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("would-change") && text.contains("would do") && text.contains("iam:CreateUser"), "{text}");
    assert!(user_names(&acct).await.is_empty());
    assert!(audit.drain().await.is_empty());
}

/// `doctor` before and after `bootstrap`: each missing thing named with what to do, then all
/// well; a policy someone changed, and a bad config, found.
#[tokio::test]
async fn doctor_names_what_is_missing_or_changed_and_passes_after_bootstrap() {
    let acct = Account::new().await;
    let verdicts = |out: &Output| -> Vec<(String, String)> {
        json_lines(out)
            .iter()
            .map(|c| (c["check"].as_str().unwrap_or("").into(), c["verdict"].as_str().unwrap_or("").into()))
            .collect()
    };
    let before = onboarding(&acct, &["doctor", "--format", "json"], None);
    assert_eq!(before.status.code(), Some(1), "{}", String::from_utf8_lossy(&before.stderr));
    let checks = json_lines(&before);
    let topic = checks.iter().find(|c| c["check"] == "sns topic onboarding-audit").expect("topic checked");
    assert_eq!((topic["verdict"].as_str(), topic["detail"].as_str()), (Some("failed"), Some("missing")));
    assert!(topic["fix"].as_str().is_some_and(|f| f.contains("onboarding bootstrap")), "{topic}");
    let identity = checks.iter().find(|c| c["check"] == "identity").expect("identity");
    assert!(identity["detail"].as_str().is_some_and(|d| d.contains(&acct.id)), "whose credentials: {identity}");

    bootstrapped(&acct).await;
    let after = onboarding(&acct, &["doctor", "--format", "json"], None);
    assert_eq!(after.status.code(), Some(0), "{}", String::from_utf8_lossy(&after.stdout));
    let not_ok: Vec<_> = verdicts(&after).into_iter().filter(|(_, v)| v != "ok").collect();
    assert_eq!(not_ok, [("permissions".to_owned(), "not-checked".to_owned())], "an emulator evaluates no policy");

    // WHEN someone gives the self-service policy another document, doctor says so
    let iam = acct.iam();
    let arn = format!("arn:aws:iam::{}:policy/employee-self-service", acct.id);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(doc)
        .set_as_default(true)
        .send()
        .await
        .expect("changed");
    let changed = onboarding(&acct, &["doctor"], None);
    assert_eq!(changed.status.code(), Some(1));
    let text = String::from_utf8_lossy(&changed.stdout);
    let line = text.lines().find(|l| l.contains("iam policy employee-self-service")).unwrap_or_default();
    assert!(line.starts_with("failed") && line.contains("not this version's document"), "{text}");

    // AND a config that cannot be used is its first finding, with the key
    let bad = tests::scratch().join(format!("doctor-{}.toml", acct.id));
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).expect("config");
    std::fs::write(&bad, shipped.replace("user_path = \"/employees/\"", "user_path = \"/\"")).expect("write");
    let out = onboarding(&acct, &["--config", bad.to_str().expect("path"), "doctor"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("failed") && text.contains("iam.user_path"), "{text}");
}
