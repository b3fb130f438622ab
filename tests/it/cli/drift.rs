//! `onboarding drift`: HR's roster against the account.

use super::*;

/// HR's roster against IAM: every planted difference is found, and nothing else; the unmanaged
/// user is listed; nothing is changed.
#[tokio::test]
async fn drift_finds_each_planted_difference_and_nothing_else() {
    let acct = Account::new().await;
    bootstrapped(&acct).await;
    let files = [
        "events/hire-engineering.json",
        "events/hire-finance-programmatic.json",
        "events/hire-unmapped-department.json",
    ];
    let out = onboarding(&acct, &["run", files[0], files[1], files[2]], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let iam = acct.iam();
    let drift_of =
        |acct: &Account, roster: &str| onboarding(acct, &["--format", "json", "drift", "--roster", roster], None);
    // The roster: HR's records of the three hires, as they were sent.
    let detail = |f: &str| tests::event(f.trim_start_matches("events/"), serde_json::json!({}))["detail"].clone();
    let roster = tests::scratch().join(format!("roster-{}.jsonl", acct.id));
    let lines: Vec<String> = files.iter().map(|f| detail(f).to_string()).collect();
    std::fs::write(&roster, lines.join("\n")).expect("roster");
    let roster_path = roster.to_str().expect("path");
    let clean = drift_of(&acct, roster_path);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "no drift right after the hires: {}",
        String::from_utf8_lossy(&clean.stdout)
    );

    // Planted: Jane left a mapped group, got a department tag by hand and a key of her own; Zoë
    // joined a group outside the allow-list; María José got a policy on herself and is no longer
    // on HR's roster; a person on the roster has no user; a hand-made user under the path.
    let (jane, zoe, maria) = ("jane.doe", "zoe.obrien-nunez", "majo.garcia-lopez");
    iam.remove_user_from_group().user_name(jane).group_name("Developers").send().await.expect("leave");
    iam.tag_user()
        .user_name(jane)
        .tags(aws_sdk_iam::types::Tag::builder().key("department").value("Sales").build().expect("tag"))
        .send()
        .await
        .expect("tag");
    iam.create_access_key().user_name(jane).send().await.expect("key");
    iam.create_group().group_name("OnCall").send().await.expect("group");
    iam.add_user_to_group().user_name(zoe).group_name("OnCall").send().await.expect("join");
    let policy = iam.create_policy().policy_name("extra").policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#).send().await.expect("policy");
    iam.attach_user_policy()
        .user_name(maria)
        .policy_arn(policy.policy().and_then(|p| p.arn()).expect("arn"))
        .send()
        .await
        .expect("attach");
    iam.create_user().user_name("handmade").path("/employees/").send().await.expect("hand-made user");
    let mut newcomer = detail(files[0]);
    newcomer["employeeId"] = serde_json::json!("E7777");
    let lines = [lines[0].clone(), lines[1].clone(), newcomer.to_string()];
    std::fs::write(&roster, lines.join("\n")).expect("roster");

    let before = acct.recorded().len();
    let out = drift_of(&acct, roster_path);
    assert_eq!(out.status.code(), Some(1), "drift found");
    let found = sorted_columns(&out, &["kind", "employeeId", "userName"]);
    assert_eq!(
        found,
        vec![
            cells(&["access-key-not-granted", "E1001", jane]),
            cells(&["direct-policies", "E1003", maria]),
            cells(&["groups", "E1001", jane]),
            cells(&["groups-outside-allow-list", "E1002", zoe]),
            cells(&["missing-user", "E7777", ""]),
            cells(&["not-on-roster", "E1003", maria]),
            cells(&["tags", "E1001", jane]),
            cells(&["unmanaged", "", "handmade"]),
        ]
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(r#"missing [\"Developers\"]"#)
            && text.contains(r#"department: \"Sales\" should be \"Engineering\""#),
        "{text}"
    );
    // It changed nothing: the emulator's recording holds only reads since.
    let writes = ["Create", "Put", "Tag", "Untag", "Add", "Remove", "Delete", "Update", "Attach", "Detach", "Publish"];
    let calls: Vec<String> = acct.recorded().into_iter().skip(before).map(|(a, _)| a).collect();
    assert!(calls.iter().any(|a| a == "GetAccountAuthorizationDetails"), "{calls:?}");
    assert!(!calls.iter().any(|a| writes.iter().any(|w| a.starts_with(w))), "drift changes nothing: {calls:?}");

    // WHEN --fix: what this system owns is fixed, each by an audited event of its own (Jane's
    // groups and tags by a change, María, not on the roster, by an immediate departure); the
    // rest is report only.
    let before = acct.recorded().len();
    let fixed = onboarding(&acct, &["drift", "--format", "json", "--roster", roster_path, "--fix"], None);
    assert_eq!(fixed.status.code(), Some(1), "differences this system does not own are left");
    let fixes = sorted_columns(&fixed, &["kind", "employeeId", "fix"]);
    assert_eq!(
        fixes,
        vec![
            cells(&["access-key-not-granted", "E1001", "report only"]),
            cells(&["direct-policies", "E1003", "report only"]),
            cells(&["groups", "E1001", "succeeded"]),
            cells(&["groups-outside-allow-list", "E1002", "report only"]),
            cells(&["missing-user", "E7777", "report only"]),
            cells(&["not-on-roster", "E1003", "succeeded"]),
            cells(&["tags", "E1001", "succeeded"]),
            cells(&["unmanaged", "", "report only"]),
        ]
    );
    assert_eq!(tests::user_groups(&acct, jane).await, ["AllEmployees", "Developers"]);
    assert_eq!(tests::user_tags(&acct, jane).await.get("department").map(String::as_str), Some("Engineering"));
    assert_eq!(tests::user_tags(&acct, maria).await.get("lifecycle-status").map(String::as_str), Some("disabled"));
    // Jane's own key, Zoë's extra group, María's policy and the hand-made user are untouched.
    let calls = acct.recorded().into_iter().skip(before).collect::<Vec<_>>();
    let touched = |action: &str, what: &str| calls.iter().any(|(a, b)| a == action && b.contains(what));
    assert!(!touched("UpdateAccessKey", "UserName=jane.doe") && !touched("DeleteAccessKey", "UserName=jane.doe"));
    assert!(!touched("RemoveUserFromGroup", "GroupName=OnCall") && !touched("DetachUserPolicy", "UserName"));
    assert!(!calls.iter().any(|(_, b)| b.contains("handmade")), "the unmanaged user is never touched");
    // THEN a rerun finds only what this system does not own.
    let again = drift_of(&acct, roster_path);
    let mut left: Vec<String> =
        json_lines(&again).iter().map(|r| r["kind"].as_str().unwrap_or_default().to_owned()).collect();
    left.sort();
    assert_eq!(
        left,
        ["access-key-not-granted", "direct-policies", "groups-outside-allow-list", "missing-user", "unmanaged"]
    );

    // A glitch: a roster that lost everyone but a newcomer. The two remaining people would be
    // disabled; the mass-departure guard holds both for an operator instead.
    std::fs::write(&roster, newcomer.to_string()).expect("roster");
    let glitch = onboarding(&acct, &["drift", "--format", "json", "--roster", roster_path, "--fix"], None);
    assert_eq!(glitch.status.code(), Some(3), "{}", String::from_utf8_lossy(&glitch.stdout));
    let held: Vec<Value> = json_lines(&glitch).into_iter().filter(|r| r["kind"] == "not-on-roster").collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(held.iter().all(|r| r["fix"] == "quarantined"), "{held:?}");
    for user in [jane, zoe] {
        assert_eq!(tests::user_tags(&acct, user).await.get("lifecycle-status").map(String::as_str), Some("active"));
    }
}
