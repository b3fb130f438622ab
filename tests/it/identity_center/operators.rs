//! The operator's and auditors' commands that read Identity Center: `audit access`, `roster
//! import`, `drift`, `status`.

use super::*;

/// `audit access` for Identity Center: each user of the identity store (made by anyone) with
/// their groups and the permission sets those give in each account the config assigns to, and
/// an assignment to the user itself; one manifest row count.
#[tokio::test]
async fn audit_access_lists_each_users_groups_and_what_they_give_per_account() {
    use aws_sdk_identitystore::types::{Email, MemberId, Name};
    use aws_sdk_ssoadmin::types::{PrincipalType, TargetType};

    let acct = Account::new().await;
    let cfg = config_file(&format!("access-{}", acct.id));
    let made = onboarding(&acct, &cfg, &["bootstrap"]);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stderr));
    let (instance, store) = instance(&acct).await;
    let ids = acct.identity_store();
    let user = |name: &'static str, given: &'static str| {
        let ids = ids.clone();
        let store = store.clone();
        async move {
            let person = Name::builder().given_name(given).family_name("Example").build();
            let email = Email::builder().value(format!("{name}@example.com")).primary(true).build();
            let out = ids
                .create_user()
                .identity_store_id(&store)
                .user_name(name)
                .display_name(format!("{given} Example"))
                .name(person)
                .emails(email)
                .send()
                .await
                .expect("user");
            out.user_id().to_owned()
        }
    };
    let (jane, bob, _carol) = (user("jane", "Jane").await, user("bob", "Bob").await, user("carol", "Carol").await);
    let all = groups(&acct, &store).await;
    let group = |name: &str| all.iter().find(|g| g.0 == name).map(|g| g.2.clone()).expect("group");
    for (who, g) in [(&jane, "Developers"), (&bob, "Developers"), (&bob, "Finance")] {
        let group_id = group(g);
        ids.create_group_membership()
            .identity_store_id(&store)
            .group_id(group_id)
            .member_id(MemberId::UserId(who.clone()))
            .send()
            .await
            .expect("membership");
    }
    let finance = permission_sets(&acct, &instance).await.into_iter().find(|p| p.0 == "Finance").expect("ps").4;
    acct.sso_admin()
        .create_account_assignment()
        .instance_arn(&instance)
        .target_id("222222222222")
        .target_type(TargetType::AwsAccount)
        .permission_set_arn(&finance)
        .principal_type(PrincipalType::User)
        .principal_id(&bob)
        .send()
        .await
        .expect("a direct assignment");

    // This system's records: Jane's names her user; Bob's names his id under another name (he
    // was renamed outside this system); Carol has none.
    let people = shared::aws::people::People::of(&acct.sdk);
    let record = |employee: &str, id: &str, name: &str| shared::aws::people::PersonRecord {
        employee_id: employee.into(),
        user_id: id.into(),
        user_name: name.into(),
        since: chrono::Utc::now(),
        origin: shared::aws::people::Origin::Created,
        lifecycle: BTreeMap::from([("status".to_owned(), "active".to_owned())]),
    };
    assert!(people.claim("employee-lifecycle-people", &record("E1", &jane, "jane")).await.expect("claim"));
    assert!(people.claim("employee-lifecycle-people", &record("E2", &bob, "bob.old")).await.expect("claim"));

    let out = onboarding(&acct, &cfg, &["audit", "access", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = json_lines(&out);
    let owned: Vec<(&str, &Value, &Value)> =
        rows.iter().map(|r| (r["userName"].as_str().unwrap_or(""), &r["employeeId"], &r["managed"])).collect();
    assert_eq!(
        owned,
        [
            ("bob", &Value::from("E2"), &Value::from(false)),
            ("carol", &Value::Null, &Value::from(false)),
            ("jane", &Value::from("E1"), &Value::from(true)),
        ]
    );
    let seen: Vec<(&str, Vec<&str>, Vec<&str>)> = rows
        .iter()
        .map(|r| {
            let list = |k: &str| r[k].as_array().expect("list").iter().filter_map(Value::as_str).collect::<Vec<_>>();
            (r["userName"].as_str().unwrap_or(""), list("groups"), list("access"))
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "bob",
                vec!["Developers", "Finance"],
                vec![
                    "Developers in 111111111111 via Developers",
                    "Developers in 222222222222 via Developers",
                    "Finance in 111111111111 via Finance",
                    "Finance in 222222222222 directly",
                ]
            ),
            ("carol", vec![], vec![]),
            (
                "jane",
                vec!["Developers"],
                vec!["Developers in 111111111111 via Developers", "Developers in 222222222222 via Developers"]
            ),
        ]
    );
    assert_eq!(rows[0]["email"], "bob@example.com");
    let manifest: Value = serde_json::from_slice(&out.stderr).expect("the manifest on stderr");
    assert_eq!(manifest["records"], 3);
    assert!(manifest["source"].as_str().is_some_and(|s| s.contains("111111111111, 222222222222")), "{manifest}");
    let csv = onboarding(&acct, &cfg, &["audit", "access", "--format", "csv"]);
    let text = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert!(text.starts_with("userName,employeeId,managed,displayName,email,groups,access\r\n"), "{text}");
}

