//! The Identity Center target: `onboarding bootstrap` makes the groups, permission sets and
//! assignments (checked through the Identity Store and sso-admin APIs) and leaves what it did not
//! make alone; hires, changes, departures and the sweep go through the same flows as IAM's, from
//! the CLI and from the function binaries, each within the role the stack gives it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use serde_json::Value;
use tests::{Account, binary, root, scratch};

const INSTALLED_BY: &str = "Installed by employee-lifecycle onboarding bootstrap";

/// The shipped config with the shipped Identity Center sample appended
/// (`onboarding.identity-center.toml`: the three allowed groups, two permission sets, Developers
/// in two accounts and Finance in one).
fn config_file(name: &str) -> PathBuf {
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).expect("shipped config");
    let sample = std::fs::read_to_string(root().join("onboarding.identity-center.toml")).expect("sample");
    let path = scratch().join(format!("identity-center-{name}.toml"));
    std::fs::write(&path, format!("{shipped}\n{sample}")).expect("write config");
    path
}

fn onboarding(acct: &Account, config: &PathBuf, args: &[&str]) -> Output {
    let mut cmd = acct.command(binary("onboarding"));
    cmd.arg("--config").arg(config).args(args).stdin(Stdio::null());
    cmd.output().expect("run onboarding")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

/// The instance moto gives the account, and its identity store.
async fn instance(acct: &Account) -> (String, String) {
    let out = acct.sso_admin().list_instances().send().await.expect("instances");
    let i = &out.instances()[0];
    (i.instance_arn().expect("arn").to_owned(), i.identity_store_id().expect("store").to_owned())
}

/// Every group of the store: (display name, description, id).
async fn groups(acct: &Account, store: &str) -> Vec<(String, Option<String>, String)> {
    let out = acct.identity_store().list_groups().identity_store_id(store).send().await.expect("groups");
    let mut all: Vec<_> = out
        .groups()
        .iter()
        .map(|g| {
            (
                g.display_name().unwrap_or_default().to_owned(),
                g.description().map(str::to_owned),
                g.group_id().to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

/// Every permission set: (name, description, session duration, managed policy ARNs, ARN).
async fn permission_sets(acct: &Account, instance: &str) -> Vec<(String, String, String, Vec<String>, String)> {
    let sso = acct.sso_admin();
    let arns = sso.list_permission_sets().instance_arn(instance).send().await.expect("list");
    let mut all = Vec::new();
    for arn in arns.permission_sets() {
        let d = sso
            .describe_permission_set()
            .instance_arn(instance)
            .permission_set_arn(arn)
            .send()
            .await
            .expect("describe");
        let p = d.permission_set().expect("permission set");
        let m = sso
            .list_managed_policies_in_permission_set()
            .instance_arn(instance)
            .permission_set_arn(arn)
            .send()
            .await
            .expect("policies");
        let mut policies: Vec<String> =
            m.attached_managed_policies().iter().filter_map(|p| p.arn().map(str::to_owned)).collect();
        policies.sort();
        let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
        all.push((text(p.name()), text(p.description()), text(p.session_duration()), policies, arn.clone()));
    }
    all.sort();
    all
}

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
        2 + 2 + 3 + 2 + 3,
        "topics, tables (tombstones, people), groups, permission sets, assignments"
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

/// A store user as the API reports it: (user name, display name, primary email, title).
async fn store_users(acct: &Account, store: &str) -> BTreeMap<String, (String, String, String, String)> {
    let out = acct.identity_store().list_users().identity_store_id(store).send().await.expect("users");
    out.users()
        .iter()
        .map(|u| {
            let email = u.emails().iter().find(|e| e.primary()).and_then(|e| e.value()).unwrap_or_default();
            let row = (
                u.user_name().unwrap_or_default().to_owned(),
                u.display_name().unwrap_or_default().to_owned(),
                email.to_owned(),
                u.title().unwrap_or_default().to_owned(),
            );
            (u.user_id().to_owned(), row)
        })
        .collect()
}

/// The display names of the groups a user is a member of, as the Identity Store lists them
/// (sorted; a name twice is a membership made twice).
async fn memberships(acct: &Account, store: &str, user_id: &str) -> Vec<String> {
    use aws_sdk_identitystore::types::MemberId;
    let names: BTreeMap<String, String> = groups(acct, store).await.into_iter().map(|g| (g.2, g.0)).collect();
    let out = acct
        .identity_store()
        .list_group_memberships_for_member()
        .identity_store_id(store)
        .member_id(MemberId::UserId(user_id.to_owned()))
        .send()
        .await
        .expect("memberships");
    let mut all: Vec<String> =
        out.group_memberships().iter().filter_map(|m| names.get(m.group_id()?).cloned()).collect();
    all.sort();
    all
}

/// Makes a store user by hand, as someone else would: (user name, display name, email).
async fn someone_else(acct: &Account, store: &str, user_name: &str, display: &str, email: &str) -> String {
    use aws_sdk_identitystore::types::{Email, Name};
    let (given, family) = display.split_once(' ').expect("two names");
    acct.identity_store()
        .create_user()
        .identity_store_id(store)
        .user_name(user_name)
        .display_name(display)
        .name(Name::builder().given_name(given).family_name(family).build())
        .emails(Email::builder().value(email).primary(true).build())
        .send()
        .await
        .expect("user")
        .user_id()
        .to_owned()
}

/// Adds a user to a group by hand.
async fn add_by_hand(acct: &Account, store: &str, group: &str, user_id: &str) {
    use aws_sdk_identitystore::types::MemberId;
    let group_id = groups(acct, store).await.into_iter().find(|g| g.0 == group).expect("group").2;
    acct.identity_store()
        .create_group_membership()
        .identity_store_id(store)
        .group_id(group_id)
        .member_id(MemberId::UserId(user_id.to_owned()))
        .send()
        .await
        .expect("membership");
}

/// An account bootstrapped with the shipped config and sample (its config file named after
/// `name`), and a Control-Tower-style group this system does not own: the config and the store.
async fn bootstrapped_beside_a_foreign_group(acct: &Account, name: &str) -> (PathBuf, String) {
    let cfg = config_file(&format!("{name}-{}", acct.id));
    ok(&onboarding(acct, &cfg, &["bootstrap"]));
    let (_, store) = instance(acct).await;
    acct.identity_store()
        .create_group()
        .identity_store_id(&store)
        .display_name("AWSControlTowerAdmins")
        .send()
        .await
        .expect("a group this system does not own");
    (cfg, store)
}

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

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

/// Jane's (E1001) departure, written for the test: her last day, and whether it is immediate.
fn departure(acct: &Account, last_day: &str, immediate: bool) -> PathBuf {
    let event = serde_json::json!({
        "version": "0", "id": format!("depart-{last_day}-{immediate}"), "detail-type": "Employee Departed",
        "source": "hr.workday", "account": "123456789012", "time": "2026-11-27T08:05:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {"eventId": format!("hr-depart-{last_day}-{immediate}"), "employeeId": "E1001",
                   "lastDay": last_day, "immediate": immediate}
    });
    let path = scratch().join(format!("ic-depart-{}-{last_day}-{immediate}.json", acct.id));
    std::fs::write(&path, event.to_string()).expect("write event");
    path
}

/// An HR event for the test, written to a file: a hire (`given` names the person; Engineering) or,
/// with `given` empty, an immediate departure; `time` is the event's.
fn event(acct: &Account, employee: &str, given: &str, time: &str) -> PathBuf {
    let (kind, detail) = if given.is_empty() {
        ("Employee Departed", serde_json::json!({"lastDay": "2026-11-27", "immediate": true}))
    } else {
        let email = format!("{}.doe@example.com", given.to_lowercase());
        let detail = serde_json::json!({"givenName": given, "familyName": "Doe", "email": email,
            "department": "Engineering", "startDate": "2026-11-23"});
        ("Employee Hired", detail)
    };
    let mut detail = detail;
    detail["eventId"] = format!("{employee}-{time}").into();
    detail["employeeId"] = employee.into();
    let event = serde_json::json!({"version": "0", "id": format!("{employee}-{time}"), "detail-type": kind,
        "source": "hr.workday", "time": time, "detail": detail});
    let path = scratch().join(format!("ic-{}-{employee}-{}.json", acct.id, time.replace(':', "")));
    std::fs::write(&path, event.to_string()).expect("write event");
    path
}

/// The user ids every permission set's inline policy denies, per permission set name.
async fn denied(acct: &Account, instance: &str) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for (name, _, _, _, arn) in permission_sets(acct, instance).await {
        let policy = acct
            .sso_admin()
            .get_inline_policy_for_permission_set()
            .instance_arn(instance)
            .permission_set_arn(&arn)
            .send()
            .await
            .expect("inline policy");
        let document: Value = serde_json::from_str(policy.inline_policy().unwrap_or("{}")).unwrap_or_default();
        all.insert(name, shared::policies::users_denied(&document).into_iter().collect());
    }
    all
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

/// A context connected to the account's Identity Center for the config file, as `onboarding`
/// builds it; its clock at `now`.
async fn connected(acct: &Account, cfg: &std::path::Path) -> shared::steps::Ctx {
    let cfg = shared::config::Config::load(cfg).expect("config");
    let aws = shared::aws::Aws::new(&acct.sdk, cfg.retry_policy());
    let targets = shared::steps::Targets::resolve(&cfg, &aws).await.expect("targets");
    let ctx = shared::steps::Ctx::new(cfg, aws, targets);
    ctx.with_identity_center(&acct.sdk).await.expect("identity center")
}

/// Runs an HR event at `now`, twice: the resend must change nothing.
async fn twice(ctx: &shared::steps::Ctx, now: &str, event: &Value) -> shared::pipeline::EventReport {
    use shared::pipeline::{EventOutcome, process};
    let ctx = shared::steps::Ctx { now: Some(at(now)), ..ctx.clone() };
    let first = process(&ctx, event).await;
    assert_ne!(first.outcome, EventOutcome::Failed, "{:?}", first.error);
    let again = process(&ctx, event).await;
    assert!(matches!(again.outcome, EventOutcome::Unchanged | EventOutcome::Ignored), "{again:?}");
    first
}

async fn sweep_at(ctx: &shared::steps::Ctx, now: &str) -> shared::drivers::sweep::SweepReport {
    let ctx = shared::steps::Ctx { now: Some(at(now)), ..ctx.clone() };
    let report = shared::drivers::sweep::run(&ctx).await.expect("sweep");
    assert!(!report.failed(), "{report:?}");
    report
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).expect("time").to_utc()
}

fn hr(detail_type: &str, time: &str, detail: Value) -> Value {
    serde_json::json!({"version": "0", "id": format!("env-{}", detail["eventId"].as_str().unwrap_or("x")),
        "detail-type": detail_type, "source": "hr.workday", "time": time, "detail": detail})
}

fn jane_hired(event_id: &str, time: &str, start: &str) -> Value {
    hr(
        "Employee Hired",
        time,
        serde_json::json!({"eventId": event_id, "employeeId": "E5001", "givenName": "Jane", "familyName": "Doe",
            "email": "jane.doe@example.com", "department": "Engineering", "title": "Engineer",
            "managerEmail": "ada@example.com", "startDate": start}),
    )
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

/// The people table, this system's record of whom it owns: a record is written once (a second
/// claim, another delivery's, changes nothing), its lifecycle entries are set and removed in one
/// write, and a record that is not there is not made by an update.
#[tokio::test]
async fn the_people_table_claims_once_and_keeps_the_lifecycle() {
    use shared::aws::people::{Origin, People, PersonRecord};
    let acct = Account::new().await;
    let people = People::of(&acct.sdk);
    let table = "employee-lifecycle-people";
    assert!(people.create_table(table).await.expect("create"));
    assert!(!people.create_table(table).await.expect("again"), "made once");
    let since = chrono::DateTime::parse_from_rfc3339("2026-12-02T09:00:00Z").expect("t").to_utc();
    let jane = PersonRecord {
        employee_id: "E1".into(),
        user_id: "u-1".into(),
        user_name: "jane.doe".into(),
        since,
        origin: Origin::Created,
        lifecycle: BTreeMap::from([("status".to_owned(), "pending".to_owned())]),
    };
    assert!(people.claim(table, &jane).await.expect("claim"));
    let rival = PersonRecord { user_id: "u-2".into(), user_name: "jane.doe2".into(), ..jane.clone() };
    assert!(!people.claim(table, &rival).await.expect("claim again"), "the first claim stands");
    assert_eq!(people.get(table, "E1").await.expect("get"), Some(jane.clone()));

    let set = BTreeMap::from([
        ("status".to_owned(), "disabled".to_owned()),
        ("access-revoked".to_owned(), "2026-12-02T10:00:00Z".to_owned()),
    ]);
    people.set_lifecycle(table, "E1", &set, &[]).await.expect("set");
    people.set_lifecycle(table, "E1", &BTreeMap::new(), &["access-revoked"]).await.expect("remove");
    let read = people.get(table, "E1").await.expect("get").expect("record");
    assert_eq!(read.lifecycle, BTreeMap::from([("status".to_owned(), "disabled".to_owned())]));
    let missing = people.set_lifecycle(table, "E9", &set, &[]).await.expect_err("no record");
    assert!(missing.to_string().contains("people record `E9`"), "{missing}");
    assert_eq!(people.get(table, "E9").await.expect("get"), None, "an update made no record");

    let bob = PersonRecord { employee_id: "E0".into(), user_id: "u-0".into(), user_name: "bob".into(), ..jane };
    assert!(people.claim(table, &bob).await.expect("claim"));
    let all: Vec<String> = people.all(table).await.expect("all").into_iter().map(|r| r.employee_id).collect();
    assert_eq!(all, ["E0", "E1"]);
}

/// What the Identity Center joiner and leaver will write, against the emulator: a membership
/// made, listed for the user and ended (ending it again is no error); a permission set's inline
/// policy written with the leavers' revocations, read back naming them, and removed.
#[tokio::test]
async fn memberships_and_a_permission_sets_revocations_are_written_and_read_back() {
    use aws_sdk_identitystore::types::Name;
    let acct = Account::new().await;
    let cfg = config_file(&format!("writes-{}", acct.id));
    let made = onboarding(&acct, &cfg, &["bootstrap"]);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stderr));
    let (instance, store) = instance(&acct).await;
    let ic = shared::aws::identity_center::IdentityCenter::new(&acct.sdk, 20, tests::config().retry_policy());
    let jane = acct
        .identity_store()
        .create_user()
        .identity_store_id(&store)
        .user_name("jane")
        .display_name("Jane Example")
        .name(Name::builder().given_name("Jane").family_name("Example").build())
        .send()
        .await
        .expect("user")
        .user_id()
        .to_owned();
    let developers = groups(&acct, &store).await.into_iter().find(|g| g.0 == "Developers").expect("group").2;

    assert!(ic.memberships_of(&store, &jane).await.expect("none yet").is_empty());
    assert!(ic.join(&store, &developers, &jane).await.expect("join"));
    let memberships = ic.memberships_of(&store, &jane).await.expect("memberships");
    assert_eq!(memberships.iter().map(|(_, g)| g.as_str()).collect::<Vec<_>>(), [developers.as_str()]);
    let membership = &memberships[0].0;
    assert!(ic.leave(&store, membership).await.expect("leave"));
    assert!(ic.memberships_of(&store, &jane).await.expect("after").is_empty(), "through the API: gone");
    // Ending it again is no error (AWS answers ResourceNotFoundException, read as `false`; the
    // emulator answers success).
    ic.leave(&store, membership).await.expect("again");

    let ps = permission_sets(&acct, &instance).await.into_iter().find(|p| p.0 == "Developers").expect("ps").4;
    assert_eq!(ic.inline_policy(&instance, &ps).await.expect("read"), None);
    let (doc, _) = shared::policies::permission_set_revocations([jane.as_str()]);
    let doc = doc.expect("a document").to_string();
    ic.set_inline_policy(&instance, &ps, Some(&doc)).await.expect("write");
    let read = ic.inline_policy(&instance, &ps).await.expect("read").expect("a policy");
    let read: Value = serde_json::from_str(&read).expect("json");
    assert_eq!(shared::policies::users_denied(&read), [jane.clone()].into());
    ic.set_inline_policy(&instance, &ps, None).await.expect("remove");
    assert_eq!(ic.inline_policy(&instance, &ps).await.expect("read"), None);
    ic.set_inline_policy(&instance, &ps, None).await.expect("removing none is no error");
}

/// What the emulator cannot do (its assignments succeed at once): an assignment that is in
/// progress is polled until it succeeds, and one AWS fails is reported for its account while the
/// others are made. Real SDK clients, answers injected with aws-smithy-mocks.
#[tokio::test]
async fn assignments_in_progress_are_polled_and_a_failure_is_reported_by_account() {
    use aws_sdk_identitystore::operation::get_group_id::GetGroupIdOutput;
    use aws_sdk_ssoadmin::operation::attach_managed_policy_to_permission_set::AttachManagedPolicyToPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::create_account_assignment::CreateAccountAssignmentOutput;
    use aws_sdk_ssoadmin::operation::create_permission_set::CreatePermissionSetOutput;
    use aws_sdk_ssoadmin::operation::describe_account_assignment_creation_status::DescribeAccountAssignmentCreationStatusOutput;
    use aws_sdk_ssoadmin::operation::list_account_assignments::ListAccountAssignmentsOutput;
    use aws_sdk_ssoadmin::operation::list_permission_sets::ListPermissionSetsOutput;
    use aws_sdk_ssoadmin::types::{AccountAssignmentOperationStatus, PermissionSet, StatusValues};
    use aws_smithy_mocks::mock;

    type Store = aws_sdk_identitystore::Client;
    type Admin = aws_sdk_ssoadmin::Client;
    let status = |s: StatusValues, id: &str, reason: Option<&str>| {
        AccountAssignmentOperationStatus::builder()
            .status(s)
            .request_id(id)
            .set_failure_reason(reason.map(str::to_owned))
            .build()
    };
    let group = mock!(Store::get_group_id).sequence().output(|| {
        GetGroupIdOutput::builder()
            .group_id("g-1")
            .group_arn("arn:aws:identitystore::1:group/g-1")
            .identity_store_id("d-1234567890")
            .build()
            .expect("output")
    });
    let group = group.repeatedly().build();
    let none = mock!(Admin::list_permission_sets).sequence().output(|| ListPermissionSetsOutput::builder().build());
    let none = none.repeatedly().build();
    let made = mock!(Admin::create_permission_set).then_output(|| {
        let ps =
            PermissionSet::builder().name("Developers").permission_set_arn("arn:aws:sso:::permissionSet/ssoins-1/ps-1");
        CreatePermissionSetOutput::builder().permission_set(ps.build()).build()
    });
    let attached = mock!(Admin::attach_managed_policy_to_permission_set)
        .sequence()
        .output(|| AttachManagedPolicyToPermissionSetOutput::builder().build())
        .repeatedly()
        .build();
    let unassigned = mock!(Admin::list_account_assignments)
        .sequence()
        .output(|| ListAccountAssignmentsOutput::builder().build())
        .repeatedly()
        .build();
    let started = mock!(Admin::create_account_assignment)
        .match_requests(|r| r.target_id() == Some("111111111111"))
        .then_output(move || {
            let s = status(StatusValues::InProgress, "r-1", None);
            CreateAccountAssignmentOutput::builder().account_assignment_creation_status(s).build()
        });
    let refused = mock!(Admin::create_account_assignment)
        .match_requests(|r| r.target_id() == Some("222222222222"))
        .then_output(move || {
            let s = status(StatusValues::Failed, "r-2", Some("the account is not in the organization (injected)"));
            CreateAccountAssignmentOutput::builder().account_assignment_creation_status(s).build()
        });
    let polled = mock!(Admin::describe_account_assignment_creation_status)
        .sequence()
        .output(move || {
            let s = status(StatusValues::InProgress, "r-1", None);
            DescribeAccountAssignmentCreationStatusOutput::builder().account_assignment_creation_status(s).build()
        })
        .output(move || {
            let s = status(StatusValues::Succeeded, "r-1", None);
            DescribeAccountAssignmentCreationStatusOutput::builder().account_assignment_creation_status(s).build()
        })
        .build();
    let ic = mocked(
        &[&group],
        &[&none, &made, &attached, &unassigned, &started, &refused, &polled],
        20,
        tests::config().retry_policy(),
    );

    let mut cfg = tests::config();
    let text = std::fs::read_to_string(config_file("mocked")).expect("config");
    let mut ic_cfg = shared::config::Config::parse(&text, "t").expect("config").identity_center.expect("section");
    ic_cfg.instance_arn = Some("arn:aws:sso:::instance/ssoins-1".into());
    ic_cfg.identity_store_id = Some("d-1234567890".into());
    ic_cfg.permission_sets.truncate(1);
    ic_cfg.assignments.truncate(1);
    cfg.identity_center = Some(ic_cfg.clone());

    let items = onboarding::bootstrap::identity_center::bootstrap(&cfg, &ic_cfg, &ic).await.expect("bootstrap");
    let assignments: Vec<_> = items
        .iter()
        .filter(|i| i.kind == "assignment")
        .map(|i| (i.name.as_str(), i.created, i.error.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        assignments,
        [
            ("Developers -> Developers in 111111111111", true, ""),
            ("Developers -> Developers in 222222222222", false, "the account is not in the organization (injected)"),
        ]
    );
    assert_eq!(polled.num_calls(), 2, "polled until it succeeded");
}

/// What the emulator cannot do (it never throttles): Identity Store's `ThrottlingException`
/// names `RetryAfterSeconds` in its body; the call is tried again only after it, through the
/// real SDK's deserializer. sso-admin's throttling names none: retried with backoff. An error
/// that is not transient is not retried.
#[tokio::test]
async fn throttling_is_retried_after_the_time_aws_names_and_other_errors_are_not() {
    use aws_sdk_identitystore::operation::get_group_id::GetGroupIdOutput;
    use aws_sdk_ssoadmin::operation::list_instances::ListInstancesOutput;
    use aws_smithy_mocks::mock;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    type Store = aws_sdk_identitystore::Client;
    type Admin = aws_sdk_ssoadmin::Client;

    let throttled = |body: &'static str| {
        move || {
            let mut r = Response::new(StatusCode::try_from(400).expect("400"), SdkBody::from(body));
            r.headers_mut().insert("content-type", "application/x-amz-json-1.1");
            r
        }
    };
    let group = mock!(Store::get_group_id)
        .sequence()
        .http_response(throttled(
            r#"{"__type":"ThrottlingException","Message":"Rate exceeded (injected)","RetryAfterSeconds":1}"#,
        ))
        .output(|| {
            GetGroupIdOutput::builder()
                .group_id("g-1")
                .group_arn("arn:aws:identitystore::1:group/g-1")
                .identity_store_id("d-1")
                .build()
                .expect("output")
        })
        .build();
    let instances = mock!(Admin::list_instances)
        .sequence()
        .http_response(throttled(r#"{"__type":"ThrottlingException","Message":"Rate exceeded (injected)"}"#))
        .output(|| ListInstancesOutput::builder().build())
        .http_response(throttled(r#"{"__type":"AccessDeniedException","Message":"no (injected)"}"#))
        .build();
    let retry = shared::retry::RetryPolicy {
        max_attempts: 4,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    };
    let ic = mocked(&[&group], &[&instances], 1000, retry);

    let started = std::time::Instant::now();
    assert_eq!(ic.group_id("d-1", "Developers").await.expect("found after the wait").as_deref(), Some("g-1"));
    assert_eq!(group.num_calls(), 2);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "waited as AWS asked: {:?}", started.elapsed());

    let started = std::time::Instant::now();
    assert!(ic.instances().await.expect("after a backoff").is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "no RetryAfterSeconds: the policy's backoff");
    let denied = ic.instances().await.expect_err("not retried");
    assert_eq!(denied.aws_code(), Some("AccessDeniedException"), "{denied}");
    assert_eq!(instances.num_calls(), 3, "throttled, answered, denied once");
}

/// Identity Center on real SDK clients whose HTTP layer answers from `store` and `admin`
/// (aws-smithy-mocks), with the SDK's own retries off, as `IdentityCenter::new` builds them.
/// `UpdateUser`, which the emulator answers with HTTP 500 (so a change there updates the person's
/// record only: `identity_center.skip_user_updates` unset skips it against an emulator): the one
/// request a change's attributes make, checked with the SDK's own mocks.
#[tokio::test]
async fn a_changes_attributes_reach_the_identity_store_user_in_one_update() {
    use aws_sdk_identitystore::operation::update_user::UpdateUserOutput;
    use aws_smithy_mocks::mock;
    use aws_smithy_types::Document;
    type Store = aws_sdk_identitystore::Client;
    let update = mock!(Store::update_user)
        .match_requests(|r| {
            let ops: Vec<(&str, Option<&Document>)> =
                r.operations().iter().map(|o| (o.attribute_path(), o.attribute_value())).collect();
            r.identity_store_id() == Some("d-1")
                && r.user_id() == Some("u-1")
                && ops
                    == [
                        ("title", Some(&Document::String("Financial Analyst".into()))),
                        ("name.givenName", Some(&Document::String("Janie".into()))),
                    ]
        })
        .then_output(|| {
            let out = UpdateUserOutput::builder().identity_store_id("d-1").user_id("u-1");
            out.user_arn("arn:aws:identitystore:::user/u-1").revision("2").build().expect("output")
        });
    let retry = shared::retry::RetryPolicy {
        max_attempts: 2,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    };
    let ic = mocked(&[&update], &[], 1000, retry);
    let changes =
        [("title", Document::String("Financial Analyst".into())), ("name.givenName", Document::String("Janie".into()))];
    ic.update_user("d-1", "u-1", &changes).await.expect("updated");
    assert_eq!(update.num_calls(), 1, "one request for every attribute");
}

fn mocked(
    store: &[&aws_smithy_mocks::Rule],
    admin: &[&aws_smithy_mocks::Rule],
    max_tps: u32,
    retry: shared::retry::RetryPolicy,
) -> shared::aws::identity_center::IdentityCenter {
    use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, create_mock_http_client};
    let interceptor = |rules: &[&aws_smithy_mocks::Rule]| {
        rules.iter().fold(MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny), |i, r| i.with_rule(r))
    };
    let store = aws_sdk_identitystore::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_identitystore::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_identitystore::config::Credentials::new("k", "s", None, None, "test"))
        .retry_config(aws_sdk_identitystore::config::retry::RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(store))
        .build();
    let admin = aws_sdk_ssoadmin::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_ssoadmin::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssoadmin::config::Credentials::new("k", "s", None, None, "test"))
        .retry_config(aws_sdk_ssoadmin::config::retry::RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(admin))
        .build();
    shared::aws::identity_center::IdentityCenter::from_clients(
        aws_sdk_identitystore::Client::from_conf(store),
        aws_sdk_ssoadmin::Client::from_conf(admin),
        max_tps,
        retry,
    )
}

/// One recorded call as IAM authorises it: the action and, for each resource type AWS documents
/// as required for it, the ARN the call names, in the rendered stack's terms (its account,
/// [`tests::stack::INSTANCE_ID`] and [`tests::stack::IDENTITY_STORE_ID`] in place of the
/// emulator's). `None` for a call of another service.
fn authorised_as(target: &str, body: &str) -> Option<(String, Vec<String>)> {
    use tests::stack::{ACCOUNT, IDENTITY_STORE_ID, INSTANCE_ID};
    let (prefix, name) = target.split_once('.')?;
    let service = match prefix {
        "AWSIdentityStore" => "identitystore",
        "SWBExternalService" => "sso",
        p if p.starts_with("DynamoDB_") => "dynamodb",
        _ => return None,
    };
    let action = format!("{service}:{name}");
    let b: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let field = |k: &str| b[k].as_str().map(str::to_owned);
    if service == "dynamodb" {
        let table = field("TableName").expect("a table");
        return Some((action, vec![format!("arn:aws:dynamodb:{}:{ACCOUNT}:table/{table}", tests::REGION)]));
    }
    let id = |k: &str| field(k).unwrap_or_else(|| "*".into());
    let user = field("UserId").or_else(|| b["MemberId"]["UserId"].as_str().map(str::to_owned));
    let permission_set = field("PermissionSetArn").map(|a| a.rsplit('/').next().unwrap_or("*").to_owned());
    let types = tests::simulator::required_resource_types(&action).expect("documented");
    let arns = types
        .iter()
        .map(|t| match t.as_str() {
            "Identitystore" => format!("arn:aws:identitystore::{ACCOUNT}:identitystore/{IDENTITY_STORE_ID}"),
            "User" => format!("arn:aws:identitystore:::user/{}", user.clone().unwrap_or_else(|| "*".into())),
            "Group" => format!("arn:aws:identitystore:::group/{}", id("GroupId")),
            "GroupMembership" => format!("arn:aws:identitystore:::membership/{}", id("MembershipId")),
            "AllUsers" => "arn:aws:identitystore:::user/*".into(),
            "AllGroups" => "arn:aws:identitystore:::group/*".into(),
            "AllGroupMemberships" => "arn:aws:identitystore:::membership/*".into(),
            "Instance" => format!("arn:aws:sso:::instance/{INSTANCE_ID}"),
            "PermissionSet" => format!(
                "arn:aws:sso:::permissionSet/{INSTANCE_ID}/{}",
                permission_set.clone().unwrap_or_else(|| "*".into())
            ),
            "Account" => {
                format!("arn:aws:sso:::account/{}", field("TargetId").unwrap_or_else(|| "111111111111".into()))
            }
            other => panic!("{action}: a resource type this test does not know: {other}"),
        })
        .collect();
    Some((action, arns))
}

/// Issue #22 item 8, the other half of trust.rs's claim that the roles are narrow: they are
/// enough. Each function binary, started as Lambda starts it with the stack's Identity Center
/// config (the instance and store named, so nothing is looked up at start-up), runs its step of a
/// hire, a change and an immediate departure, then the sweep, against Identity Center; each
/// call it makes to the Identity Store, sso-admin and DynamoDB (from the emulator's recording) is
/// allowed by the role the template gives that function with `Target` identity-center, on every
/// ARN AWS documents the call as needing, by both evaluators; none calls IAM or Secrets Manager
/// (whose statements an Identity Center stack does not give). The permission sets the departure
/// writes are bootstrap's, made with the `managed-by` tag the roles require (checked here from
/// the recorded `CreatePermissionSet`s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_binary_serves_identity_center_within_the_role_the_stack_gives_it() {
    use std::time::Duration;

    use serde_json::json;
    use shared::flow::{Flow, Step};
    use tests::policy::{Decision, Request, Resource, decide};
    use tests::runtime_api::{Answer, Function};

    // GIVEN Identity Center bootstrapped by the operator, and the functions' config as the stack
    // writes it: the instance and store named.
    let acct = Account::new().await;
    let cfg = config_file(&format!("functions-{}", acct.id));
    let before = acct.recorded().len();
    ok(&onboarding(&acct, &cfg, &["bootstrap"]));
    let made: Vec<Value> = acct.recorded()[before..]
        .iter()
        .filter(|(a, _)| a.ends_with(".CreatePermissionSet"))
        .map(|(_, body)| serde_json::from_str(body).expect("json"))
        .collect();
    assert_eq!(made.len(), 2, "bootstrap made the sample's two permission sets");
    for ps in &made {
        assert_eq!(ps["Tags"], json!([{"Key": "managed-by", "Value": "employee-lifecycle"}]), "{ps}");
    }
    let (instance, store) = instance(&acct).await;
    let toml =
        std::fs::read_to_string(&cfg).expect("config").replace("base_delay_ms = 200", "base_delay_ms = 5").replace(
            "[identity_center]\n",
            &format!("[identity_center]\ninstance_arn = \"{instance}\"\nidentity_store_id = \"{store}\"\n"),
        );
    let stack = tests::stack::stack_for("identity-center");
    let mut checked = BTreeMap::<String, usize>::new();
    let mut run = |step: Step, payload: Value| -> Value {
        let f = Function::start(step.name(), acct.env(), &toml);
        let mark = acct.recorded().len();
        let answer = tokio::task::block_in_place(|| f.api.invoke(payload, Duration::from_secs(60)));
        let out = match answer {
            Some(Answer::Response(v)) => v,
            other => panic!("{}: {other:?}\n{}", step.name(), std::fs::read_to_string(&f.log).unwrap_or_default()),
        };
        let role = match step {
            Step::CreateUser => "CreateUserRole",
            Step::JoinGroups => "JoinGroupsRole",
            Step::TagUser => "TagUserRole",
            Step::StorePassword => "StorePasswordRole",
            Step::Notify => "NotifyRole",
            Step::Offboard => "OffboardRole",
            Step::Sweep => "SweepRole",
            Step::Record => "RecordRole",
            Step::Adopt => unreachable!("no function adopts: the operator's CLI does"),
        };
        let principal = tests::stack::function_role(&stack, role);
        for (target, body) in &acct.recorded()[mark..] {
            // Nothing of IAM's users or Secrets Manager on this target: the stack gives those
            // statements to an IAM stack only.
            let iam = body.contains("Version=2010-05-08");
            assert!(
                !iam && !target.starts_with("secretsmanager."),
                "{} called {target} on Identity Center",
                step.name()
            );
            let Some((action, arns)) = authorised_as(target, body) else { continue };
            for arn in arns {
                let r = Request::new(&action, &arn);
                let r = if arn.contains(":permissionSet/") {
                    r.with("aws:ResourceTag/managed-by", &["employee-lifecycle"])
                } else {
                    r
                };
                let d = decide(&principal, &r, Resource::None);
                assert_eq!(
                    d,
                    Decision::Allowed,
                    "{}'s role does not allow the {action} it made, on {arn}",
                    step.name()
                );
            }
            *checked.entry(format!("{} {action}", step.name())).or_default() += 1;
        }
        out
    };

    // WHEN a hire, a change and an immediate departure go through the functions as the state
    // machines pass them on, each ending in `record`, and then the sweep runs
    let flows = [
        (Flow::Onboard, tests::event("hire-engineering.json", json!({}))),
        (Flow::Change, tests::event("change-transfer.json", json!({}))),
        (
            Flow::Offboard,
            serde_json::from_str(&std::fs::read_to_string(departure(&acct, "2026-11-27", true)).expect("event"))
                .expect("json"),
        ),
    ];
    for (flow, event) in flows {
        let mut state = json!({"event": event});
        for &step in flow.steps() {
            state[step.state_key()] = run(step, state.clone());
        }
        state["record"] = run(Step::Record, state.clone());
    }
    let report = run(Step::Sweep, json!({}));

    // THEN the person went through Identity Center (checked through its APIs)
    let users = store_users(&acct, &store).await;
    let (jane, _) = users.iter().find(|(_, row)| row.0 == "jane.doe").expect("jane's user");
    assert!(memberships(&acct, &store, jane).await.is_empty(), "the leaver left every group");
    let denied = denied(&acct, &instance).await;
    assert!(denied.len() == 2 && denied.values().all(|d| d == std::slice::from_ref(jane)), "{denied:?}");
    assert!(report["items"].is_array(), "{report}");
    // AND every function's calls were checked, the writes of each flow among them
    for call in [
        "create-user identitystore:CreateUser",
        "create-user dynamodb:PutItem",
        "join-groups identitystore:CreateGroupMembership",
        "join-groups identitystore:DeleteGroupMembership",
        "tag-user dynamodb:UpdateItem",
        "notify dynamodb:UpdateItem",
        "record identitystore:DescribeUser",
        "offboard sso:PutInlinePolicyToPermissionSet",
        "offboard sso:ProvisionPermissionSet",
        "offboard identitystore:DeleteGroupMembership",
        "sweep dynamodb:Scan",
        "sweep sso:GetInlinePolicyForPermissionSet",
    ] {
        assert!(checked.contains_key(call), "no {call} was made: {checked:?}");
    }
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
