//! The joiner, the mover and the leaver on Identity Center through the same flows as IAM's:
//! the whole lifecycle, the guard, rehire, and users this system does not own.

use super::*;

/// The joiner, the mover and the leaver on Identity Center, through the same flows as IAM's,
/// checked through the Identity Store and sso-admin APIs and the requests the emulator received:
/// a hire becomes one user (names, work email, title) in its mapped groups, with a people record
/// naming it and no secret or IAM user anywhere; a resend changes nothing; a transfer regroups it,
/// keeping a membership in a group outside the mapping (a Control-Tower-style one); an immediate
/// departure denies the user in every managed permission set, provisions them again, then ends
/// every membership the user has (someone else's are untouched); a resend writes nothing; the
/// sweep keeps the leaver denied while a session could live. (The whole lifecycle with the
/// sweep's dates: `one_person_on_identity_center_from_pre_hire_to_deletion_and_rehire`.)
#[tokio::test]
async fn joiner_mover_and_leaver_reach_identity_center_through_the_same_flows() {
    use shared::aws::people::People;
    let acct = Account::new().await;
    let (cfg, store) = bootstrapped_beside_a_foreign_group(&acct, "joiner").await;

    ok(&onboarding(&acct, &cfg, &["run", "events/hire-engineering.json"]));
    let users = store_users(&acct, &store).await;
    assert_eq!(users.len(), 1, "{users:?}");
    let (jane, row) = users.iter().next().expect("one user");
    let expected = ("jane.doe", "Jane Doe", "jane.doe@example.com", "Software Engineer");
    assert_eq!((row.0.as_str(), row.1.as_str(), row.2.as_str(), row.3.as_str()), expected);
    assert_eq!(memberships(&acct, &store, jane).await, ["AllEmployees", "Developers"]);
    let people = People::of(&acct.sdk);
    let record = people.get("employee-lifecycle-people", "E1001").await.expect("read").expect("a record");
    assert_eq!((record.user_id.as_str(), record.user_name.as_str()), (jane.as_str(), "jane.doe"));
    assert_eq!(record.lifecycle.get("lifecycle-status").map(String::as_str), Some("active"));
    assert!(record.lifecycle.contains_key("welcome-sent"), "the welcome went out: {:?}", record.lifecycle);
    let iam_users = acct.iam().list_users().path_prefix("/employees/").send().await.expect("iam users");
    assert!(iam_users.users().is_empty(), "no IAM user for an Identity Center hire");
    let secrets = acct.secrets().list_secrets().send().await.expect("secrets");
    assert!(secrets.secret_list().is_empty(), "no credential is made: the person sets their own password");

    // Someone else adds the person to a group outside the mapping.
    add_by_hand(&acct, &store, "AWSControlTowerAdmins", jane).await;
    ok(&onboarding(&acct, &cfg, &["run", "events/hire-engineering.json"]));
    assert_eq!(store_users(&acct, &store).await.len(), 1, "a resend makes no second user");
    assert_eq!(memberships(&acct, &store, jane).await, ["AWSControlTowerAdmins", "AllEmployees", "Developers"]);

    ok(&onboarding(&acct, &cfg, &["run", "events/change-transfer.json"]));
    assert_eq!(memberships(&acct, &store, jane).await, ["AWSControlTowerAdmins", "AllEmployees", "Finance"]);
    let record = people.get("employee-lifecycle-people", "E1001").await.expect("read").expect("a record");
    assert_eq!(record.lifecycle.get("department").map(String::as_str), Some("Finance"));
    assert_eq!(record.user_id, *jane, "the same user: never deleted and made again");

    // Someone else's user in the Control-Tower-style group and in a mapped one: never touched.
    let bob = someone_else(&acct, &store, "bob.other", "Bob Other", "bob@example.com").await;
    add_by_hand(&acct, &store, "AWSControlTowerAdmins", &bob).await;
    add_by_hand(&acct, &store, "Developers", &bob).await;

    // A departure whose access ends later: the date goes on the record for the sweep, nothing else.
    let later = departure(&acct, "2030-06-28", false);
    ok(&onboarding(&acct, &cfg, &["run", later.to_str().expect("path")]));
    let record = people.get("employee-lifecycle-people", "E1001").await.expect("read").expect("a record");
    assert_eq!(record.lifecycle.get("disable-at").map(String::as_str), Some("2030-06-29T00:00:00Z"));
    assert_eq!(memberships(&acct, &store, jane).await, ["AWSControlTowerAdmins", "AllEmployees", "Finance"]);

    // At once: denied in every managed permission set, which are provisioned again, then out of
    // every group, the Control-Tower-style one included; the user is kept for the grace period.
    let instance = instance(&acct).await.0;
    let sets = permission_sets(&acct, &instance).await;
    let now = departure(&acct, "2026-11-27", true);
    let before = acct.recorded().len();
    ok(&onboarding(&acct, &cfg, &["run", now.to_str().expect("path")]));
    assert!(memberships(&acct, &store, jane).await.is_empty(), "a leaver keeps no group");
    assert_eq!(memberships(&acct, &store, &bob).await, ["AWSControlTowerAdmins", "Developers"]);
    for (name, _, _, _, arn) in &sets {
        let policy = acct
            .sso_admin()
            .get_inline_policy_for_permission_set()
            .instance_arn(&instance)
            .permission_set_arn(arn)
            .send()
            .await
            .expect("inline policy");
        let document: Value = serde_json::from_str(policy.inline_policy().unwrap_or("{}")).expect("json");
        let denied = shared::policies::users_denied(&document);
        assert_eq!(denied.iter().map(String::as_str).collect::<Vec<_>>(), [jane.as_str()], "{name}: {document}");
    }
    let calls: Vec<(String, String)> = acct.recorded().split_off(before);
    let position = |action: &str, arn: &str| {
        calls
            .iter()
            .position(|(a, body)| a.ends_with(action) && body.contains(arn))
            .unwrap_or_else(|| panic!("no {action} for {arn}: {:?}", calls.iter().map(|c| &c.0).collect::<Vec<_>>()))
    };
    for (_, _, _, _, arn) in &sets {
        assert!(position("PutInlinePolicyToPermissionSet", arn) < position("ProvisionPermissionSet", arn));
        let first_leave = calls.iter().position(|(a, _)| a.ends_with("DeleteGroupMembership")).expect("left");
        assert!(position("ProvisionPermissionSet", arn) < first_leave, "the deny first, then the groups");
    }
    let record = people.get("employee-lifecycle-people", "E1001").await.expect("read").expect("a record");
    assert_eq!(record.lifecycle.get("lifecycle-status").map(String::as_str), Some("disabled"));
    assert!(record.lifecycle.contains_key("access-revoked") && record.lifecycle.contains_key("delete-at"));
    assert!(store_users(&acct, &store).await.contains_key(jane), "kept until the grace period ends");

    // A resend changes nothing.
    let before = acct.recorded().len();
    ok(&onboarding(&acct, &cfg, &["run", now.to_str().expect("path")]));
    let writes: Vec<String> = acct.recorded()[before..]
        .iter()
        .map(|(a, _)| a.clone())
        .filter(|a| ["Put", "Provision", "Delete", "Create", "UpdateItem"].iter().any(|w| a.contains(w)))
        .collect();
    assert!(writes.is_empty(), "a resent departure writes nothing: {writes:?}");

    // The sweep within the longest session after the departure keeps the leaver denied.
    ok(&onboarding(&acct, &cfg, &["sweep"]));
    assert!(denied(&acct, &instance).await.values().all(|d| d == std::slice::from_ref(jane)));
    // A sweep told it is past the grace period still does not delete the user (and so its record,
    // which the deny list is read from) until the deny window (9 hours) of real time has passed.
    let early = onboarding(&acct, &cfg, &["sweep", "--now", "2030-01-01T00:00:00Z", "--allow-future-now"]);
    let said = String::from_utf8_lossy(&early.stdout);
    assert_eq!(early.status.code(), Some(1), "{said}");
    assert!(said.contains("deleted no earlier than"), "{said}");
    assert!(store_users(&acct, &store).await.contains_key(jane), "not deleted yet");
    assert!(denied(&acct, &instance).await.values().all(|d| d == std::slice::from_ref(jane)));
}

