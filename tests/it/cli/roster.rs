//! `onboarding roster import`: plan, adopt, create, in stages.

use super::*;

/// Day one: HR's roster against an account with users made by hand. The plan is exact; apply
/// creates the one new person and adopts the two hand-made users that belong to someone (path,
/// tags, groups), without a new password, access key or welcome and keeping their own; the
/// protected and the ambiguous users are listed and untouched; a rerun changes nothing.
#[tokio::test]
async fn roster_import_adopts_hand_made_users_without_new_credentials() {
    use aws_sdk_iam::types::Tag;
    // GIVEN an account bootstrapped, a config that protects `root.admin`, and users made by hand:
    // Jane with a console password and MFA, Zoë's `zoe` with an access key, a protected admin,
    // and two users that could both be Ann Lee.
    let acct = Account::new().await;
    let out = onboarding(&acct, &["bootstrap"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, inboxes) = acct.ready(config()).await;
    let config_file = tests::scratch().join(format!("import-{}.toml", acct.id));
    let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config");
    std::fs::write(&config_file, shipped.replace("protect = []", r#"protect = ["root.admin"]"#)).expect("config");
    let iam = acct.iam();
    for name in ["jane.doe", "zoe", "root.admin", "ann.lee", "alee"] {
        iam.create_user().user_name(name).send().await.expect("hand-made user");
    }
    iam.tag_user()
        .user_name("alee")
        .tags(Tag::builder().key("email").value("Ann.Lee@example.com").build().expect("tag"))
        .send()
        .await
        .expect("tag");
    iam.create_login_profile().user_name("jane.doe").password("Own-passw0rd-of-Jane!").send().await.expect("password");
    iam.add_user_to_group().user_name("jane.doe").group_name("AllEmployees").send().await.expect("join");
    let mfa = iam.create_virtual_mfa_device().virtual_mfa_device_name("jane-phone").send().await.expect("mfa");
    let serial = mfa.virtual_mfa_device().map(|d| d.serial_number().to_owned()).expect("serial");
    let enable = iam.enable_mfa_device().user_name("jane.doe").serial_number(&serial);
    enable.authentication_code1("123456").authentication_code2("654321").send().await.expect("enable mfa");
    let key = iam.create_access_key().user_name("zoe").send().await.expect("key");
    let key_id = key.access_key().map(|k| k.access_key_id().to_owned()).expect("key id");

    let detail = |f: &str| tests::event(f, serde_json::json!({}))["detail"].clone();
    let mut zoe = detail("hire-finance-programmatic.json");
    zoe["userName"] = serde_json::json!("zoe");
    let mut root = detail("hire-unmapped-department.json");
    root["employeeId"] = serde_json::json!("E3001");
    (root["givenName"], root["familyName"], root["email"]) = ("Root".into(), "Admin".into(), "root@example.com".into());
    root.as_object_mut().expect("detail").remove("preferredName");
    let mut ann = detail("hire-engineering.json");
    ann["employeeId"] = serde_json::json!("E3002");
    (ann["givenName"], ann["familyName"], ann["email"]) = ("Ann".into(), "Lee".into(), "ann.lee@example.com".into());
    let mut neo = detail("hire-engineering.json");
    neo["employeeId"] = serde_json::json!("E7777");
    (neo["givenName"], neo["familyName"], neo["email"]) = ("Neo".into(), "Hire".into(), "neo@example.com".into());
    let rows = [detail("hire-engineering.json"), zoe, root, ann, neo];
    let roster = tests::scratch().join(format!("import-{}.jsonl", acct.id));
    std::fs::write(&roster, rows.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("\n")).expect("roster");
    let (config_file, roster) = (config_file.to_str().expect("path"), roster.to_str().expect("path"));
    let import = |more: &[&str]| {
        let mut args = vec!["--config", config_file, "roster", "import", roster, "--format", "json"];
        args.extend(more);
        let out = onboarding(&acct, &args, None);
        let rows = columns(&out, &["plan", "employeeId", "userName", "outcome", "detail"]);
        (out, rows)
    };
    let row = |plan: &str, id: &str, user: &str, outcome: &str, detail: &str| cells(&[plan, id, user, outcome, detail]);

    // WHEN the import plans (the default) THEN the plan is exactly this, and nothing changed.
    let before = acct.recorded().len();
    let (out, plan) = import(&[]);
    assert_eq!(out.status.code(), Some(1), "ambiguous and refused people: {}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plan: 1 create, 2 adopt, 0 managed, 1 ambiguous, 1 refused; quotas: users "), "{stderr}");
    // When IAM says each hand-made user was made (the plan shows it, to tell a fresh look-alike).
    let mut made = std::collections::BTreeMap::new();
    for name in ["jane.doe", "zoe", "alee", "ann.lee"] {
        let u = iam.get_user().user_name(name).send().await.expect("user");
        let secs = u.user().map(|u| u.create_date().secs()).expect("created");
        let day = chrono::DateTime::from_timestamp(secs, 0).expect("time").format("%Y-%m-%d").to_string();
        made.insert(name, day);
    }
    let (jane, zoe, alee, ann) = (&made["jane.doe"], &made["zoe"], &made["alee"], &made["ann.lee"]);
    let jane_detail = format!(
        "matched by its name, made {jane}; path /employees/E1001/, ownership tags, joins Developers; keeps console password, MFA; no welcome"
    );
    let zoe_detail = format!(
        "matched by the userName column, made {zoe}; path /employees/E1002/, ownership tags, joins AllEmployees, Finance; keeps 1 access key; no welcome"
    );
    let ann_detail =
        format!("several users could be this person: alee (made {alee}), ann.lee (made {ann}); name one in `userName`");
    let expected = |outcome: &str, adopted: &str| {
        vec![
            row("adopt", "E1001", "jane.doe", adopted, &jane_detail),
            row("adopt", "E1002", "zoe", adopted, &zoe_detail),
            row(
                "refused",
                "E3001",
                "root.admin",
                outcome,
                "`root.admin` is protected (lifecycle.protect): never adopted automatically",
            ),
            row("ambiguous", "E3002", "alee ann.lee", outcome, &ann_detail),
            row(
                "create",
                "E7777",
                "neo.hire",
                adopted,
                "a new user; groups AllEmployees, Developers; password and welcome",
            ),
        ]
    };
    assert_eq!(plan, expected("planned", "planned"));
    let writes = [
        "Create",
        "Put",
        "Tag",
        "Untag",
        "Add",
        "Remove",
        "Delete",
        "Update",
        "Attach",
        "Detach",
        "Publish",
        "Enable",
        "Deactivate",
    ];
    let is_write = |a: &String| writes.iter().any(|w| a.starts_with(w));
    let calls: Vec<String> = acct.recorded().into_iter().skip(before).map(|(a, _)| a).collect();
    assert!(calls.contains(&"GetAccountSummary".to_owned()), "the quota preflight: {calls:?}");
    assert!(!calls.iter().any(is_write), "a plan changes nothing: {calls:?}");

    // WHEN it applies
    let before = acct.recorded().len();
    let (out, applied) = import(&["--apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let mut want = expected("skipped", "succeeded");
    assert_eq!(applied, want);
    // THEN the adopted users are managed, at their employee's path, with HR's tags and the
    // mapped groups, and keep their own credentials ...
    for (user, id, groups) in
        [("jane.doe", "E1001", ["AllEmployees", "Developers"]), ("zoe", "E1002", ["AllEmployees", "Finance"])]
    {
        let u = iam.get_user().user_name(user).send().await.expect("user");
        let u = u.user().expect("user");
        assert_eq!(u.path(), format!("/employees/{id}/"));
        let tags = tests::user_tags(&acct, user).await;
        assert_eq!(tags.get("employee-id").map(String::as_str), Some(id), "{tags:?}");
        assert_eq!(tags.get("managed-by").map(String::as_str), Some("employee-lifecycle"));
        assert_eq!(tags.get("lifecycle-status").map(String::as_str), Some("active"));
        assert!(tags.contains_key("department") && tags.contains_key("last-event-time"), "{tags:?}");
        assert_eq!(tests::user_groups(&acct, user).await, groups);
    }
    iam.get_login_profile().user_name("jane.doe").send().await.expect("Jane keeps her password");
    let devices = iam.list_mfa_devices().user_name("jane.doe").send().await.expect("mfa");
    assert_eq!(devices.mfa_devices().len(), 1, "Jane keeps her MFA device");
    let keys = iam.list_access_keys().user_name("zoe").send().await.expect("keys");
    let keys: Vec<(&str, String)> = keys
        .access_key_metadata()
        .iter()
        .map(|k| (k.access_key_id().unwrap_or_default(), k.status().map(|s| s.as_str().to_owned()).unwrap_or_default()))
        .collect();
    assert_eq!(keys, [(key_id.as_str(), "Active".to_owned())], "Zoë keeps her key, and only it");
    // ... the protected and the ambiguous users are untouched, and the newcomer exists.
    for user in ["root.admin", "ann.lee", "alee"] {
        let u = iam.get_user().user_name(user).send().await.expect("user");
        assert_eq!(u.user().map(|u| u.path()), Some("/"), "{user}");
        assert!(!tests::user_tags(&acct, user).await.contains_key("managed-by"), "{user}");
    }
    // The emulator's recording: a password and a welcome for the newcomer only; no access key,
    // and nothing done to anyone's password, keys or MFA.
    let calls = acct.recorded().into_iter().skip(before).collect::<Vec<_>>();
    let of = |action: &str| calls.iter().filter(|(a, _)| a == action).map(|(_, b)| b.clone()).collect::<Vec<_>>();
    let profiles = of("CreateLoginProfile");
    assert!(profiles.len() == 1 && profiles[0].contains("UserName=neo.hire"), "{profiles:?}");
    for action in [
        "CreateAccessKey",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "DeactivateMFADevice",
        "PutUserPermissionsBoundary",
    ] {
        assert!(of(action).is_empty(), "{action}: {:?}", of(action));
    }
    assert_eq!(of("UpdateUser").len(), 2, "the two adoptions moved their users");
    let notified: Vec<String> = inboxes.notifications.drain().await.into_iter().map(|m| m.message).collect();
    assert!(!notified.is_empty() && notified.iter().all(|m| m.contains("neo.hire")), "{notified:?}");
    // Each adoption left its actions under the `adopt` step and one terminal record.
    let records: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    for id in ["E1001", "E1002"] {
        let mine: Vec<&Value> = records.iter().filter(|r| r["employeeId"] == id).collect();
        let moved =
            mine.iter().any(|r| r["step"] == "adopt" && r["action"] == "iam:UpdateUser" && r["outcome"] == "done");
        assert!(moved, "{mine:?}");
        assert_eq!(mine.iter().filter(|r| r["terminal"] == true).count(), 1, "{mine:?}");
    }

    // WHEN it applies again THEN everyone is managed, and nothing is written.
    let before = acct.recorded().len();
    let (out, again) = import(&["--apply"]);
    assert_eq!(out.status.code(), Some(1));
    for r in want.iter_mut().filter(|r| r[0] == "adopt" || r[0] == "create") {
        (r[0], r[3], r[4]) = ("managed".into(), "unchanged".into(), "this system's user already: nothing to do".into());
    }
    assert_eq!(again, want);
    let calls: Vec<String> = acct.recorded().into_iter().skip(before).map(|(a, _)| a).collect();
    assert!(!calls.iter().any(is_write), "a rerun changes nothing: {calls:?}");
}

/// An import in stages: `--only` applies the selected people and leaves the rest of the roster
/// as it was; an id the roster lacks is a usage error that names it and changes nothing.
#[tokio::test]
async fn roster_import_in_stages_applies_only_the_selected_people() {
    // GIVEN two hand-made users, Jane's `jane.doe` and Zoë's `zoe`, and a roster with both
    let acct = Account::new().await;
    let out = onboarding(&acct, &["bootstrap"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["jane.doe", "zoe"] {
        acct.iam().create_user().user_name(name).send().await.expect("hand-made user");
    }
    let detail = |f: &str| tests::event(f, serde_json::json!({}))["detail"].clone();
    let mut zoe = detail("hire-finance-programmatic.json");
    zoe["userName"] = serde_json::json!("zoe");
    let roster = tests::scratch().join(format!("stages-{}.jsonl", acct.id));
    std::fs::write(&roster, format!("{}\n{zoe}\n", detail("hire-engineering.json"))).expect("roster");
    let roster = roster.to_str().expect("path");
    let import = |more: &[&str]| {
        let mut args = vec!["roster", "import", roster, "--format", "json"];
        args.extend(more);
        onboarding(&acct, &args, None)
    };

    // WHEN an id not on the roster is asked for THEN it is named, exit 2, and nothing is written
    let before = acct.recorded().len();
    let bad = import(&["--only", "E1002,E9", "--apply"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--only: E9 not on the roster; expected employee ids"), "{stderr}");
    let calls: Vec<String> = acct.recorded().into_iter().skip(before).map(|(a, _)| a).collect();
    assert!(!calls.iter().any(|a| ["Create", "Tag", "Update", "Add"].iter().any(|w| a.starts_with(w))), "{calls:?}");

    // WHEN only Zoë is imported THEN she is adopted and Jane's user is untouched
    let before = acct.recorded().len();
    let first = import(&["--only", "E1002", "--apply"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(
        columns(&first, &["plan", "employeeId", "userName", "outcome"]),
        [cells(&["adopt", "E1002", "zoe", "succeeded"])]
    );
    let touched: Vec<(String, String)> =
        acct.recorded().into_iter().skip(before).filter(|(_, body)| body.contains("jane.doe")).collect();
    assert!(touched.is_empty(), "Jane's user was not named in any call: {touched:?}");
    assert_eq!(tests::user_tags(&acct, "zoe").await.get("employee-id").map(String::as_str), Some("E1002"));
    assert!(tests::user_tags(&acct, "jane.doe").await.is_empty());

    // AND the next stage finds Zoë managed and adopts Jane
    let rest = import(&["--apply"]);
    assert!(rest.status.success(), "{}", String::from_utf8_lossy(&rest.stderr));
    assert_eq!(
        sorted_columns(&rest, &["plan", "employeeId", "outcome"]),
        [cells(&["adopt", "E1001", "succeeded"]), cells(&["managed", "E1002", "unchanged"])]
    );
}
