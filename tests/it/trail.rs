//! The durable trail: every audit record of a full run (hires, a transfer, an immediate and a
//! scheduled departure, a failed event, a sweep) reaches the Object Lock bucket through the
//! `archiver` binary (under the Runtime API host, fed from a queue subscribed to the audit topic
//! as the stack subscribes its archive queue), each object locked in compliance mode, none
//! deletable, none alterable, and no secret in any of them.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};
use tests::runtime_api::{Answer, Function};
use tests::{Account, config, event};

/// The archiver's `trail.retention_days` in these tests; the bucket's default is 400.
const ARCHIVER_RETENTION_DAYS: u32 = 730;

fn s3(acct: &Account) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&acct.sdk).force_path_style(true).build())
}

/// A full run archived: the bucket, every record delivered (as the archive queue
/// carried it), and the run's reports.
struct Archived {
    bucket: String,
    delivered: Vec<String>,
    reports: Vec<shared::pipeline::EventReport>,
}

/// The stack's trail in the emulator: an Object Lock bucket, the archive queue on the audit
/// topic; a full run through it, archived by the `archiver` binary.
async fn archived_run(acct: &Account) -> Archived {
    use aws_sdk_s3::types::{
        DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule,
    };
    let (ctx, _inboxes) = acct.ready(config()).await;
    // The stack's bucket and archive queue (raw delivery, as ArchiveSubscription).
    let bucket = format!("trail-{}", acct.id);
    let s3 = s3(acct);
    s3.create_bucket().bucket(&bucket).object_lock_enabled_for_bucket(true).send().await.expect("bucket");
    let rule = ObjectLockRule::builder()
        .default_retention(DefaultRetention::builder().mode(ObjectLockRetentionMode::Compliance).days(400).build())
        .build();
    s3.put_object_lock_configuration()
        .bucket(&bucket)
        .object_lock_configuration(
            ObjectLockConfiguration::builder().object_lock_enabled(ObjectLockEnabled::Enabled).rule(rule).build(),
        )
        .send()
        .await
        .expect("default retention");
    let sqs = acct.sqs();
    let queue =
        sqs.create_queue().queue_name("archive").send().await.expect("queue").queue_url().expect("url").to_owned();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{}:archive", acct.id);
    acct.sns()
        .subscribe()
        .topic_arn(&ctx.targets.audit_topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe");

    // A full run: two hires (one with a key), a transfer, a scheduled and an immediate
    // departure, a failed event; then the sweep.
    let files = ["hire-engineering.json", "hire-finance-programmatic.json", "hire-unmapped-department.json"];
    let mut events: Vec<Value> = files.iter().map(|f| event(f, json!({}))).collect();
    events.push(event("change-transfer.json", json!({})));
    events.push(event("depart-scheduled.json", json!({})));
    events.push(event("depart-immediate.json", json!({})));
    events.push(event("hire-engineering.json", json!({"eventId": "bad-1", "startDate": "2026-13-01"})));
    let entries = events.into_iter().map(Ok).collect();
    let reports = shared::pipeline::run_all(&ctx, entries).await;
    assert_eq!(reports.iter().filter(|r| r.outcome == shared::pipeline::EventOutcome::Failed).count(), 1);
    shared::drivers::sweep::run(&ctx).await.expect("sweep");

    // The archiver, fed the queue in batches of ten, as the event source mapping feeds it. It
    // locks each object itself, for longer than the bucket's default (400 days), so the lock a
    // test reads back is the archiver's own.
    let toml = format!(
        "{}\n[trail]\nbucket = \"{bucket}\"\nretention_days = {ARCHIVER_RETENTION_DAYS}\n",
        std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config")
    );
    let archiver = Function::start("archiver", acct.env(), &toml);
    let mut delivered = Vec::new();
    loop {
        let got = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.expect("receive");
        if got.messages().is_empty() {
            break;
        }
        let records: Vec<Value> = got
            .messages()
            .iter()
            .map(|m| json!({"messageId": m.message_id(), "body": m.body(), "eventSource": "aws:sqs"}))
            .collect();
        let answer =
            tokio::task::block_in_place(|| archiver.api.invoke(json!({"Records": records}), Duration::from_secs(60)));
        match answer {
            Some(Answer::Response(v)) => assert_eq!(v["batchItemFailures"], json!([]), "{v}"),
            other => panic!("{other:?}\n{}", archiver.log_text()),
        }
        for m in got.messages() {
            delivered.push(m.body().unwrap_or_default().to_owned());
            let handle = m.receipt_handle().expect("handle");
            sqs.delete_message().queue_url(&queue).receipt_handle(handle).send().await.expect("delete");
        }
    }
    drop(archiver);
    assert!(delivered.len() > 40, "a full run's records: {}", delivered.len());
    Archived { bucket, delivered, reports }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_lands_locked_in_the_trail_and_cannot_be_deleted_or_altered() {
    let acct = Account::new().await;
    let Archived { bucket, delivered, .. } = archived_run(&acct).await;
    let s3 = s3(&acct);
    // Every record is in the bucket, once, under its day; every object is locked.
    let listed = s3.list_objects_v2().bucket(&bucket).prefix("audit/").send().await.expect("list");
    let mut archived = Vec::new();
    let mut first = None;
    for o in listed.contents() {
        let key = o.key().expect("key");
        assert!(key.starts_with("audit/20") && key.ends_with(".jsonl") && key.split('/').count() == 5, "{key}");
        let body =
            s3.get_object().bucket(&bucket).key(key).send().await.expect("get").body.collect().await.expect("body");
        archived.extend(String::from_utf8(body.to_vec()).expect("utf-8").lines().map(str::to_owned));
        // (The emulator answers GetObjectRetention with the object; HEAD carries the lock.)
        let head = s3.head_object().bucket(&bucket).key(key).send().await.expect("head");
        assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("COMPLIANCE"), "{key}");
        let until = head.object_lock_retain_until_date().expect("retained until").secs();
        // (The emulator may round the date it keeps up to the next second or day.)
        let days = (until - chrono::Utc::now().timestamp()) / 86_400;
        let archivers = i64::from(ARCHIVER_RETENTION_DAYS);
        assert!(
            (archivers - 1..=archivers).contains(&days),
            "{key}: locked {days} days, by the archiver, not the default"
        );
        first.get_or_insert_with(|| key.to_owned());
    }
    let mut want = delivered.clone();
    want.sort();
    archived.sort();
    assert_eq!(archived, want, "every delivered record archived, none twice");
    let terminals = archived.iter().filter(|r| r.contains("\"terminal\":true")).count();
    assert!(terminals >= 7, "one terminal record per event: {terminals}");

    // Neither deleted nor altered: deleting the locked version is refused; writing the key again
    // adds a version and leaves the locked one as it was.
    let key = first.expect("an object");
    let head = s3.head_object().bucket(&bucket).key(&key).send().await.expect("head");
    let version = head.version_id().expect("versioned").to_owned();
    let original = head.content_length();
    let refused = s3.delete_object().bucket(&bucket).key(&key).version_id(&version).send().await;
    let code = refused.map_err(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(&e).map(str::to_owned));
    assert_eq!(code.err().flatten().as_deref(), Some("AccessDenied"), "a locked version cannot be deleted");
    s3.put_object().bucket(&bucket).key(&key).body(b"forged".to_vec().into()).send().await.expect("a new version");
    let kept =
        s3.head_object().bucket(&bucket).key(&key).version_id(&version).send().await.expect("the locked version");
    assert_eq!(kept.content_length(), original, "the locked version is unchanged");

    // No secret anywhere in the trail.
    let user = "zoe.obrien-nunez";
    let password = acct.secret_value(&format!("employee-lifecycle/{user}/console-password")).await;
    let key_doc = acct.access_key_document(&format!("employee-lifecycle/{user}/access-key")).await;
    let all = archived.join("\n");
    assert!(!all.contains(&password), "a password in the trail");
    assert!(!all.contains(key_doc["SecretAccessKey"].as_str().expect("secret key")), "a secret key in the trail");
}

/// Rows as Python's standard `csv` module reads a file.
fn read_csv(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let script = "import csv, json, sys\nprint(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8')))))";
    let out = Command::new(tests::python()).args(["-c", script]).arg(path).output().expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("rows")
}

/// SHA-256 of a file, by Python's `hashlib` (not our code).
fn sha256_of(path: &std::path::Path) -> String {
    let script = "import hashlib, sys\nprint(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())";
    let out = Command::new(tests::python()).args(["-c", script]).arg(path).output().expect("python");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn json_lines(text: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(text)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The status `audit completeness --format json` gives each event.
fn statuses(out: &Output) -> BTreeMap<String, String> {
    json_lines(&out.stdout)
        .iter()
        .map(|r| {
            let key = format!(
                "{} {}",
                r["eventId"].as_str().unwrap_or_default(),
                r["employeeId"].as_str().unwrap_or_default()
            );
            (key, r["status"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// What an auditor gets from that trail: `onboarding audit` against the bucket (and a local copy
/// of it) as a standard CSV reader reads it, each manifest's hash recomputed, the rows as the
/// run's own reports say, tampering and gaps found, and no secret in any export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auditors_reports_answer_from_the_trail_exactly() {
    let acct = Account::new().await;
    let run = archived_run(&acct).await;
    let dir = tests::scratch().join(format!("audit-{}", acct.id));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("copy")).expect("dir");
    let source = format!("s3://{}", run.bucket);
    let mut everything = String::new();
    let mut audit = |source: &str, args: &[&str]| -> Output {
        let mut c = acct.command(tests::binary("onboarding"));
        let out = c.args(["audit", "--source", source]).args(args).output().expect("onboarding audit");
        everything.push_str(&String::from_utf8_lossy(&out.stdout));
        everything.push_str(&String::from_utf8_lossy(&out.stderr));
        out
    };
    let period = ["--from", "2026-01-01", "--to", "2030-12-31"];

    // Someone writes over an archived object: a new version, reported, never read.
    let s3 = s3(&acct);
    let listed = s3.list_objects_v2().bucket(&run.bucket).prefix("audit/").send().await.expect("list");
    let first = listed.contents()[0].key().expect("key").to_owned();
    s3.put_object()
        .bucket(&run.bucket)
        .key(&first)
        .body(b"{\"forged\":true}\n".to_vec().into())
        .send()
        .await
        .expect("put");

    // Leavers: one row per departure, as the run's reports say.
    let csv = dir.join("leavers.csv");
    let mut args = vec!["--format", "csv", "--out", csv.to_str().expect("path"), "leavers", "--sla", "24h"];
    args.extend(period);
    let out = audit(&source, &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report = |employee: &str| {
        run.reports
            .iter()
            .find(|r| {
                r.employee_id.as_deref() == Some(employee) && r.detail_type.as_deref() == Some("Employee Departed")
            })
            .expect("report")
    };
    let (immediate, scheduled) = (report("E1003"), report("E1002"));
    let ended = immediate.access_ended_at.clone().expect("access ended");
    let due = "2026-11-27T08:05:00Z";
    let elapsed = (chrono::DateTime::parse_from_rfc3339(&ended).expect("t")
        - chrono::DateTime::parse_from_rfc3339(due).expect("t"))
    .num_seconds();
    // Received: the first record of the event in the trail, to the second.
    let received = |event: &str| {
        let first = run
            .delivered
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).expect("record"))
            .filter(|r| r["eventId"] == event)
            .filter_map(|r| r["timestamp"].as_str().map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("t")))
            .min()
            .expect("received");
        first.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    let row = |cells: [&str; 13]| {
        let header = <onboarding::audit::reports::Leaver as onboarding::audit::reports::Row>::HEADER;
        assert_eq!(header.len(), cells.len());
        header.iter().zip(cells).map(|(h, c)| ((*h).to_owned(), c.to_owned())).collect::<BTreeMap<_, _>>()
    };
    let human = format!("{}d {:02}h {:02}m", elapsed / 86_400, elapsed / 3600 % 24, elapsed / 60 % 60);
    let (seconds, disable_at) = (elapsed.to_string(), scheduled.disable_at.clone().expect("scheduled"));
    let (r1, r2) = (received("hr-evt-3002"), received("hr-evt-3001"));
    let (u1, u2) = (immediate.user_name.clone().expect("user"), scheduled.user_name.clone().expect("user"));
    assert_eq!(
        read_csv(&csv),
        vec![
            row(["E1003", "hr-evt-3002", &u1, due, &r1, &ended, "", &human, &seconds, "24h", "yes", "ended", ""]),
            row(["E1002", "hr-evt-3001", &u2, &disable_at, &r2, "", "", "0s", "0", "24h", "no", "pending", ""]),
        ]
    );
    // The manifest: the file's hash (by Python's hashlib), its row count, its source; the
    // altered object counted.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("leavers.csv.manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["sha256"], sha256_of(&csv));
    assert_eq!(manifest["rows"], 2);
    assert_eq!(manifest["source"], format!("s3://{}/audit/", run.bucket));
    assert_eq!(manifest["alteredObjects"], 1, "{manifest}");
    assert_eq!(manifest["records"], run.delivered.len(), "every record, read from the first versions");
    assert_eq!(manifest["filters"]["sla"], "24h");

    // Completeness from the bucket: the failed event (never retried) and the altered object.
    let mut args = vec!["--format", "json", "completeness"];
    args.extend(period);
    let out = audit(&source, &args);
    assert_eq!(out.status.code(), Some(1), "incomplete");
    let from_bucket = statuses(&out);
    let failed: Vec<&String> = from_bucket.iter().filter(|(_, s)| *s != "complete").map(|(e, _)| e).collect();
    assert_eq!(failed, vec!["bad-1 E1001"], "{from_bucket:?}");
    assert_eq!(from_bucket["bad-1 E1001"], "failed-not-retried");
    for event in
        ["hr-evt-1001 E1001", "hr-evt-1002 E1002", "hr-evt-2001 E1001", "hr-evt-3001 E1002", "hr-evt-3002 E1003"]
    {
        assert_eq!(from_bucket.get(event).map(String::as_str), Some("complete"), "{event}: {from_bucket:?}");
    }
    let mut args = vec!["completeness"];
    args.extend(period);
    let text = audit(&source, &args);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("altered: s3://{}/{first}: version", run.bucket)), "{text}");

    // A local copy of the trail (an auditor offline): the same answer, without the alteration.
    let copy = dir.join("copy");
    let write = |lines: &[String]| std::fs::write(copy.join("trail.jsonl"), lines.join("\n") + "\n").expect("write");
    write(&run.delivered);
    let local = copy.to_str().expect("path");
    let mut args = vec!["--format", "json", "completeness"];
    args.extend(period);
    assert_eq!(statuses(&audit(local, &args)), from_bucket);
    // An exact copy of a record (a redelivery) changes nothing.
    let mut copied = run.delivered.clone();
    copied.push(run.delivered[0].clone());
    write(&copied);
    assert_eq!(statuses(&audit(local, &args)), from_bucket);
    // The transfer's terminal record removed: found.
    let is_transfer_terminal = |l: &String| l.contains("\"hr-evt-2001\"") && l.contains("\"terminal\":true");
    let removed: Vec<String> = run.delivered.iter().filter(|l| !is_transfer_terminal(l)).cloned().collect();
    assert_eq!(removed.len(), run.delivered.len() - 1);
    write(&removed);
    assert_eq!(statuses(&audit(local, &args))["hr-evt-2001 E1001"], "no-terminal");
    // A second terminal record in the same delivery: found.
    let terminal = run.delivered.iter().find(|l| is_transfer_terminal(l)).expect("terminal");
    let mut second: Value = serde_json::from_str(terminal).expect("record");
    second["timestamp"] = json!("2026-12-01T00:00:00.000Z");
    let mut doubled = run.delivered.clone();
    doubled.push(second.to_string());
    write(&doubled);
    assert_eq!(statuses(&audit(local, &args))["hr-evt-2001 E1001"], "duplicate-terminal");
    write(&run.delivered);

    // The trail of one person, in time order.
    let csv = dir.join("trail.csv");
    let out = audit(local, &["--format", "csv", "--out", csv.to_str().expect("path"), "trail", "--employee", "E1002"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = read_csv(&csv);
    let expected = run.delivered.iter().filter(|l| l.contains("\"employeeId\":\"E1002\"")).count();
    assert_eq!(rows.len(), expected);
    assert!(rows.iter().all(|r| r["employeeId"] == "E1002"));
    assert!(rows.windows(2).all(|w| w[0]["timestamp"] <= w[1]["timestamp"]), "in time order");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("trail.csv.manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(
        (manifest["sha256"].as_str(), manifest["rows"].as_u64()),
        (Some(sha256_of(&csv).as_str()), Some(expected as u64))
    );

    // Access, from IAM itself: each user's groups as IAM lists them, console, keys.
    let out = audit(local, &["--format", "json", "access"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = json_lines(&out.stdout);
    let names = tests::user_names(&acct).await;
    assert_eq!(rows.iter().map(|r| r["userName"].as_str().expect("name").to_owned()).collect::<Vec<_>>(), names);
    for r in &rows {
        let name = r["userName"].as_str().expect("name");
        let mut groups = tests::user_groups(&acct, name).await;
        groups.sort();
        let mut listed: Vec<String> = serde_json::from_value(r["groups"].clone()).expect("groups");
        listed.sort();
        assert_eq!(listed, groups, "{name}");
        let console = acct.iam().get_login_profile().user_name(name).send().await.is_ok();
        assert_eq!(r["consoleAccess"], console, "{name}");
        let keys = acct.iam().list_access_keys().user_name(name).send().await.expect("keys");
        let active =
            keys.access_key_metadata().iter().filter(|k| k.status().map(|s| s.as_str()) == Some("Active")).count();
        let listed = r["accessKeys"].as_array().expect("keys").iter().filter(|k| k["active"] == true).count();
        assert_eq!(listed, active, "{name}: {r}");
        assert_eq!(r["managed"], true, "{name}");
    }
    let zoe = rows.iter().find(|r| r["employeeId"] == "E1002").expect("the programmatic hire");
    assert_eq!(zoe["accessKeys"][0]["ageDays"], 0, "{zoe}");

    // No secret in any export, manifest, answer or log.
    for f in std::fs::read_dir(&dir).expect("dir").filter_map(Result::ok).filter(|f| f.path().is_file()) {
        everything.push_str(&std::fs::read_to_string(f.path()).expect("export"));
    }
    let user = "zoe.obrien-nunez";
    let password = acct.secret_value(&format!("employee-lifecycle/{user}/console-password")).await;
    let key_doc = acct.access_key_document(&format!("employee-lifecycle/{user}/access-key")).await;
    assert!(everything.len() > 10_000, "the exports were read: {}", everything.len());
    assert!(!everything.contains(&password), "a password in an export");
    assert!(
        !everything.contains(key_doc["SecretAccessKey"].as_str().expect("secret key")),
        "a secret key in an export"
    );
}

/// `audit report --html`: one self-contained file, as a real browser renders it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_is_self_contained_and_renders_in_a_browser() {
    let acct = Account::new().await;
    let run = archived_run(&acct).await;
    let dir = tests::scratch().join(format!("report-{}", acct.id));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("trail.jsonl"), run.delivered.join("\n")).expect("trail");
    let html = dir.join("report.html");
    let out = acct
        .command(tests::binary("onboarding"))
        .args(["audit", "--source", dir.join("trail.jsonl").to_str().expect("path"), "report", "--html"])
        .arg(&html)
        .args(["--from", "2026-01-01", "--to", "2030-12-31", "--sla", "24h"])
        .output()
        .expect("onboarding audit report");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("2 leavers (1 over the 24h SLA)"), "{summary}");
    let page = std::fs::read_to_string(&html).expect("report");
    // Self-contained: nothing to fetch, nothing to run.
    for needle in ["<script", " src=", "href=", "url(", "@import", "<link", "<iframe"] {
        assert!(!page.contains(needle), "{needle} in the report");
    }
    // The period's people, the SLA verdicts, the completeness result, the manifests.
    for needle in ["E1003", "E1002", "hr-evt-2001", "failed-not-retried", "<svg", "SLA"] {
        assert!(page.contains(needle), "{needle} missing from the report");
    }
    // Its leavers' manifest is that of `audit leavers --format csv` for the same period: the
    // auditor can export the rows and match the hash.
    let out = acct
        .command(tests::binary("onboarding"))
        .args(["audit", "--source", dir.join("trail.jsonl").to_str().expect("path"), "--format", "csv"])
        .args(["--manifest", dir.join("leavers.manifest.json").to_str().expect("path"), "leavers"])
        .args(["--from", "2026-01-01", "--to", "2030-12-31", "--sla", "24h"])
        .output()
        .expect("onboarding audit leavers");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("leavers.manifest.json")).expect("manifest")).expect("json");
    let sha = manifest["sha256"].as_str().expect("sha256");
    assert!(page.contains(&format!("&quot;sha256&quot;: &quot;{sha}&quot;")), "the leavers' hash {sha} in the report");
    let password = acct.secret_value("employee-lifecycle/zoe.obrien-nunez/console-password").await;
    assert!(!page.contains(&password) && !summary.contains(&password), "a password in the report");

    let Some(browser) = tests::browser::chromium() else {
        eprintln!(
            "SKIPPED the browser half of this test: Chromium is not installed (`cargo xtask test` installs Debian's \
             `chromium`; `apt-get install chromium` does it here)"
        );
        return;
    };
    let rendered = tests::browser::render(&browser, &html, 1200, 1600);
    // Parsed as HTML: the leaver table's cells and the chart are in the DOM the browser built.
    assert!(rendered.dom.contains("<td>E1003</td>") && rendered.dom.contains("<td class=\"bad\">yes</td>"));
    assert!(rendered.dom.contains("<rect"), "the chart's bars");
    // Painted: a screenshot of the asked size, and far more than a blank page of the same size.
    assert_eq!(rendered.size(), Some((1200, 1600)));
    let blank = dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").expect("blank");
    let empty = tests::browser::render(&browser, &blank, 1200, 1600);
    assert!(rendered.png.len() > 5 * empty.png.len(), "{} vs blank {}", rendered.png.len(), empty.png.len());
    std::fs::write(dir.join("report.png"), &rendered.png).expect("keep the screenshot");
}

/// `onboarding status` reads the person's last events from the trail (the config's bucket, or
/// `--trail` with a copy), each with what became of it, as the archived terminal records say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_a_persons_last_events_from_the_trail() {
    let acct = Account::new().await;
    let run = archived_run(&acct).await;
    let dir = tests::scratch().join(format!("status-{}", acct.id));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("onboarding.toml");
    let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config");
    std::fs::write(&cfg, format!("{shipped}\n[trail]\nbucket = \"{}\"\nretention_days = 400\n", run.bucket))
        .expect("config");
    let copy = dir.join("trail.jsonl");
    std::fs::write(&copy, run.delivered.join("\n")).expect("trail copy");
    // What the archive holds for Jane: her events' terminal records, the last five, oldest first.
    let mut ends: Vec<Value> = run
        .delivered
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("record"))
        .filter(|r| r["terminal"] == true && r["employeeId"] == "E1001")
        .collect();
    ends.sort_by(|a, b| a["timestamp"].as_str().cmp(&b["timestamp"].as_str()));
    let expected: Vec<(String, String)> = ends
        .iter()
        .skip(ends.len().saturating_sub(5))
        .map(|r| (r["eventId"].as_str().unwrap_or("").to_owned(), r["outcome"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert!(expected.iter().any(|(id, outcome)| id == "bad-1" && outcome == "failed"), "{expected:?}");

    let status = |extra: &[&str]| {
        let mut c = acct.command(tests::binary("onboarding"));
        c.arg("--config").arg(&cfg).args(["status", "E1001", "E9999"]).args(extra);
        c.output().expect("onboarding status")
    };
    for extra in [&["--format", "json"][..], &["--format", "json", "--trail", copy.to_str().expect("path")][..]] {
        let out = status(extra);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        let people = json_lines(&out.stdout);
        let events = people[0]["lastEvents"].as_array().unwrap_or_else(|| panic!("{}", people[0]));
        let got: Vec<(String, String)> = events
            .iter()
            .map(|e| (e["eventId"].as_str().unwrap_or("").to_owned(), e["outcome"].as_str().unwrap_or("").to_owned()))
            .collect();
        assert_eq!(got, expected, "{extra:?}");
        let failed = events.iter().find(|e| e["eventId"] == "bad-1").expect("the failed hire");
        assert!(failed["why"].as_str().is_some_and(|w| w.contains("startDate")), "its error, named: {failed}");
        assert_eq!(people[1]["lastEvents"], json!([]), "nobody's events: {}", people[1]);
    }
    let text = String::from_utf8_lossy(&status(&[]).stdout).into_owned();
    assert!(text.contains("E9999  no user:") && text.contains("trail                   no event"), "{text}");
    // A trail that cannot be read is unreadable input: exit 2, before anything else.
    let missing = status(&["--trail", "/nonexistent/trail.jsonl"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error: cannot read /nonexistent/trail.jsonl"));
    let _ = std::fs::remove_dir_all(&dir);
}