/// The mass-departure guard and a rehire on Identity Center: three departures in one run over
/// `max_disables = 2` change nothing and exit 3 (quarantined); the operator releases two through
/// `onboarding quarantine` (each denied in both permission sets, out of their groups) and
/// discards the third (access kept); a genuine rehire of one gets the same user back in its
/// groups, and the permission sets stop denying it at once while still denying the other.
#[tokio::test]
async fn the_guard_holds_a_mass_departure_and_a_rehire_is_no_longer_denied() {
    let acct = Account::new().await;
    let cfg = config_file(&format!("guard-{}", acct.id));
    let text = std::fs::read_to_string(&cfg).expect("config");
    let text = text
        .replace("max_disables = 10", "max_disables = 2")
        .replace("max_disable_percent = 10", "max_disable_percent = 100");
    std::fs::write(&cfg, text).expect("write config");
    ok(&onboarding(&acct, &cfg, &["bootstrap"]));
    let (instance, store) = instance(&acct).await;
    let people = [("E3001", "Anna"), ("E3002", "Boris"), ("E3003", "Chen")];
    let hires: Vec<PathBuf> =
        people.iter().map(|(id, given)| event(&acct, id, given, "2026-11-20T09:00:00Z")).collect();
    let departures: Vec<PathBuf> = people.iter().map(|(id, _)| event(&acct, id, "", "2026-11-27T09:00:00Z")).collect();
    let paths = |files: &[PathBuf]| files.iter().map(|p| p.to_str().expect("path").to_owned()).collect::<Vec<_>>();
    let args = |first: &[&str], files: &[PathBuf]| {
        let mut a: Vec<String> = first.iter().map(|s| s.to_string()).collect();
        a.extend(paths(files));
        a
    };
    let run = |a: Vec<String>| onboarding(&acct, &cfg, &a.iter().map(String::as_str).collect::<Vec<_>>());
    ok(&run(args(&["run"], &hires)));
    let users = store_users(&acct, &store).await;
    let id_of = |name: &str| users.iter().find(|(_, u)| u.0 == name).map(|(id, _)| id.clone()).expect("user");
    let ids = [id_of("anna.doe"), id_of("boris.doe"), id_of("chen.doe")];

    let held = run(args(&["run", "--format", "json"], &departures));
    assert_eq!(held.status.code(), Some(3), "{}", String::from_utf8_lossy(&held.stdout));
    assert!(
        json_lines(&held).iter().all(|r| r["outcome"] == "quarantined"),
        "{}",
        String::from_utf8_lossy(&held.stdout)
    );
    for id in &ids {
        assert_eq!(memberships(&acct, &store, id).await, ["AllEmployees", "Developers"], "held: untouched");
    }
    assert!(denied(&acct, &instance).await.values().all(Vec::is_empty), "held: nobody denied");

    // The operator lists them, releases Anna, discards Boris's, then releases the rest.
    let listed = json_lines(&run(args(&["quarantine", "list", "--format", "json"], &[])));
    let mut held_ids: Vec<&str> = listed.iter().filter_map(|h| h["employeeId"].as_str()).collect();
    held_ids.sort();
    assert_eq!(held_ids, ["E3001", "E3002", "E3003"]);
    ok(&run(args(&["quarantine", "release", "E3001"], &[])));
    ok(&run(args(&["quarantine", "discard", "E3002"], &[])));
    ok(&run(args(&["quarantine", "release", "--all"], &[])));
    let mut leavers = vec![ids[0].clone(), ids[2].clone()];
    leavers.sort();
    for (name, list) in denied(&acct, &instance).await {
        let mut list = list;
        list.sort();
        assert_eq!(list, leavers, "{name}: the released are denied, the discarded is not");
    }
    assert!(memberships(&acct, &store, &ids[0]).await.is_empty());
    assert!(memberships(&acct, &store, &ids[2]).await.is_empty());
    assert_eq!(memberships(&acct, &store, &ids[1]).await, ["AllEmployees", "Developers"], "discarded: kept");
    assert!(json_lines(&run(args(&["quarantine", "list", "--format", "json"], &[]))).is_empty());

    // Anna is genuinely rehired (a newer hire): the same user, back in her groups, denied nowhere.
    ok(&run(args(&["run"], &[event(&acct, "E3001", "Anna", "2026-11-28T09:00:00Z")])));
    assert_eq!(store_users(&acct, &store).await.len(), 3, "the same user back, not a second one");
    assert_eq!(memberships(&acct, &store, &ids[0]).await, ["AllEmployees", "Developers"]);
    for (name, list) in denied(&acct, &instance).await {
        assert_eq!(list, [ids[2].clone()], "{name}: the rehire is no longer denied, the other leaver still is");
    }
    let record = shared::aws::people::People::of(&acct.sdk).get("employee-lifecycle-people", "E3001").await;
    let record = record.expect("read").expect("record");
    assert_eq!(record.lifecycle.get("lifecycle-status").map(String::as_str), Some("active"));
    assert!(!record.lifecycle.contains_key("access-revoked"), "{:?}", record.lifecycle);
}

