//! Deliveries and runs at the same moment: each ends clean, and people keep their order.

use super::*;

/// Five deliveries of the same event at the same moment (five processes), for a hire and then
/// a departure: none fails, the person has one user, one stored access key (losers delete
/// theirs), one version of each secret, a welcome, and the leaver ends disabled. Which delivery
/// says `changed: true`: each that changed something itself (at least one; a loser that made
/// and deleted a key also did), shown the same in its report and its terminal audit record.
#[tokio::test]
async fn concurrent_deliveries_of_one_event_all_end_clean() {
    let acct = Account::new().await;
    let (_ctx, inboxes) = acct.ready(config()).await;
    let audit = &inboxes.audit;
    let hire = tests::event("hire-finance-programmatic.json", serde_json::json!({})).to_string();
    let reports = deliver_five_times(&acct, &hire);
    assert_eq!(user_names(&acct).await, ["zoe.obrien-nunez"]);
    let user = "zoe.obrien-nunez";
    acct.iam().get_login_profile().user_name(user).send().await.expect("one login profile");
    // The losers deleted the keys nobody could hold.
    acct.the_stored_access_key(user).await;
    for kind in ["console-password", "access-key"] {
        let versions = acct
            .secrets()
            .list_secret_version_ids()
            .secret_id(format!("employee-lifecycle/{user}/{kind}"))
            .send()
            .await
            .expect("versions");
        assert_eq!(versions.versions().len(), 1, "{kind}: one version, the winner's");
    }
    let welcomes = inboxes.notifications.drain().await;
    let welcomes = welcomes.iter().filter(|m| m.attributes.get("event-type").map(String::as_str) == Some("welcome"));
    let welcomes = welcomes.count();
    // At least once; a delivery that finds the winner's login profile before its welcome tag
    // sends one more (docs/limits.md).
    assert!((1..=5).contains(&welcomes), "{welcomes} welcomes");
    terminals_agree_with_reports(audit, &reports).await;

    let departure = tests::event("depart-immediate.json", serde_json::json!({"employeeId": "E1002"})).to_string();
    let reports = deliver_five_times(&acct, &departure);
    let tags = tests::user_tags(&acct, user).await;
    assert_eq!(tags.get("lifecycle-status").map(String::as_str), Some("disabled"), "{tags:?}");
    assert!(tags.contains_key("access-revoked"));
    assert!(acct.iam().get_login_profile().user_name(user).send().await.is_err(), "no console access");
    let keys = acct.iam().list_access_keys().user_name(user).send().await.expect("keys");
    assert!(keys.access_key_metadata().iter().all(|k| k.status().map(|s| s.as_str()) == Some("Inactive")));
    assert!(tests::user_groups(&acct, user).await.is_empty());
    terminals_agree_with_reports(audit, &reports).await;
}

