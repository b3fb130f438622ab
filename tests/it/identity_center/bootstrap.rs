//! `onboarding bootstrap` on Identity Center: the groups, permission sets and assignments made
//! once (checked through the APIs, and by `doctor`), and what it did not make left alone.

use super::*;

/// `onboarding doctor`'s verdict per check (exit 0 exactly when none failed).
fn doctor(acct: &Account, cfg: &PathBuf) -> BTreeMap<String, String> {
    let out = onboarding(acct, cfg, &["doctor", "--format", "json"]);
    let verdicts: BTreeMap<String, String> = json_lines(&out)
        .iter()
        .map(|c| (c["check"].as_str().unwrap_or("").to_owned(), c["verdict"].as_str().unwrap_or("").to_owned()))
        .collect();
    let failed = verdicts.values().any(|v| v == "failed");
    assert_eq!(out.status.code(), Some(if failed { 1 } else { 0 }), "{verdicts:?}");
    verdicts
}

/// The group ids a permission set is assigned to in an account.
async fn assigned(acct: &Account, instance: &str, account: &str, permission_set: &str) -> Vec<String> {
    let out = acct
        .sso_admin()
        .list_account_assignments()
        .instance_arn(instance)
        .account_id(account)
        .permission_set_arn(permission_set)
        .send()
        .await
        .expect("assignments");
    out.account_assignments().iter().filter_map(|a| a.principal_id().map(str::to_owned)).collect()
}

#[tokio::test]
async fn bootstrap_makes_the_groups_permission_sets_and_assignments_once() {
    let acct = Account::new().await;
    let cfg = config_file(&acct.id);
    let (instance, store) = instance(&acct).await;

    // `doctor` before: what bootstrap makes is missing (exit 1), one line each
    let before = doctor(&acct, &cfg);
    assert_eq!(before.get("sso group AllEmployees").map(String::as_str), Some("failed"), "{before:?}");
    assert_eq!(before.get("permission set Developers").map(String::as_str), Some("failed"), "{before:?}");
    assert_eq!(
        before.get("assignment Developers -> Developers in 111111111111").map(String::as_str),
        Some("not-checked")
    );
    assert_eq!(before.get("identity center instance").map(String::as_str), Some("ok"), "{before:?}");

    let first = onboarding(&acct, &cfg, &["bootstrap", "--format", "json"]);
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let second = onboarding(&acct, &cfg, &["bootstrap", "--format", "json"]);
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    // `doctor` after: every check passes but the permissions, which an emulator cannot tell
    let after = doctor(&acct, &cfg);
    let not_ok: Vec<_> = after.iter().filter(|(_, v)| *v != "ok").collect();
    assert_eq!(not_ok, [(&"permissions".to_owned(), &"not-checked".to_owned())], "{after:?}");
    assert_eq!(after.keys().filter(|k| k.starts_with("assignment ")).count(), 3, "{after:?}");
    let kinds = |out: &Output, created: bool| -> Vec<String> {
        json_lines(out)
            .iter()
            .filter(|i| i["created"] == created)
            .map(|i| format!("{} {}", i["kind"], i["name"]))
            .collect()
    };
    assert_eq!(kinds(&first, false), Vec::<String>::new(), "all new the first time");
    assert_eq!(kinds(&second, true), Vec::<String>::new(), "nothing new the second time");
    assert_eq!(
        json_lines(&second).len(),
        2 + 3 + 3 + 2 + 3,
        "topics, tables (tombstones, reviews, people), groups, permission sets, assignments"
    );

    // Through the APIs: each group once, described as bootstrap's; nothing made in IAM.
    let groups = groups(&acct, &store).await;
    let named: Vec<(&str, Option<&str>)> = groups.iter().map(|(n, d, _)| (n.as_str(), d.as_deref())).collect();
    assert_eq!(
        named,
        [("AllEmployees", Some(INSTALLED_BY)), ("Developers", Some(INSTALLED_BY)), ("Finance", Some(INSTALLED_BY))]
    );
    let iam_groups = acct.iam().list_groups().send().await.expect("iam groups");
    assert!(iam_groups.groups().is_empty(), "the IAM part is not the Identity Center target's");

    let sets = permission_sets(&acct, &instance).await;
    let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned();
    let power = "arn:aws:iam::aws:policy/PowerUserAccess".to_owned();
    let seen: Vec<_> = sets.iter().map(|(n, d, s, p, _)| (n.as_str(), d.as_str(), s.as_str(), p.clone())).collect();
    assert_eq!(
        seen,
        [
            ("Developers", INSTALLED_BY, "PT4H", vec![power, read_only.clone()]),
            ("Finance", INSTALLED_BY, "PT8H", vec![read_only]),
        ]
    );
    let id = |name: &str| groups.iter().find(|g| g.0 == name).map(|g| g.2.clone()).expect("group id");
    let (developers, finance) = (&sets[0].4, &sets[1].4);
    assert_eq!(assigned(&acct, &instance, "111111111111", developers).await, [id("Developers")]);
    assert_eq!(assigned(&acct, &instance, "222222222222", developers).await, [id("Developers")]);
    assert_eq!(assigned(&acct, &instance, "111111111111", finance).await, [id("Finance")]);
    assert!(assigned(&acct, &instance, "222222222222", finance).await.is_empty(), "only where configured");

    // WHEN the config gives Developers a shorter session and one more policy
    let changed = std::fs::read_to_string(&cfg).expect("config").replace("PT4H", "PT2H").replace(
        "\"arn:aws:iam::aws:policy/PowerUserAccess\"]",
        "\"arn:aws:iam::aws:policy/PowerUserAccess\", \"arn:aws:iam::aws:policy/SecurityAudit\"]",
    );
    std::fs::write(&cfg, changed).expect("write config");
    let stale = doctor(&acct, &cfg);
    assert_eq!(stale.get("permission set Developers").map(String::as_str), Some("failed"), "{stale:?}");
    assert_eq!(stale.get("permission set Finance").map(String::as_str), Some("ok"), "{stale:?}");
    let third = onboarding(&acct, &cfg, &["bootstrap", "--format", "json"]);
    assert_eq!(third.status.code(), Some(0), "{}", String::from_utf8_lossy(&third.stderr));
    // THEN the permission set bootstrap made is updated, still marked as its, and provisioned
    // again to its accounts (a change reaches none before that); Finance is left as it was
    let updated: Vec<String> = json_lines(&third)
        .iter()
        .filter(|i| i["updated"] == true)
        .map(|i| format!("{} {}", i["kind"], i["name"]))
        .collect();
    assert_eq!(updated, ["\"permission set\" \"Developers\""]);
    let after = permission_sets(&acct, &instance).await;
    assert_eq!((after[0].1.as_str(), after[0].2.as_str(), after[0].3.len()), (INSTALLED_BY, "PT2H", 3), "{after:?}");
    assert_eq!(after[1], sets[1], "Finance unchanged");
    let provisioned = acct
        .sso_admin()
        .list_permission_sets_provisioned_to_account()
        .instance_arn(&instance)
        .account_id("111111111111")
        .send()
        .await;
    let provisioned = provisioned.expect("provisioned");
    assert!(provisioned.permission_sets().contains(developers), "{provisioned:?}");
    assert!(!provisioned.permission_sets().contains(finance), "only what changed: {provisioned:?}");
}