/// The whole lifecycle on Identity Center, with the sweep's dates, checked through the Identity
/// Store and sso-admin APIs and the people and tombstone tables: a pre-hire is a user in no group
/// until its activation (three lead days), when it joins its groups and is welcomed; a scheduled
/// departure is done by the sweep on its date (denied in every managed permission set, out of
/// every group); the deny entry stays while a session could live (the longest permission set's
/// session plus an hour: 9 hours) and is pruned after;
/// after the grace period the user and its record go and a tombstone stays, so a replayed hire
/// makes nothing, and a genuine rehire makes a new user.
#[tokio::test]
async fn one_person_on_identity_center_from_pre_hire_to_deletion_and_rehire() {
    use shared::drivers::sweep::SweepOutcome;
    let acct = Account::new().await;
    let cfg = config_file(&format!("lifecycle-{}", acct.id));
    let text = std::fs::read_to_string(&cfg).expect("config").replace("lead_days = 0", "lead_days = 3");
    std::fs::write(&cfg, text).expect("write config");
    ok(&onboarding(&acct, &cfg, &["bootstrap"]));
    let ctx = connected(&acct, &cfg).await;
    let (instance, store) = instance(&acct).await;
    let people = shared::aws::people::People::of(&acct.sdk);
    let record = || async { people.get("employee-lifecycle-people", "E5001").await.expect("read") };
    let status = |r: &shared::aws::people::PersonRecord| r.lifecycle.get("lifecycle-status").cloned();

    // Announced two months ahead: the user now, no group (the groups are the access), no welcome.
    let r = twice(&ctx, "2031-01-05T10:00:00Z", &jane_hired("h1", "2031-01-05T09:00:00Z", "2031-03-10")).await;
    assert_eq!(r.status.as_deref(), Some("pending"));
    let jane = record().await.expect("record").user_id;
    assert_eq!(store_users(&acct, &store).await[&jane].0, "jane.doe");
    assert!(memberships(&acct, &store, &jane).await.is_empty(), "a pre-hire joins no group yet");
    let r = record().await.expect("record");
    assert_eq!(r.lifecycle.get("activate-at").map(String::as_str), Some("2031-03-07T00:00:00Z"));
    assert!(!r.lifecycle.contains_key("welcome-sent"));

    // The sweep before the lead time does nothing; at it, the groups and the welcome, once.
    assert!(sweep_at(&ctx, "2031-03-06T23:59:59Z").await.items.is_empty());
    let s = sweep_at(&ctx, "2031-03-07T00:00:00Z").await;
    assert_eq!(
        s.items.iter().map(|i| (i.outcome, i.status.as_str())).collect::<Vec<_>>(),
        [(SweepOutcome::Succeeded, "active")]
    );
    assert_eq!(memberships(&acct, &store, &jane).await, ["AllEmployees", "Developers"]);
    let r = record().await.expect("record");
    assert_eq!(status(&r).as_deref(), Some("active"));
    assert!(r.lifecycle.contains_key("welcome-sent") && !r.lifecycle.contains_key("activate-at"));
    assert!(sweep_at(&ctx, "2031-03-07T00:00:00Z").await.items.is_empty(), "activated once");

    // Leaving on 2031-04-30: the date on the record; the sweep ends access on it.
    let leave = hr(
        "Employee Departed",
        "2031-04-01T09:00:00Z",
        serde_json::json!({"eventId": "d1", "employeeId": "E5001", "lastDay": "2031-04-30", "immediate": false}),
    );
    twice(&ctx, "2031-04-01T10:00:00Z", &leave).await;
    assert_eq!(
        record().await.expect("record").lifecycle.get("disable-at").map(String::as_str),
        Some("2031-05-01T00:00:00Z")
    );
    assert_eq!(memberships(&acct, &store, &jane).await, ["AllEmployees", "Developers"], "until the last day");
    assert!(denied(&acct, &instance).await.values().all(Vec::is_empty));
    let s = sweep_at(&ctx, "2031-05-01T00:00:00Z").await;
    assert_eq!(s.items.iter().map(|i| i.status.as_str()).collect::<Vec<_>>(), ["disabled"]);
    assert!(memberships(&acct, &store, &jane).await.is_empty());
    assert!(denied(&acct, &instance).await.values().all(|d| d == std::slice::from_ref(&jane)));

    // Denied while a session could still live (the sample's longest is Finance's PT8H, plus an
    // hour); pruned after, and nothing else changes.
    sweep_at(&ctx, "2031-05-01T08:59:00Z").await;
    assert!(denied(&acct, &instance).await.values().all(|d| d == std::slice::from_ref(&jane)));
    sweep_at(&ctx, "2031-05-01T09:01:00Z").await;
    assert!(denied(&acct, &instance).await.values().all(Vec::is_empty), "pruned after 9 hours");
    assert_eq!(status(&record().await.expect("record")).as_deref(), Some("disabled"));
    assert!(store_users(&acct, &store).await.contains_key(&jane), "kept for the grace period");

    // After the grace period (30 days): the user and its record go, a tombstone stays.
    assert!(sweep_at(&ctx, "2031-05-30T23:59:00Z").await.items.is_empty());
    let s = sweep_at(&ctx, "2031-05-31T00:00:00Z").await;
    assert_eq!(s.items.iter().map(|i| i.status.as_str()).collect::<Vec<_>>(), ["deleted"]);
    assert!(store_users(&acct, &store).await.is_empty(), "the user is gone");
    assert!(record().await.is_none(), "and its record");
    let tombstone = ctx.aws.tombstones.get("employee-lifecycle-tombstones", "E5001").await.expect("read");
    assert_eq!(tombstone.expect("a tombstone").user_name, "jane.doe");
    assert!(sweep_at(&ctx, "2031-05-31T00:00:00Z").await.items.is_empty(), "deleted once");

    // The archive replayed: the old hire makes nothing. A genuine rehire makes a new user.
    let replay = shared::pipeline::process(
        &shared::steps::Ctx { now: Some(at("2031-06-02T10:00:00Z")), ..ctx.clone() },
        &jane_hired("h1", "2031-01-05T09:00:00Z", "2031-03-10"),
    )
    .await;
    assert!(replay.reason.as_deref().is_some_and(|r| r.contains("deleted")), "{replay:?}");
    assert!(store_users(&acct, &store).await.is_empty(), "a replay brings nobody back");
    let r = twice(&ctx, "2031-07-01T10:00:00Z", &jane_hired("h2", "2031-07-01T09:00:00Z", "2031-07-01")).await;
    assert_eq!(r.status.as_deref(), Some("active"));
    let again = record().await.expect("a new record").user_id;
    assert_ne!(again, jane, "a new user");
    assert_eq!(memberships(&acct, &store, &again).await, ["AllEmployees", "Developers"]);
}

