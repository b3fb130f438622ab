//! The Identity Center target: `onboarding bootstrap` makes the groups, permission sets and
//! assignments (checked through the Identity Store and sso-admin APIs) and leaves what it did not
//! make alone; hires, changes, departures and the sweep go through the same flows as IAM's, from
//! the CLI and from the function binaries, each within the role the stack gives it. The helpers
//! here are shared by the modules below, one per theme.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use serde_json::Value;
use tests::{Account, binary, root, scratch};

mod bootstrap;
mod clients;
mod deployed;
mod lifecycle;
mod operators;
mod reviews;

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