/// Runs `event` in five `onboarding run` processes started together; each must end
/// `succeeded` or `unchanged`. Returns their reports.
fn deliver_five_times(acct: &Account, event: &str) -> Vec<Value> {
    let children: Vec<_> = (0..5)
        .map(|_| {
            let mut cmd = acct.command(binary("onboarding"));
            cmd.args(["run", "--format", "json", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn");
            child.stdin.take().expect("stdin").write_all(event.as_bytes()).expect("write");
            child
        })
        .collect();
    let outs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().expect("output")).collect();
    let reports: Vec<Value> = outs.iter().map(|o| json_lines(o)[0].clone()).collect();
    assert!(
        outs.iter()
            .zip(&reports)
            .all(|(o, r)| o.status.code() == Some(0) && (r["outcome"] == "succeeded" || r["outcome"] == "unchanged")),
        "{reports:#?}"
    );
    reports
}

/// One terminal record per delivery; `changed: true` on as many as reports say `succeeded`
/// (at least one), each of which did something itself.
async fn terminals_agree_with_reports(audit: &Inbox, reports: &[Value]) {
    let did = |r: &Value| r["actions"].as_array().is_some_and(|a| a.iter().any(|a| a["outcome"] == "done"));
    for r in reports {
        assert_eq!(r["outcome"] == "succeeded", did(r), "succeeded exactly when it changed something: {r:#}");
    }
    let succeeded = reports.iter().filter(|r| r["outcome"] == "succeeded").count();
    assert!(succeeded >= 1, "someone did the work: {reports:#?}");
    let terminals: Vec<Value> =
        audit.drain().await.iter().map(|m| m.json()).filter(|r| r["terminal"] == true).collect();
    assert_eq!(terminals.len(), 5);
    assert!(terminals.iter().all(|t| t["outcome"] == "succeeded"), "no failed terminal record: {terminals:?}");
    assert_eq!(terminals.iter().filter(|t| t["changed"] == true).count(), succeeded, "{terminals:#?}");
}

/// Many people at once, each person's events in order: 200 events for 50 people (hires, their
/// resends, transfers, departures; five people named alike), interleaved in one file. Run with
/// `--concurrency 8` and with `--concurrency 1` against two accounts: the same reports in the same
/// order, and the same final IAM and Secrets Manager state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_keep_each_persons_order_and_end_as_a_sequential_run() {
    let started = chrono::Utc::now();
    let person = |i: usize| {
        let letters = format!("{}{}", (b'a' + (i / 26) as u8) as char, (b'a' + (i % 26) as u8) as char);
        let (given, family): (String, String) =
            if i.is_multiple_of(10) { ("Jane".into(), "Doe".into()) } else { ("Pat".into(), format!("Lane{letters}")) };
        (format!("P{i:03}"), given, family)
    };
    let mut lines = Vec::new();
    for phase in 0..4 {
        for i in 0..50 {
            let (id, given, family) = person(i);
            let e = match phase {
                0 | 1 => tests::event(
                    "hire-engineering.json",
                    serde_json::json!({"eventId": format!("h-{i}"), "employeeId": id, "givenName": given, "familyName": family}),
                ),
                2 => tests::event(
                    "change-transfer.json",
                    serde_json::json!({"eventId": format!("c-{i}"), "employeeId": id}),
                ),
                _ if i % 5 == 0 => tests::event(
                    "depart-immediate.json",
                    serde_json::json!({"eventId": format!("d-{i}"), "employeeId": id}),
                ),
                _ => tests::event(
                    "change-transfer.json",
                    serde_json::json!({"eventId": format!("c-{i}"), "employeeId": id}),
                ),
            };
            lines.push(e.to_string());
        }
    }
    let file = tests::scratch().join(format!("crowd-{}.jsonl", std::process::id()));
    std::fs::write(&file, lines.join("\n")).expect("events");
    let file = file.to_str().expect("path");
    let mut results = Vec::new();
    for concurrency in ["8", "1"] {
        let acct = Account::new().await;
        bootstrapped(&acct).await;
        let out = onboarding(&acct, &["--format", "json", "--concurrency", concurrency, "run", file], None);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let reports: Vec<(String, String)> = json_lines(&out)
            .iter()
            .map(|r| {
                (
                    r["eventId"].as_str().unwrap_or_default().to_owned(),
                    r["outcome"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        assert_eq!(reports.len(), 200);
        assert_eq!(user_names(&acct).await.len(), 50, "none lost, none doubled");
        results.push((reports, tests::snapshot(&acct, started).await));
    }
    let (concurrent, sequential) = (&results[0], &results[1]);
    // Output order is input order; each event ended the same way.
    let ids: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("event")["detail"]["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(concurrent.0.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(concurrent.0, sequential.0);
    // The people named alike got their names in input order, as in the sequential run.
    assert_eq!(concurrent.1, sequential.1);
    let outcomes: std::collections::BTreeMap<&str, usize> =
        concurrent.0.iter().fold(Default::default(), |mut m, (_, o)| {
            *m.entry(o.as_str()).or_default() += 1;
            m
        });
    assert_eq!(outcomes.get("succeeded"), Some(&(50 + 50 + 10)), "{outcomes:?}");
}