/// Issue #22 item 7: `roster import` adopts Identity Center users made by hand (by user name or
/// email, a person two users could be refused as ambiguous) and creates the missing, through the
/// same plan as IAM's; `drift` reports against the identity store and `status` reads a person
/// there. Checked through the Identity Store API and the people table.
#[tokio::test]
async fn roster_import_adopts_identity_center_users_and_drift_and_status_read_the_store() {
    use shared::aws::people::People;
    // GIVEN Identity Center bootstrapped, and users made by hand before this system: Jane's
    // (`jdoe`, her work email) in a group outside the mapping, two that could both be Ann Lee, and
    // an administrator nobody's roster names.
    let acct = Account::new().await;
    let (cfg, store) = bootstrapped_beside_a_foreign_group(&acct, "roster").await;
    let jdoe = someone_else(&acct, &store, "jdoe", "Jane Doe", "jane.doe@example.com").await;
    add_by_hand(&acct, &store, "AWSControlTowerAdmins", &jdoe).await;
    let ann = someone_else(&acct, &store, "ann.lee", "Ann Lee", "ann@elsewhere.example").await;
    let alee = someone_else(&acct, &store, "alee", "Ann Lee", "ann.lee@example.com").await;
    let admin = someone_else(&acct, &store, "ops.admin", "Ops Admin", "ops@example.com").await;
    let detail = |f: &str| tests::event(f, serde_json::json!({}))["detail"].clone();
    let mut ann_row = detail("hire-engineering.json");
    ann_row["employeeId"] = serde_json::json!("E3002");
    (ann_row["givenName"], ann_row["familyName"], ann_row["email"]) =
        ("Ann".into(), "Lee".into(), "ann.lee@example.com".into());
    let mut neo = detail("hire-finance-programmatic.json");
    neo["employeeId"] = serde_json::json!("E7777");
    (neo["givenName"], neo["familyName"], neo["email"]) = ("Neo".into(), "Hire".into(), "neo@example.com".into());
    neo.as_object_mut().expect("detail").remove("preferredName");
    let rows = [detail("hire-engineering.json"), ann_row, neo];
    let roster = scratch().join(format!("ic-roster-{}.jsonl", acct.id));
    std::fs::write(&roster, rows.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("\n")).expect("roster");
    let roster = roster.to_str().expect("path");
    let import = |more: &[&str]| {
        let mut args = vec!["roster", "import", roster, "--format", "json"];
        args.extend(more);
        let out = onboarding(&acct, &cfg, &args);
        let rows: Vec<(String, String, String, String, String)> = json_lines(&out)
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                (s("plan"), s("employeeId"), s("userName"), s("outcome"), s("detail"))
            })
            .collect();
        (out, rows)
    };

    // WHEN the import plans THEN Jane's user is adopted by her email, Ann is ambiguous, Neo is
    // created; nothing is written
    let before = acct.recorded().len();
    let (out, plan) = import(&[]);
    assert_eq!(out.status.code(), Some(1), "an ambiguous person: {}", String::from_utf8_lossy(&out.stderr));
    let verdicts: Vec<(&str, &str, &str)> = plan.iter().map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str())).collect();
    assert_eq!(
        verdicts,
        [("adopt", "E1001", "jdoe"), ("ambiguous", "E3002", "alee ann.lee"), ("create", "E7777", "neo.hire")]
    );
    let adoption = &plan[0].4;
    for said in ["matched by its email tag", "a people record naming it", "joins AllEmployees, Developers"] {
        assert!(adoption.contains(said), "{said:?} not in {adoption:?}");
    }
    assert!(
        adoption.contains("keeps their Identity Center sign-in") && adoption.contains("group AWSControlTowerAdmins")
    );
    let writes = |from: usize| -> Vec<String> {
        acct.recorded()[from..]
            .iter()
            .map(|(a, _)| a.clone())
            .filter(|a| ["Create", "Put", "Update", "Delete"].iter().any(|w| a.contains(w)))
            .collect()
    };
    assert!(writes(before).is_empty(), "a plan writes nothing: {:?}", writes(before));

    // WHEN it applies THEN Jane's hand-made user is this system's (a people record names it, her
    // mapped groups joined, the foreign one kept), Neo has a new user, Ann's two are untouched
    let (out, applied) = import(&["--apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let outcomes: Vec<(&str, &str)> = applied.iter().map(|r| (r.1.as_str(), r.3.as_str())).collect();
    assert_eq!(outcomes, [("E1001", "succeeded"), ("E3002", "skipped"), ("E7777", "succeeded")]);
    let people = People::of(&acct.sdk);
    let record = people.get("employee-lifecycle-people", "E1001").await.expect("read").expect("a record");
    assert_eq!((record.user_id.as_str(), record.user_name.as_str()), (jdoe.as_str(), "jdoe"));
    assert_eq!(record.origin.as_str(), "adopted");
    assert_eq!(memberships(&acct, &store, &jdoe).await, ["AWSControlTowerAdmins", "AllEmployees", "Developers"]);
    let users = store_users(&acct, &store).await;
    assert_eq!(users.len(), 5, "one new user (Neo's), no other: {users:?}");
    assert!(users.values().any(|u| u.0 == "neo.hire"));
    for hand_made in [&ann, &alee, &admin] {
        assert!(memberships(&acct, &store, hand_made).await.is_empty(), "{hand_made} untouched");
    }
    // A rerun changes nothing: Jane is managed now.
    let before = acct.recorded().len();
    let (_, again) = import(&["--apply"]);
    assert_eq!((again[0].0.as_str(), again[0].3.as_str()), ("managed", "unchanged"));
    assert!(writes(before).is_empty(), "a rerun writes nothing: {:?}", writes(before));

    // WHEN Jane's mapped group is changed by hand and drift reads the store
    add_by_hand(&acct, &store, "Finance", &jdoe).await;
    let out = onboarding(&acct, &cfg, &["drift", "--roster", roster, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let drifts: Vec<(String, String, String)> = json_lines(&out)
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("kind"), s("employeeId"), s("userName"))
        })
        .collect();
    // THEN it names Jane's group drift and the foreign group, Ann's missing user, and lists the
    // users that are not this system's
    for expected in [
        ("groups", "E1001", "jdoe"),
        ("groups-outside-allow-list", "E1001", "jdoe"),
        ("missing-user", "E3002", ""),
        ("unmanaged", "", "ops.admin"),
    ] {
        assert!(
            drifts.iter().any(|d| (d.0.as_str(), d.1.as_str(), d.2.as_str()) == expected),
            "{expected:?} not in {drifts:?}"
        );
    }
    assert!(!drifts.iter().any(|d| d.1 == "E7777"), "Neo is as the roster says: {drifts:?}");

    // AND status reads Jane from the store
    let out = onboarding(&acct, &cfg, &["status", "E1001", "--format", "json"]);
    ok(&out);
    let status: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("json");
    assert_eq!(status["userName"], "jdoe", "{status}");
    assert_eq!(status["status"], "active", "{status}");
    let groups: Vec<&str> =
        status["groups"].as_array().expect("groups").iter().filter_map(|g| g["group"].as_str()).collect();
    assert_eq!(groups, ["AWSControlTowerAdmins", "AllEmployees", "Developers", "Finance"], "{status}");
}