#[tokio::test]
async fn bootstrap_uses_a_foreign_group_as_it_is_and_refuses_a_foreign_permission_set() {
    let acct = Account::new().await;
    let cfg = config_file(&acct.id);
    let (instance, store) = instance(&acct).await;
    // GIVEN a group of an allowed name made by someone else (Control Tower, by hand)
    let ids = acct.identity_store();
    let finance =
        ids.create_group().identity_store_id(&store).display_name("Finance").description("made by hand").send().await;
    let finance = finance.expect("foreign group").group_id().to_owned();
    // AND a permission set of a configured name made by someone else
    let sso = acct.sso_admin();
    let foreign = sso
        .create_permission_set()
        .instance_arn(&instance)
        .name("Developers")
        .description("theirs")
        .session_duration("PT1H")
        .send()
        .await;
    let foreign = foreign
        .expect("foreign permission set")
        .permission_set()
        .and_then(|p| p.permission_set_arn().map(str::to_owned));
    let foreign = foreign.expect("arn");

    // WHEN bootstrap runs, it refuses, naming the permission set, before making anything
    let refused = onboarding(&acct, &cfg, &["bootstrap"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("permission set `Developers`") && stderr.contains("identity_center.permission_sets"),
        "{stderr}"
    );
    let only_theirs = groups(&acct, &store).await;
    assert_eq!(only_theirs, [("Finance".to_owned(), Some("made by hand".to_owned()), finance.clone())]);
    let sets = permission_sets(&acct, &instance).await;
    assert_eq!(sets.len(), 1, "no permission set made: {sets:?}");
    assert!(sets[0].3.is_empty(), "theirs is not changed: {sets:?}");

    // WHEN theirs is renamed away (deleted here), bootstrap goes ahead and uses their group as it is
    sso.delete_permission_set().instance_arn(&instance).permission_set_arn(&foreign).send().await.expect("delete");
    let made = onboarding(&acct, &cfg, &["bootstrap"]);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stderr));
    let after = groups(&acct, &store).await;
    let theirs: Vec<_> = after.iter().filter(|g| g.0 == "Finance").collect();
    assert_eq!(theirs, [&("Finance".to_owned(), Some("made by hand".to_owned()), finance.clone())], "one, unchanged");
    let sets = permission_sets(&acct, &instance).await;
    let finance_set = &sets.iter().find(|s| s.0 == "Finance").expect("made").4;
    assert_eq!(assigned(&acct, &instance, "111111111111", finance_set).await, [finance]);
}