/// Names on Identity Center: a user of the hire's name that this system does not own is skipped
/// (the hire gets the next variant) and never touched; a hire interrupted between claiming its
/// record and binding its user resumes with the claimed name and makes no second user; a claimed
/// name someone else took in between moves the claim on.
#[tokio::test]
async fn an_unowned_user_of_the_same_name_is_skipped_and_an_interrupted_hire_resumes() {
    use shared::aws::people::{Origin, People, PersonRecord};
    let acct = Account::new().await;
    let cfg = config_file(&format!("names-{}", acct.id));
    ok(&onboarding(&acct, &cfg, &["bootstrap"]));
    let (_, store) = instance(&acct).await;
    let table = "employee-lifecycle-people";
    let people = People::of(&acct.sdk);

    let foreign = someone_else(&acct, &store, "jane.doe", "Jane Doe", "jane.other@example.com").await;
    add_by_hand(&acct, &store, "Developers", &foreign).await;
    // E2077's hire claimed `jane.doe2` and made the user, then stopped before binding it.
    let pending = PersonRecord {
        employee_id: "E2077".into(),
        user_id: String::new(),
        user_name: "jane.doe2".into(),
        since: chrono::Utc::now(),
        origin: Origin::Created,
        lifecycle: BTreeMap::new(),
    };
    assert!(people.claim(table, &pending).await.expect("claim"));
    let made_before = someone_else(&acct, &store, "jane.doe2", "Jane Doe", "jane.doe2@example.com").await;
    // E1001's record claims `jane.doe3`, which someone else takes before the user is made.
    let claimed = PersonRecord { employee_id: "E1001".into(), user_name: "jane.doe3".into(), ..pending.clone() };
    assert!(people.claim(table, &claimed).await.expect("claim"));
    let squatter = someone_else(&acct, &store, "jane.doe3", "Jane Doe", "squatter@example.com").await;

    ok(&onboarding(&acct, &cfg, &["run", "events/hire-same-name.json", "events/hire-engineering.json"]));
    let users = store_users(&acct, &store).await;
    let by_name: BTreeMap<&str, &str> = users.iter().map(|(id, u)| (u.0.as_str(), id.as_str())).collect();
    assert_eq!(by_name.keys().copied().collect::<Vec<_>>(), ["jane.doe", "jane.doe2", "jane.doe3", "jane.doe4"]);
    assert_eq!(by_name["jane.doe2"], made_before, "the interrupted hire's user, bound, not made twice");
    let e2077 = people.get(table, "E2077").await.expect("read").expect("record");
    assert_eq!((e2077.user_id.as_str(), e2077.user_name.as_str()), (made_before.as_str(), "jane.doe2"));
    let e1001 = people.get(table, "E1001").await.expect("read").expect("record");
    assert_eq!((e1001.user_id.as_str(), e1001.user_name.as_str()), (by_name["jane.doe4"], "jane.doe4"));
    assert_eq!(users[by_name["jane.doe4"]].2, "jane.doe@example.com");
    assert_eq!(memberships(&acct, &store, &made_before).await, ["AllEmployees", "Finance"]);
    assert_eq!(memberships(&acct, &store, by_name["jane.doe4"]).await, ["AllEmployees", "Developers"]);
    // The users this system does not own: unchanged, in their groups as they were.
    assert_eq!(memberships(&acct, &store, &foreign).await, ["Developers"]);
    assert!(memberships(&acct, &store, &squatter).await.is_empty());
    assert_eq!(users[&foreign], ("jane.doe".into(), "Jane Doe".into(), "jane.other@example.com".into(), String::new()));
}
