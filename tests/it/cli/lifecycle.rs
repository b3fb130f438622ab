//! Hires, changes, departures, the sweep and the mass-departure guard through the CLI.

use super::*;

#[tokio::test]
async fn hires_changes_departures_and_the_sweep_through_the_cli() {
    // GIVEN the sample hires, onboarded (with a config for the emulator, which lacks
    // service-specific credentials; and, since this story sweeps years ahead without anyone
    // signing in, unused credentials that live ten years: their expiry is tested in lifecycle.rs)
    let acct = Account::new().await;
    bootstrapped(&acct).await;
    let cfg_path = tests::scratch().join(format!("onboarding-cli-{}.toml", std::process::id()));
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).expect("config");
    let emulated = shipped
        .replace("[retry]", "skip_service_specific_credentials = true\n\n[retry]")
        .replace("initial_ttl_days = 14", "initial_ttl_days = 3650");
    assert!(emulated.contains("initial_ttl_days = 3650"));
    std::fs::write(&cfg_path, emulated).expect("write config");
    let cfg = cfg_path.to_str().expect("utf-8 path");
    let onboarding = |acct: &Account, args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--config", cfg];
        all.extend_from_slice(args);
        onboarding(acct, &all, stdin)
    };
    let hires: Vec<String> = ["engineering", "finance-programmatic", "unmapped-department", "non-latin", "same-name"]
        .iter()
        .map(|h| format!("events/hire-{h}.json"))
        .collect();
    let mut args = vec!["run", "--format", "json"];
    args.extend(hires.iter().map(String::as_str));
    assert_eq!(onboarding(&acct, &args, None).status.code(), Some(0));

    // WHEN HR sends a transfer, a departure ahead of time and an immediate one, in one file
    let mixed = ["change-transfer.json", "depart-scheduled.json", "depart-immediate.json"]
        .iter()
        .map(|f| std::fs::read_to_string(root().join("events").join(f)).expect("sample"))
        .map(|t| serde_json::to_string(&serde_json::from_str::<Value>(&t).expect("json")).expect("line"))
        .collect::<Vec<_>>()
        .join("\n");
    for _ in 0..2 {
        let out = onboarding(&acct, &["run", "--now", "2026-11-28T12:00:00Z", "--format", "json", "-"], Some(&mixed));
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let r = json_lines(&out);
        // THEN each is reported with the user's status afterwards
        let status: Vec<&str> = r.iter().map(|r| r["status"].as_str().unwrap_or("-")).collect();
        assert_eq!(status, ["active", "active", "disabled"], "{r:?}");
        assert_eq!(r[1]["disableAt"], "2030-06-29T00:00:00Z");
    }
    let groups = acct.iam().list_groups_for_user().user_name("jane.doe").send().await.expect("groups");
    let groups: Vec<&str> = groups.groups().iter().map(|g| g.group_name()).collect();
    assert_eq!(groups, ["AllEmployees", "Finance"], "the transfer moved Jane to Finance");

    // WHEN the sweep runs within the grace period, then after the scheduled last day
    let future = ["--allow-future-now", "--format", "json"];
    let before = onboarding(&acct, &[&["sweep", "--now", "2026-12-28T11:59:59Z"][..], &future].concat(), None);
    assert_eq!(json_lines(&before)[0]["items"], serde_json::json!([]));
    // (A --now ahead of the clock acts today on what is due by then: refused without the
    // override, and nothing is changed.)
    let refused = onboarding(&acct, &["sweep", "--now", "2030-06-29T00:00:00Z"], None);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-future-now"));
    assert!(acct.iam().get_login_profile().user_name("zoe.obrien-nunez").send().await.is_ok(), "nothing changed");
    let after = onboarding(&acct, &[&["sweep", "--now", "2030-06-29T00:00:00Z"][..], &future].concat(), None);
    assert_eq!(after.status.code(), Some(0), "{}", String::from_utf8_lossy(&after.stdout));
    assert!(String::from_utf8_lossy(&after.stderr).contains("ahead of the clock"), "the override is said");
    // THEN the scheduled leaver is disabled and the immediate one, past its grace, deleted
    let items = json_lines(&after)[0]["items"].as_array().expect("items").clone();
    let item = |user: &str| items.iter().find(|i| i["userName"] == user).unwrap_or_else(|| panic!("{user}: {items:?}"));
    assert_eq!(
        (item("zoe.obrien-nunez")["due"].as_str(), item("zoe.obrien-nunez")["status"].as_str()),
        (Some("disable"), Some("disabled"))
    );
    assert_eq!(item("majo.garcia-lopez")["status"], "deleted");
    assert!(acct.iam().get_login_profile().user_name("zoe.obrien-nunez").send().await.is_err());
    // Her access ended today, and that is what the user says: the real time, not --now's 2030.
    let tags = acct.iam().list_user_tags().user_name("zoe.obrien-nunez").send().await.expect("tags");
    let revoked = tags.tags().iter().find(|t| t.key() == "access-revoked").map(|t| t.value().to_owned());
    let revoked = chrono::DateTime::parse_from_rfc3339(&revoked.expect("access-revoked")).expect("a time");
    let drift = (chrono::Utc::now() - revoked.with_timezone(&chrono::Utc)).num_seconds().abs();
    assert!(drift < 600, "access-revoked {revoked} is the clock's time, not --now's");
    assert!(acct.iam().get_user().user_name("majo.garcia-lopez").send().await.is_err());
    let bad = onboarding(&acct, &["sweep", "--now", "tomorrow"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));

    // WHEN two of the remaining four leave at once (over the shipped 10 % guard)
    let two = ["E1001", "E1004"]
        .iter()
        .map(|id| {
            format!(
                r#"{{"id":"x-{id}","detail-type":"Employee Departed","source":"hr","time":"2026-11-27T12:00:00Z","detail":{{"eventId":"mass-{id}","employeeId":"{id}","lastDay":"2026-11-27","immediate":true}}}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let held = onboarding(&acct, &["run", "--format", "json", "-"], Some(&two));
    // THEN nothing is disabled and the exit code says why
    assert_eq!(held.status.code(), Some(3), "{}", String::from_utf8_lossy(&held.stdout));
    assert!(json_lines(&held).iter().all(|r| r["outcome"] == "quarantined"));
    assert!(acct.iam().get_login_profile().user_name("jane.doe").send().await.is_ok());

    // `status` says what the account holds of each person, and why (it reads only)
    let st = onboarding(&acct, &["status", "E1001", "E1002", "E1003", "E9999", "--format", "json"], None);
    assert_eq!(st.status.code(), Some(0), "{}", String::from_utf8_lossy(&st.stderr));
    let people = json_lines(&st);
    let (jane, zoe, majo, nobody) = (&people[0], &people[1], &people[2], &people[3]);
    assert_eq!((jane["userName"].as_str(), jane["status"].as_str()), (Some("jane.doe"), Some("active")), "{jane}");
    assert!(jane["heldSince"].is_string(), "her departure waits for an operator: {jane}");
    let why: Vec<(&str, &str)> = jane["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| (g["group"].as_str().unwrap_or(""), g["why"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(why, [("AllEmployees", "always"), ("Finance", "rule 2 (department = Finance)")]);
    assert_eq!(jane["console"]["passwordLastUsed"], Value::Null, "never signed in: {jane}");
    let credential = &jane["initialCredentials"][0];
    assert_eq!(credential["secret"], "employee-lifecycle/jane.doe/console-password");
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or("")).expect("a time");
    assert_eq!((at(&credential["expiresAt"]) - at(&credential["issuedAt"])).num_days(), 3650, "the config's TTL");
    assert_eq!(zoe["status"], "disabled", "{zoe}");
    assert!(zoe["dates"]["access-revoked"].is_string() && zoe["dates"]["delete-at"].is_string(), "{zoe}");
    assert_eq!(zoe["console"], Value::Null);
    assert!(zoe["accessKeys"].as_array().is_some_and(|k| !k.is_empty() && k.iter().all(|k| k["active"] == false)));
    let gone = majo["noUser"].as_str().unwrap_or("");
    assert!(gone.starts_with("deleted on") && gone.contains("majo.garcia-lopez"), "{majo}");
    assert!(nobody["noUser"].as_str().is_some_and(|w| w.contains("never hired here")), "{nobody}");
    let text = String::from_utf8_lossy(&onboarding(&acct, &["status", "E1003"], None).stdout).into_owned();
    assert!(text.starts_with("E1003  no user: deleted on"), "{text}");

    let allowed = onboarding(&acct, &["run", "--allow-mass-offboarding", "--format", "json", "-"], Some(&two));
    assert_eq!(allowed.status.code(), Some(0));
    assert!(json_lines(&allowed).iter().all(|r| r["status"] == "disabled"));
    let _ = std::fs::remove_file(&cfg_path);
}

/// The guard spans separate runs: fifteen `onboarding run` invocations, each with one immediate
/// departure, against `max_disables = 10`: ten disabled, five held. The held ones wait on the
/// users themselves (a new process finds them), are re-alerted by the sweep, and an operator
/// releases or discards them, audited with their identity.
#[tokio::test]
async fn the_guard_spans_separate_runs_and_holds_until_an_operator_decides() {
    let acct = Account::new().await;
    let audit = bootstrapped(&acct).await;
    let cfg_path = tests::scratch().join(format!("onboarding-guard-{}-{}.toml", std::process::id(), acct.id));
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).expect("config");
    assert!(shipped.contains("max_disables = 10"), "the shipped limit this story is about");
    std::fs::write(&cfg_path, &shipped).expect("write config");
    let cfg = cfg_path.to_str().expect("utf-8 path");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--config", cfg, "--format", "json"];
        all.extend_from_slice(args);
        onboarding(&acct, &all, stdin)
    };
    // GIVEN fifteen people
    const NAMES: [&str; 15] = [
        "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima",
        "Mike", "November", "Oscar",
    ];
    let hires: Vec<String> = NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| {
            tests::event(
                "hire-engineering.json",
                serde_json::json!({"eventId": format!("h-{i}"), "employeeId": format!("E90{i:02}"), "familyName": n}),
            )
            .to_string()
        })
        .collect();
    let hired = run(&["run", "-"], Some(&hires.join("\n")));
    assert_eq!(hired.status.code(), Some(0), "{}", String::from_utf8_lossy(&hired.stderr));
    audit.drain().await;

    // WHEN each departs in a run of its own
    let mut codes = Vec::new();
    for i in 0..15 {
        let leave = tests::event(
            "depart-immediate.json",
            serde_json::json!({"eventId": format!("d-{i}"), "employeeId": format!("E90{i:02}")}),
        );
        let out = run(&["run", "-"], Some(&leave.to_string()));
        let report = &json_lines(&out)[0];
        codes.push((out.status.code(), report["status"].as_str().unwrap_or("?").to_owned()));
    }
    // THEN ten are disabled and five held (exit 3: an operator must look)
    let disabled = codes.iter().filter(|(c, s)| *c == Some(0) && s == "disabled").count();
    let held = codes.iter().filter(|(c, s)| *c == Some(3) && s == "quarantined").count();
    assert_eq!((disabled, held), (10, 5), "{codes:?}");
    let alerts: Vec<Value> =
        audit.drain().await.iter().filter(|m| m.attributes["event-type"] == "alert").map(|m| m.json()).collect();
    assert_eq!(alerts.len(), 5, "one alert per held departure");

    // AND a new process lists exactly those five; a resend keeps them held
    let listed = json_lines(&run(&["quarantine", "list"], None));
    let mut held_ids: Vec<String> = listed.iter().map(|h| h["employeeId"].as_str().expect("id").to_owned()).collect();
    held_ids.sort();
    assert_eq!(held_ids, ["E9010", "E9011", "E9012", "E9013", "E9014"]);
    assert!(listed.iter().all(|h| h["outcome"] == "held" && h["heldSince"].is_string()));
    let resend = tests::event("depart-immediate.json", serde_json::json!({"eventId": "d-10", "employeeId": "E9010"}));
    let again = run(&["run", "-"], Some(&resend.to_string()));
    assert_eq!((again.status.code(), json_lines(&again)[0]["status"].as_str()), (Some(3), Some("quarantined")));
    // AND each sweep re-alerts them
    audit.drain().await;
    let swept = run(&["sweep"], None);
    assert_eq!(swept.status.code(), Some(3), "{}", String::from_utf8_lossy(&swept.stderr));
    let realert: Vec<Value> =
        audit.drain().await.iter().filter(|m| m.attributes["event-type"] == "alert").map(|m| m.json()).collect();
    assert!(
        realert.iter().any(|a| a["reason"].as_str().is_some_and(|r| r.contains("5 departure(s) held"))),
        "{realert:?}"
    );
    let jane = |i: usize| format!("jane.{}", NAMES[i].to_lowercase());
    assert!(acct.iam().get_login_profile().user_name(jane(10)).send().await.is_ok(), "held means untouched");

    // WHEN the operator releases one, discards one, then releases the rest
    let released = json_lines(&run(&["quarantine", "release", "E9010"], None));
    assert_eq!((released.len(), released[0]["outcome"].as_str()), (1, Some("released")));
    let discarded = run(&["quarantine", "discard", "E9011"], None);
    assert_eq!(json_lines(&discarded)[0]["outcome"], "discarded");
    let unknown = run(&["quarantine", "release", "E0000"], None);
    assert_eq!(unknown.status.code(), Some(2), "an id that names no held departure is refused");
    let rest = json_lines(&run(&["quarantine", "release", "--all"], None));
    assert_eq!(rest.iter().filter(|h| h["outcome"] == "released").count(), 3);
    // THEN the released are disabled, the discarded keeps access, nothing is held any more
    for i in [10, 12, 13, 14] {
        assert!(acct.iam().get_login_profile().user_name(jane(i)).send().await.is_err(), "{} disabled", jane(i));
    }
    assert!(acct.iam().get_login_profile().user_name(jane(11)).send().await.is_ok(), "discarded: access kept");
    assert!(json_lines(&run(&["quarantine", "list"], None)).is_empty());
    // AND each decision is audited with who made it
    let operator = format!("arn:aws:iam::{}:user/test-admin", acct.id);
    let decisions: Vec<Value> =
        audit.drain().await.iter().map(|m| m.json()).filter(|r| r["step"] == "quarantine").collect();
    assert_eq!(decisions.len(), 5, "{decisions:?}");
    assert!(decisions.iter().all(|d| d["reason"].as_str().is_some_and(|r| r.contains(&operator))), "{decisions:?}");
    assert!(decisions.iter().filter(|d| d["action"] == "release").all(|d| d["accessEndedAt"].is_string()));
}
