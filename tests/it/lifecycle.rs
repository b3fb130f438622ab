//! The whole employee lifecycle against the emulator: pre-hire, activation, change, scheduled
//! and immediate departure, disable, delete with everything the person added, rehire; the
//! protections and the mass-departure guard. Every result is checked through the AWS API, and
//! every case is run twice.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use shared::config::Config;
use shared::drivers::sweep::{self, SweepOutcome, SweepReport};
use shared::pipeline::{EventOutcome, EventReport, process, run_all};
use shared::steps::Ctx;
use shared::tags;
use tests::{Account, Inboxes, config, user_groups, user_tags};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

/// An HR event in the EventBridge envelope.
fn hr(detail_type: &str, time: &str, detail: Value) -> Value {
    json!({"version": "0", "id": format!("env-{}", detail["eventId"].as_str().unwrap_or("x")),
           "detail-type": detail_type, "source": "hr.workday", "time": time, "detail": detail})
}

fn hire(event_id: &str, time: &str, start: &str) -> Value {
    hr(
        "Employee Hired",
        time,
        json!({"eventId": event_id, "employeeId": "E5001", "givenName": "Jane", "familyName": "Doe",
               "email": "jane.doe@example.com", "department": "Engineering", "title": "Engineer",
               "managerEmail": "ada@example.com", "startDate": start}),
    )
}

/// Hires `employee_id` as `{given_name} Doe`, starting 2031-01-05, and resends it.
async fn hire_doe(ctx: &Ctx, employee_id: &str, given_name: &str) {
    let mut h = hire(&format!("h-{employee_id}"), "2031-01-05T09:00:00Z", "2031-01-05");
    h["detail"]["employeeId"] = json!(employee_id);
    h["detail"]["givenName"] = json!(given_name);
    twice(ctx, "2031-01-05T10:00:00Z", &h).await;
}

fn depart(employee: &str, event_id: &str, time: &str, last_day: &str, immediate: bool) -> Value {
    hr(
        "Employee Departed",
        time,
        json!({"eventId": event_id, "employeeId": employee, "lastDay": last_day, "immediate": immediate}),
    )
}

/// The test configuration: three lead days, 30 grace days, and (moto lacks the API) no
/// service-specific credentials. The stories here span months without anyone signing in, so
/// unused credentials live a year (their expiry has its own test, with the shipped 14 days).
fn lifecycle_config() -> Config {
    let mut cfg = config();
    cfg.lifecycle.lead_days = 3;
    cfg.lifecycle.skip_service_specific_credentials = Some(true);
    cfg.secrets.initial_ttl_days = 365;
    cfg
}

/// Runs an event at `now`, twice: the resend must change nothing and report so.
async fn twice(ctx: &Ctx, now: &str, ev: &Value) -> EventReport {
    let ctx = Ctx { now: Some(at(now)), ..ctx.clone() };
    let first = process(&ctx, ev).await;
    assert_ne!(first.outcome, EventOutcome::Failed, "{:?}", first.error);
    let again = process(&ctx, ev).await;
    assert!(
        matches!(again.outcome, EventOutcome::Unchanged | EventOutcome::Ignored),
        "a resend changed something: {again:?}"
    );
    assert_eq!(again.status, first.status);
    first
}

async fn sweep_at(ctx: &Ctx, now: &str) -> SweepReport {
    let ctx = Ctx { now: Some(at(now)), ..ctx.clone() };
    sweep::run(&ctx).await.expect("sweep")
}

async fn has_login(acct: &Account, user: &str) -> bool {
    acct.iam().get_login_profile().user_name(user).send().await.is_ok()
}

async fn kinds(inboxes: &Inboxes) -> Vec<String> {
    inboxes.notifications.drain().await.iter().map(|m| m.attributes["event-type"].clone()).collect()
}

#[tokio::test]
async fn one_person_from_pre_hire_to_deletion_and_rehire() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(lifecycle_config()).await;
    let iam = acct.iam();
    iam.create_group().group_name("OnCall").send().await.expect("a group outside the mapping");

    // A hire announced two months ahead: the user and its groups now, nothing to sign in with.
    let r = twice(&ctx, "2031-01-05T10:00:00Z", &hire("h1", "2031-01-05T09:00:00Z", "2031-03-10")).await;
    assert_eq!((r.outcome, r.status.as_deref()), (EventOutcome::Succeeded, Some("pending")));
    let user = r.user_name.clone().expect("user");
    assert_eq!(user, "jane.doe");
    let t = user_tags(&acct, &user).await;
    assert_eq!(t[tags::STATUS], "pending");
    assert_eq!(t[tags::ACTIVATE_AT], "2031-03-07T00:00:00Z");
    assert_eq!(user_groups(&acct, &user).await, ["AllEmployees", "Developers"]);
    assert!(!has_login(&acct, &user).await);
    assert!(
        acct.secrets()
            .describe_secret()
            .secret_id("employee-lifecycle/jane.doe/console-password")
            .send()
            .await
            .is_err()
    );
    assert!(kinds(&inboxes).await.is_empty(), "no welcome before the lead time");

    // Sweep before the lead time: nothing. At it: console access and the welcome, once.
    assert!(sweep_at(&ctx, "2031-03-06T23:59:59Z").await.items.is_empty());
    let s = sweep_at(&ctx, "2031-03-07T00:00:00Z").await;
    assert_eq!(s.items.len(), 1);
    assert_eq!((s.items[0].outcome, s.items[0].status.as_str()), (SweepOutcome::Succeeded, "active"));
    assert!(has_login(&acct, &user).await);
    assert_eq!(kinds(&inboxes).await, ["welcome", "welcome-manager"]);
    assert!(sweep_at(&ctx, "2031-03-07T00:00:00Z").await.items.is_empty(), "activation is done once");
    assert_eq!(user_tags(&acct, &user).await[tags::STATUS], "active");

    // The person is on call too (a group outside the mapping, added by hand).
    iam.add_user_to_group().group_name("OnCall").user_name(&user).send().await.expect("join OnCall");

    // A change of department: mapped groups follow, the hand-made one stays, the name stays.
    let change = hr(
        "Employee Changed",
        "2031-04-01T09:00:00Z",
        json!({"eventId": "c1", "employeeId": "E5001", "department": "Finance", "title": "Analyst"}),
    );
    let r = twice(&ctx, "2031-04-01T10:00:00Z", &change).await;
    assert_eq!((r.outcome, r.user_name.as_deref()), (EventOutcome::Succeeded, Some("jane.doe")));
    assert_eq!(user_groups(&acct, &user).await, ["AllEmployees", "Finance", "OnCall"]);
    let t = user_tags(&acct, &user).await;
    assert_eq!((t["department"].as_str(), t["title"].as_str()), ("Finance", "Analyst"));
    assert_eq!(kinds(&inboxes).await, ["access-changed"], "one notice, none for the resend");

    // What the person and an admin add: all of it must go before DeleteUser can succeed.
    let key = iam.create_access_key().user_name(&user).send().await.expect("own key");
    let own_key = key.access_key().expect("key").access_key_id().to_owned();
    let mfa = iam.create_virtual_mfa_device().virtual_mfa_device_name("jane-phone").send().await.expect("mfa");
    let serial = mfa.virtual_mfa_device().expect("device").serial_number().to_owned();
    iam.enable_mfa_device()
        .user_name(&user)
        .serial_number(&serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .expect("enable mfa");
    iam.upload_ssh_public_key().user_name(&user).ssh_public_key_body(SSH_KEY).send().await.expect("ssh key");
    iam.upload_signing_certificate().user_name(&user).certificate_body(CERT).send().await.expect("certificate");
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("extra")
        .policy_document(allow("s3:ListBucket"))
        .send()
        .await
        .expect("inline policy");
    let managed = iam
        .create_policy()
        .policy_name("team-extra")
        .policy_document(allow("sqs:ListQueues"))
        .send()
        .await
        .expect("managed policy");
    let managed_arn = managed.policy().and_then(|p| p.arn()).expect("arn").to_owned();
    iam.attach_user_policy().user_name(&user).policy_arn(&managed_arn).send().await.expect("attach");

    // A departure announced ahead: scheduled on the user, nothing taken away yet.
    let leave = depart("E5001", "d1", "2031-05-01T09:00:00Z", "2031-05-30", false);
    let r = twice(&ctx, "2031-05-01T10:00:00Z", &leave).await;
    assert_eq!((r.status.as_deref(), r.disable_at.as_deref()), (Some("active"), Some("2031-05-31T00:00:00Z")));
    assert!(has_login(&acct, &user).await);
    assert!(sweep_at(&ctx, "2031-05-30T23:59:59Z").await.items.is_empty());

    // The last day ends: disabled, every way in gone, the user kept.
    let s = sweep_at(&ctx, "2031-05-31T00:00:00Z").await;
    assert_eq!((s.items.len(), s.items[0].outcome), (1, SweepOutcome::Succeeded), "{s:?}");
    assert!(!has_login(&acct, &user).await);
    let keys = iam.list_access_keys().user_name(&user).send().await.expect("keys");
    assert!(keys.access_key_metadata().iter().all(|k| k.status().map(|s| s.as_str()) == Some("Inactive")));
    let ssh = iam.list_ssh_public_keys().user_name(&user).send().await.expect("ssh");
    assert!(ssh.ssh_public_keys().iter().all(|k| k.status().as_str() == "Inactive"));
    let certs = iam.list_signing_certificates().user_name(&user).send().await.expect("certs");
    assert!(certs.certificates().iter().all(|c| c.status().as_str() == "Inactive"));
    assert!(user_groups(&acct, &user).await.is_empty(), "every group, the hand-made one included");
    let secret =
        acct.secrets().describe_secret().secret_id("employee-lifecycle/jane.doe/console-password").send().await;
    assert!(secret.expect("secret kept for recovery").deleted_date().is_some(), "scheduled for deletion");
    let t = user_tags(&acct, &user).await;
    assert_eq!((t[tags::STATUS].as_str(), t[tags::DELETE_AT].as_str()), ("disabled", "2031-06-30T00:00:00Z"));
    assert!(!t.contains_key(tags::WELCOME_SENT));
    assert_eq!(kinds(&inboxes).await, ["access-ended"], "the manager is told");
    assert!(sweep_at(&ctx, "2031-06-01T00:00:00Z").await.items.is_empty(), "disabled once");
    assert_eq!(twice(&ctx, "2031-06-01T00:00:00Z", &leave).await.status.as_deref(), Some("disabled"));

    // The grace period ends: everything removed in AWS's order, then the user.
    let sent_before = acct.recorded().len();
    let s = sweep_at(&ctx, "2031-06-30T00:00:00Z").await;
    assert_eq!(s.items[0].outcome, SweepOutcome::Succeeded, "{:?}", s.items[0].error);
    assert!(iam.get_user().user_name(&user).send().await.is_err(), "the user is gone");
    let devices = iam.list_virtual_mfa_devices().send().await.expect("mfa devices");
    assert!(devices.virtual_mfa_devices().iter().all(|d| d.serial_number() != serial));
    let order: Vec<String> = acct
        .recorded()
        .into_iter()
        .skip(sent_before)
        .map(|(a, _)| a)
        .filter(|a| {
            a.starts_with("Delete") || a.starts_with("Detach") || a.starts_with("Deactivate") || a.starts_with("Remove")
        })
        .collect();
    assert_eq!(
        order,
        [
            "DeleteAccessKey",
            "DeleteSigningCertificate",
            "DeleteSSHPublicKey",
            "DeactivateMFADevice",
            "DeleteVirtualMFADevice",
            "DeleteUserPolicy",
            "DetachUserPolicy",
            "DeleteUser"
        ],
        "no login profile or group was left after the disable; the rest goes in AWS's order"
    );
    let deleted_key = &own_key;
    assert!(iam.list_access_keys().user_name(&user).send().await.is_err(), "{deleted_key} went with the user");
    assert!(sweep_at(&ctx, "2031-07-01T00:00:00Z").await.items.is_empty());
    let r = twice(&ctx, "2031-07-01T00:00:00Z", &leave).await;
    assert_eq!((r.outcome, r.status.as_deref()), (EventOutcome::Ignored, Some("deleted")));

    // Rehired: the same name again, a fresh password in the restored secret, a new welcome.
    let r = twice(&ctx, "2031-09-01T08:00:00Z", &hire("h2", "2031-09-01T07:00:00Z", "2031-09-01")).await;
    assert_eq!((r.outcome, r.status.as_deref()), (EventOutcome::Succeeded, Some("active")), "{:?}", r.error);
    assert_eq!(r.user_name.as_deref(), Some("jane.doe"));
    assert!(has_login(&acct, &user).await);
    let secret =
        acct.secrets().describe_secret().secret_id("employee-lifecycle/jane.doe/console-password").send().await;
    assert!(secret.expect("secret").deleted_date().is_none(), "restored for the rehire");
    assert_eq!(kinds(&inboxes).await, ["welcome", "welcome-manager"]);
}

#[tokio::test]
async fn a_rehired_leaver_gets_the_same_user_back_with_fresh_credentials() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(lifecycle_config()).await;
    let mut first = hire("h1", "2031-01-05T09:00:00Z", "2031-01-05");
    first["detail"]["access"] = json!({"console": true, "programmatic": true});
    let r = twice(&ctx, "2031-01-05T10:00:00Z", &first).await;
    let user = r.user_name.clone().expect("user");
    let id_before =
        acct.iam().get_user().user_name(&user).send().await.expect("user").user().expect("u").user_id().to_owned();
    let key_before = user_tags_key(&acct, &user).await;

    // Terminated on the spot, at once.
    let r =
        twice(&ctx, "2031-02-01T10:00:00Z", &depart("E5001", "d1", "2031-02-01T09:00:00Z", "2031-02-28", true)).await;
    assert_eq!(r.status.as_deref(), Some("disabled"));
    assert!(!has_login(&acct, &user).await);

    // HR's older hire event arrives late: ignored, the leaver stays disabled.
    let late = twice(&ctx, "2031-02-02T10:00:00Z", &first).await;
    assert_eq!(late.outcome, EventOutcome::Ignored);
    assert!(late.reason.as_deref().is_some_and(|r| r.contains("older than the last event")), "{late:?}");
    // A change for a leaver is not applied (it would give access back).
    let change = hr(
        "Employee Changed",
        "2031-02-03T09:00:00Z",
        json!({"eventId": "c9", "employeeId": "E5001", "department": "Finance"}),
    );
    assert_eq!(twice(&ctx, "2031-02-03T10:00:00Z", &change).await.outcome, EventOutcome::Ignored);
    assert!(user_groups(&acct, &user).await.is_empty());

    // The rehire: the same user (not a second one), signed in again, a new key, a new welcome.
    let mut again = hire("h2", "2031-06-01T09:00:00Z", "2031-06-01");
    again["detail"]["access"] = json!({"console": true, "programmatic": true});
    let r = twice(&ctx, "2031-06-01T10:00:00Z", &again).await;
    assert_eq!((r.outcome, r.status.as_deref()), (EventOutcome::Succeeded, Some("active")), "{:?}", r.error);
    let id_after =
        acct.iam().get_user().user_name(&user).send().await.expect("user").user().expect("u").user_id().to_owned();
    assert_eq!(id_before, id_after, "the same IAM user");
    assert!(has_login(&acct, &user).await);
    assert_eq!(user_groups(&acct, &user).await, ["AllEmployees", "Developers"]);
    let keys = acct.iam().list_access_keys().user_name(&user).send().await.expect("keys");
    let keys: Vec<(String, String)> = keys
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap_or_default().to_owned(),
                k.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(keys.len(), 1, "the old key is deleted, not kept beside the new one: {keys:?}");
    assert_eq!(keys[0].1, "Active");
    assert_ne!(Some(&keys[0].0), key_before.as_ref());
    let t = user_tags(&acct, &user).await;
    assert!(!t.contains_key(tags::DELETE_AT) && !t.contains_key(tags::DISABLED_AT), "deletion cancelled: {t:?}");
    let sent = kinds(&inboxes).await;
    assert_eq!(sent.iter().filter(|k| *k == "welcome").count(), 2, "one welcome per employment: {sent:?}");
    assert_eq!(sent.iter().filter(|k| *k == "access-ended").count(), 1);
}

async fn user_tags_key(acct: &Account, user: &str) -> Option<String> {
    let s = acct
        .secrets()
        .describe_secret()
        .secret_id(format!("employee-lifecycle/{user}/access-key"))
        .send()
        .await
        .ok()?;
    s.tags().iter().find(|t| t.key() == Some("access-key-id")).and_then(|t| t.value().map(str::to_owned))
}

#[tokio::test]
async fn protected_and_unmanaged_users_survive_their_departure() {
    let acct = Account::new().await;
    let mut cfg = lifecycle_config();
    cfg.lifecycle.protect = vec!["jane.doe".into()];
    let (ctx, _inboxes) = acct.ready(cfg).await;
    twice(&ctx, "2031-01-05T10:00:00Z", &hire("h1", "2031-01-05T09:00:00Z", "2031-01-05")).await;
    // A user someone made by hand under an employee's path, with the id but not the marker.
    acct.iam()
        .create_user()
        .user_name("svc-deploy")
        .path("/employees/E9001/")
        .tags(aws_sdk_iam::types::Tag::builder().key("employee-id").value("E9001").build().expect("tag"))
        .send()
        .await
        .expect("hand-made user");
    acct.iam()
        .create_login_profile()
        .user_name("svc-deploy")
        .password("Hand-made-Passw0rd!")
        .send()
        .await
        .expect("login");

    for (employee, user, why) in [("E5001", "jane.doe", "protected"), ("E9001", "svc-deploy", "not managed")] {
        let r = twice(
            &ctx,
            "2031-02-01T10:00:00Z",
            &depart(employee, &format!("d-{employee}"), "2031-02-01T09:00:00Z", "2031-01-31", true),
        )
        .await;
        assert_eq!(r.outcome, EventOutcome::Ignored, "{user}");
        assert!(r.reason.as_deref().is_some_and(|r| r.contains(why)), "{user}: {:?}", r.reason);
        assert!(has_login(&acct, user).await, "{user} keeps its console access");
    }
    assert_eq!(user_groups(&acct, "jane.doe").await, ["AllEmployees", "Developers"]);

    // Nor does an unknown employee's departure or change do anything.
    let r =
        twice(&ctx, "2031-02-01T10:00:00Z", &depart("E404", "d404", "2031-02-01T09:00:00Z", "2031-01-31", true)).await;
    assert_eq!(r.outcome, EventOutcome::Ignored);
    let change = hr(
        "Employee Changed",
        "2031-02-01T09:00:00Z",
        json!({"eventId": "c404", "employeeId": "E404", "title": "CEO"}),
    );
    assert_eq!(twice(&ctx, "2031-02-01T10:00:00Z", &change).await.outcome, EventOutcome::Ignored);
}

#[tokio::test]
async fn the_mass_departure_guard_quarantines_until_overridden() {
    let acct = Account::new().await;
    let mut cfg = lifecycle_config();
    cfg.lifecycle.max_disables = 2;
    let (ctx, inboxes) = acct.ready(cfg).await;
    let people = ["E7001", "E7002", "E7003"];
    for (id, name) in people.iter().zip(["PersonA", "PersonB", "PersonC"]) {
        hire_doe(&ctx, id, name).await;
    }
    inboxes.audit.drain().await;

    // Three immediate departures in one run: over the limit of two, so none happens.
    let batch: Vec<_> = people
        .iter()
        .map(|id| Ok(depart(id, &format!("d-{id}"), "2031-02-01T09:00:00Z", "2031-01-31", true)))
        .collect();
    let now = Ctx { now: Some(at("2031-02-01T10:00:00Z")), ..ctx.clone() };
    for _ in 0..2 {
        let reports = run_all(&now, batch.clone()).await;
        assert!(
            reports
                .iter()
                .all(|r| r.outcome == EventOutcome::Quarantined && r.status.as_deref() == Some("quarantined")),
            "{reports:?}"
        );
    }
    for name in ["persona.doe", "personb.doe", "personc.doe"] {
        assert!(has_login(&acct, name).await, "{name} untouched");
    }
    let audit = inboxes.audit.drain().await;
    let alerts: Vec<_> = audit.iter().filter(|m| m.attributes["event-type"] == "alert").collect();
    assert_eq!(alerts.len(), 2, "one alert per run");
    assert!(alerts[0].json()["reason"].as_str().is_some_and(|r| r.contains("max_disables")));

    // The operator's override: all three go.
    let allowed = Ctx { allow_mass_offboarding: true, ..now.clone() };
    let reports = run_all(&allowed, batch.clone()).await;
    assert!(reports.iter().all(|r| r.status.as_deref() == Some("disabled")), "{reports:?}");
    let again = run_all(&allowed, batch).await;
    assert!(again.iter().all(|r| r.outcome == EventOutcome::Unchanged), "{again:?}");

    // The same guard in the sweep: three scheduled departures fall due together.
    let acct = Account::new().await;
    let mut cfg = lifecycle_config();
    cfg.lifecycle.max_disables = 2;
    let (ctx, _inboxes) = acct.ready(cfg).await;
    for (id, name) in people.iter().zip(["PersonA", "PersonB", "PersonC"]) {
        hire_doe(&ctx, id, name).await;
        twice(
            &ctx,
            "2031-01-06T10:00:00Z",
            &depart(id, &format!("d-{id}"), "2031-01-06T09:00:00Z", "2031-01-31", false),
        )
        .await;
    }
    for _ in 0..2 {
        let s = sweep_at(&ctx, "2031-02-01T00:00:00Z").await;
        assert!(s.quarantined.is_some());
        assert!(s.items.iter().all(|i| i.outcome == SweepOutcome::Quarantined), "{s:?}");
    }
    assert!(has_login(&acct, "persona.doe").await);
    let open = Ctx { now: Some(at("2031-02-01T00:00:00Z")), allow_mass_offboarding: true, ..ctx.clone() };
    let s = sweep::run(&open).await.expect("sweep");
    assert!(s.items.iter().all(|i| i.outcome == SweepOutcome::Succeeded && i.status == "disabled"), "{s:?}");
    assert!(!has_login(&acct, "persona.doe").await);
}

/// A throwaway RSA public key and a self-signed certificate, generated for these tests.
const SSH_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCwOl+5ufZZQvDEug5ilXllCa0HA12TmXfPTChVnwSu6OeX0/3xo2VKwjN+hyXDD6ZvStobquyKy8R9qh4K6aLwrJ6BxxEYV52DD8TnVxMMm+yTT335Td6BgJzd8iG8n27FM6mAMsi+NaGOew8WH+kQXVM6bQsbPd3TQsDlTx0QyS5Z4pGld/dkwbIHWUxSC5mWp91Q/KxbxpI8WgZEAwjOWtXRmxcQoigrOsMQ9WMJPUZTBDGKKOZp6AfBUIV1G3WNuP26WyQBT4VaDrmyVwswVH7h9PDeUjwajhTDRr2BqB7oUtc8O8oe3cRCrfqE0gGxONQ77GZ6yrmiJnxGIGer jane@laptop";

const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBRzCB76ADAgECAgEBMAoGCCqGSM49BAMCMC4xLDAqBgNVBAMMI2VtcGxveWVl
LWxpZmVjeWNsZSB0ZXN0IGNlcnRpZmljYXRlMB4XDTI2MTEyODAwMDAwMFoXDTM2
MTEyNTAwMDAwMFowLjEsMCoGA1UEAwwjZW1wbG95ZWUtbGlmZWN5Y2xlIHRlc3Qg
Y2VydGlmaWNhdGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATl1mK/whJQAmrz
wK2nM1Uy+QA5z7RWwHiREJK4Z6MXKRQ+3FJMpRXIcwCAc8MTAM5aFUXhopSMYvO1
oG2X52USMAoGCCqGSM49BAMCA0cAMEQCIHyKYYpUJYrfjXtdGJAvbR0mOsqfWJeW
+++euXmmqkKwAiBQT7dtrIK5c4fGqep1nVHVBdQyt40UBKWYzGnTKwkG5w==
-----END CERTIFICATE-----";

/// Initial credentials do not outlive their purpose. The secrets' issue times are the
/// emulator's clock, so this test runs at the real time (and 15 days after it). A console
/// sign-in is simulated through `tests/emulator.py` (AWS sets `PasswordLastUsed`; moto has no
/// sign-in); an access key is used by calling AWS with it, which the emulator records.
#[tokio::test]
async fn initial_credentials_are_deleted_once_used_and_withdrawn_when_unused() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct
        .ready(Config {
            secrets: shared::config::SecretsConfig { initial_ttl_days: 14, ..config().secrets },
            ..lifecycle_config()
        })
        .await;
    let now = Utc::now();
    let later = now + chrono::TimeDelta::days(15);
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let today = now.date_naive().to_string();
    let hire = |file: &str| {
        let mut e = tests::event(file, json!({"startDate": today}));
        e["time"] = json!(stamp(now - chrono::TimeDelta::hours(1)));
        e
    };
    let (jane_hire, zoe_hire) = (hire("hire-engineering.json"), hire("hire-finance-programmatic.json"));
    let now_s = stamp(now);
    assert_eq!(twice(&ctx, &now_s, &jane_hire).await.outcome, EventOutcome::Succeeded);
    let zoe = twice(&ctx, &now_s, &zoe_hire).await;
    let zoe_user = zoe.user_name.clone().expect("zoe");
    inboxes.notifications.drain().await;
    let live = |acct: &Account| {
        let c = acct.secrets();
        async move {
            let list = c.list_secrets().send().await.expect("list");
            let mut names: Vec<String> = list
                .secret_list()
                .iter()
                .filter(|s| s.deleted_date().is_none())
                .filter_map(|s| s.name().map(str::to_owned))
                .collect();
            names.sort();
            names
        }
    };
    // GIVEN nothing used yet: a sweep now changes nothing
    assert!(sweep_at(&ctx, &now_s).await.items.is_empty());
    assert_eq!(live(&acct).await.len(), 3);

    // WHEN Jane signs in (and so must change the stored password) and Zoë uses her key
    acct.sign_in("jane.doe");
    let key = acct.access_key_document(&format!("employee-lifecycle/{zoe_user}/access-key")).await;
    let (id, secret) = (key["AccessKeyId"].as_str().expect("id"), key["SecretAccessKey"].as_str().expect("secret"));
    let as_zoe = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&acct.sdk)
            .credentials_provider(aws_sdk_iam::config::Credentials::new(id, secret, None, None, "zoe"))
            .build(),
    );
    as_zoe.get_user().user_name(&zoe_user).send().await.expect("Zoë calls AWS with her key");

    // THEN the sweep deletes exactly those two secrets; the login profile and the key stay
    let s = sweep_at(&ctx, &now_s).await;
    let mut done: Vec<(String, &str)> = s.items.iter().map(|i| (i.user_name.clone(), i.due.as_str())).collect();
    done.sort();
    assert_eq!(done, [("jane.doe".to_owned(), "retire-credential"), (zoe_user.clone(), "retire-credential")]);
    assert!(s.items.iter().all(|i| i.outcome == SweepOutcome::Succeeded), "{s:?}");
    assert_eq!(live(&acct).await, [format!("employee-lifecycle/{zoe_user}/console-password")]);
    assert!(has_login(&acct, "jane.doe").await);
    let keys = acct.iam().list_access_keys().user_name(&zoe_user).send().await.expect("keys");
    assert_eq!(keys.access_key_metadata().len(), 1);
    assert_eq!(user_tags(&acct, &zoe_user).await.get(tags::ACCESS_KEY_DELIVERED).map(String::as_str), Some(id));
    assert!(sweep_at(&ctx, &now_s).await.items.is_empty(), "retired once");

    // WHEN Zoë's password stays unused past the TTL
    let later_s = stamp(later);
    let s = sweep_at(&ctx, &later_s).await;
    assert_eq!(s.items.len(), 1, "{s:?}");
    assert_eq!((s.items[0].user_name.as_str(), s.items[0].due.as_str()), (zoe_user.as_str(), "expire-credential"));
    // THEN it is withdrawn: no login profile, no secret, the manager told, the user marked
    assert!(!has_login(&acct, &zoe_user).await);
    assert!(live(&acct).await.is_empty());
    let t = user_tags(&acct, &zoe_user).await;
    assert!(t.contains_key(tags::CREDENTIALS_EXPIRED) && !t.contains_key(tags::WELCOME_SENT), "{t:?}");
    assert_eq!(kinds(&inboxes).await, ["credentials-expired"]);
    let audit: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    assert!(audit.iter().any(|a| a["action"] == "iam:DeleteLoginProfile" && a["employeeId"] == "E1002"));
    assert!(audit.iter().any(|a| a["action"] == "expire-credential" && a["terminal"] == true));

    // AND a resend of the hire issues nothing again (no password, no second key)
    let r = twice(&ctx, &later_s, &zoe_hire).await;
    assert_eq!(r.outcome, EventOutcome::Unchanged, "{r:?}");
    assert!(!has_login(&acct, &zoe_user).await);
    assert_eq!(
        acct.iam().list_access_keys().user_name(&zoe_user).send().await.expect("keys").access_key_metadata().len(),
        1
    );
    assert!(kinds(&inboxes).await.is_empty());

    // WHEN HR's next change arrives THEN the password is re-issued and she is welcomed again
    let change = hr(
        "Employee Changed",
        &stamp(later - chrono::TimeDelta::hours(1)),
        json!({"eventId": "c-zoe", "employeeId": "E1002", "title": "Head of Finance"}),
    );
    let r = twice(&ctx, &later_s, &change).await;
    assert_eq!(r.outcome, EventOutcome::Succeeded, "{r:?}");
    assert!(has_login(&acct, &zoe_user).await);
    assert_eq!(live(&acct).await, [format!("employee-lifecycle/{zoe_user}/console-password")]);
    assert!(!user_tags(&acct, &zoe_user).await.contains_key(tags::CREDENTIALS_EXPIRED));
    let mut sent = kinds(&inboxes).await;
    sent.sort();
    assert_eq!(sent, ["access-changed", "welcome", "welcome-manager"]);
}

/// A disable ends access first (the deny-all tag), then removes every credential; a failing
/// audit topic neither stops nor undoes it, and the failure is loud.
#[tokio::test]
async fn a_disable_revokes_first_and_never_waits_for_the_audit_trail() {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(lifecycle_config()).await;
    let r = twice(&ctx, "2031-01-05T10:00:00Z", &hire("h1", "2031-01-05T09:00:00Z", "2031-01-05")).await;
    let user = r.user_name.expect("user");
    acct.iam().create_access_key().user_name(&user).send().await.expect("the person's own key");

    // GIVEN the audit topic is gone (a broken key policy, a deleted topic: any publish fails)
    acct.sns().delete_topic().topic_arn(&ctx.targets.audit_topic_arn).send().await.expect("delete topic");
    let (logs, guard) = tests::capture_logs();
    let leave = depart("E5001", "d1", "2031-02-01T09:00:00Z", "2031-02-28", true);
    let ctx_now = Ctx { now: Some(at("2031-02-01T10:00:00Z")), ..ctx.clone() };
    let failed = process(&ctx_now, &leave).await;
    drop(guard);

    // THEN the event fails, loudly, with every record of what was done in the log
    assert_eq!(failed.outcome, EventOutcome::Failed);
    assert_eq!(failed.error_type.as_deref(), Some("Onboarding.AuditUndelivered"), "{:?}", failed.error);
    let logs = logs.text();
    assert!(logs.matches("audit record undelivered").count() >= 4, "{logs}");
    // AND yet access ended, first, and entirely (checked through the API and the recording)
    let tags = user_tags(&acct, &user).await;
    assert_eq!(tags.get(tags::ACCESS_REVOKED).map(String::as_str), Some("2031-02-01T10:00:00Z"));
    assert!(!has_login(&acct, &user).await);
    let keys = acct.iam().list_access_keys().user_name(&user).send().await.expect("keys");
    assert!(keys.access_key_metadata().iter().all(|k| k.status().map(|s| s.as_str()) == Some("Inactive")));
    assert!(user_groups(&acct, &user).await.is_empty());
    let writes: Vec<String> = acct
        .recorded()
        .into_iter()
        .filter(|(a, b)| {
            ["TagUser", "DeleteLoginProfile", "UpdateAccessKey", "RemoveUserFromGroup"].contains(&a.as_str())
                && b.contains(&user)
        })
        .map(|(a, b)| if b.contains("access-revoked") { "revoke".to_owned() } else { a })
        .collect();
    let revoke = writes.iter().position(|w| w == "revoke").expect("the revocation tag was written");
    let removals: Vec<usize> =
        writes.iter().enumerate().filter(|(_, w)| *w != "TagUser" && *w != "revoke").map(|(i, _)| i).collect();
    assert_eq!(removals.len(), 4, "login profile, key, two groups: {writes:?}");
    assert!(removals.iter().all(|&i| i > revoke), "access ended before any credential was touched: {writes:?}");

    // AND the disable finished (the status too): the step's records wait for its end, so a
    // broken topic stops nothing in it; they are in the log in full, the revocation tag first
    assert_eq!(tags.get(tags::STATUS).map(String::as_str), Some("disabled"));
    let undelivered: Vec<Value> = logs
        .lines()
        .filter(|l| l.contains("audit record undelivered"))
        .filter_map(|l| l.split_once("record=").and_then(|(_, r)| r.rsplit_once(" error=")))
        .filter_map(|(json, _)| serde_json::from_str(json).ok())
        .collect();
    let first = undelivered.iter().find(|r| r["step"] == "offboard").expect("an offboard record in the log");
    assert_eq!(first["action"], "iam:TagUser");
    assert!(first["target"].as_str().is_some_and(|t| t.contains("access-revoked")), "{first}");

    // WHEN the topic is back and HR's delivery is retried THEN it finds the work done, and the
    // terminal record and the report say when access ended (the first attempt's time, kept)
    let topic = acct.sns().create_topic().name("onboarding-audit").send().await.expect("topic");
    assert_eq!(topic.topic_arn(), Some(ctx.targets.audit_topic_arn.as_str()));
    let audit = tests::Inbox::subscribe(&acct.sdk, &ctx.targets.audit_topic_arn, "audit-again").await;
    let later = Ctx { now: Some(at("2031-02-01T11:00:00Z")), ..ctx.clone() };
    let done = process(&later, &leave).await;
    assert_eq!(done.outcome, EventOutcome::Unchanged, "{:?}", done.error);
    assert_eq!(done.status.as_deref(), Some("disabled"));
    assert_eq!(done.access_ended_at.as_deref(), Some("2031-02-01T10:00:00Z"));
    let records: Vec<Value> = audit.drain().await.iter().map(|m| m.json()).collect();
    let terminal = records.iter().find(|r| r["terminal"] == true).expect("terminal record");
    assert_eq!(terminal["accessEndedAt"], "2031-02-01T10:00:00Z");
}

/// Deleted people stay deleted: the tombstone outlives the user, an archive replay or a late
/// resend is ignored with the reason, and only a genuinely newer hire brings the person back.
#[tokio::test]
async fn deleted_people_stay_deleted_unless_genuinely_rehired() {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(lifecycle_config()).await;
    let first = hire("h1", "2031-01-05T09:00:00Z", "2031-01-05");
    let change = hr(
        "Employee Changed",
        "2031-01-20T09:00:00Z",
        json!({"eventId": "c1", "employeeId": "E5001", "title": "Staff Engineer"}),
    );
    let leave = depart("E5001", "d1", "2031-02-01T09:00:00Z", "2031-01-31", true);
    twice(&ctx, "2031-01-05T10:00:00Z", &first).await;
    twice(&ctx, "2031-01-20T10:00:00Z", &change).await;
    twice(&ctx, "2031-02-01T10:00:00Z", &leave).await;
    let s = sweep_at(&ctx, "2031-03-04T00:00:00Z").await;
    assert_eq!(s.items.iter().map(|i| i.status.as_str()).collect::<Vec<_>>(), ["deleted"], "{s:?}");

    // THEN the tombstone remembers the person, through the AWS API
    let item = aws_sdk_dynamodb::Client::new(&acct.sdk)
        .get_item()
        .table_name("employee-lifecycle-tombstones")
        .key("employeeId", aws_sdk_dynamodb::types::AttributeValue::S("E5001".into()))
        .send()
        .await
        .expect("get tombstone");
    let item = item.item().expect("a tombstone");
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(text("lastEventTime").as_deref(), Some("2031-02-01T09:00:00Z"));
    assert_eq!(text("userName").as_deref(), Some("jane.doe"));
    let expires: i64 = item["expiresAt"].as_n().expect("ttl").parse().expect("number");
    assert!(expires > at("2032-03-01T00:00:00Z").timestamp(), "kept longer than the 365-day archive");

    // WHEN the archive is replayed (every old event again, in order)
    for (now, ev) in
        [("2031-03-05T10:00:00Z", &first), ("2031-03-05T10:00:00Z", &change), ("2031-03-05T10:00:00Z", &leave)]
    {
        let r = twice(&ctx, now, ev).await;
        // THEN each is ignored with the reason, and nothing is created
        assert_eq!(r.outcome, EventOutcome::Ignored, "{r:?}");
        assert!(r.reason.as_deref().is_some_and(|why| why.contains("E5001")), "{r:?}");
    }
    let late = twice(&ctx, "2031-03-05T10:00:00Z", &first).await;
    assert!(late.reason.as_deref().is_some_and(|r| r.contains("was deleted on 2031-03-04")), "{late:?}");
    assert!(acct.iam().get_user().user_name("jane.doe").send().await.is_err(), "not resurrected");

    // WHEN HR genuinely rehires the person (a newer hire) THEN they are back, fresh
    let again = hire("h2", "2031-06-01T09:00:00Z", "2031-06-01");
    let r = twice(&ctx, "2031-06-01T10:00:00Z", &again).await;
    assert_eq!((r.outcome, r.status.as_deref()), (EventOutcome::Succeeded, Some("active")), "{r:?}");
    assert!(has_login(&acct, "jane.doe").await);
}

/// A scheduled departure ends on time: the offboard step creates a one-time schedule for its
/// moment, targeting the offboard flow with the departure itself; the emulator never fires it,
/// so the test invokes that target with that input at that time.
#[tokio::test]
async fn a_scheduled_departure_is_disabled_by_its_own_schedule() {
    let acct = Account::new().await;
    let mut cfg = lifecycle_config();
    let machine = format!("arn:aws:states:us-east-1:{}:stateMachine:employee-offboard", acct.id);
    let role = format!("arn:aws:iam::{}:role/employee-lifecycle-SchedulerRole-ABC", acct.id);
    cfg.lifecycle.schedule_target = Some(machine.clone());
    cfg.lifecycle.schedule_role = Some(role.clone());
    let (ctx, _inboxes) = acct.ready(cfg).await;
    twice(&ctx, "2031-01-05T10:00:00Z", &hire("h1", "2031-01-05T09:00:00Z", "2031-01-05")).await;

    // WHEN a departure is scheduled for the end of 30 May
    let leave = depart("E5001", "d1", "2031-05-01T09:00:00Z", "2031-05-30", false);
    let r = twice(&ctx, "2031-05-01T10:00:00Z", &leave).await;
    assert_eq!(r.disable_at.as_deref(), Some("2031-05-31T00:00:00Z"));

    // THEN its schedule fires then, at the offboard flow, with the departure as input
    let scheduler = aws_sdk_scheduler::Client::new(&acct.sdk);
    let s = scheduler.get_schedule().name("employee-disable-E5001").send().await.expect("schedule");
    assert_eq!(s.schedule_expression(), Some("at(2031-05-31T00:00:00)"));
    assert_eq!(s.schedule_expression_timezone(), Some("UTC"));
    let target = s.target().expect("target");
    assert_eq!((target.arn(), target.role_arn()), (machine.as_str(), role.as_str()));
    let input: Value = serde_json::from_str(target.input().expect("input")).expect("json");
    assert_eq!(input, leave);
    // and `onboarding status` says when access ends
    let scheduled = |ctx: Ctx| async move {
        let people = onboarding::status::status(&ctx, &["E5001".to_owned()], None).await.expect("status");
        people[0].departure_scheduled_at.clone()
    };
    assert_eq!(scheduled(ctx.clone()).await.as_deref(), Some("2031-05-31T00:00:00Z"));

    // WHEN that target runs with that input at that moment THEN access ends, and the schedule
    // (done) is gone
    let ctx_then = Ctx { now: Some(at("2031-05-31T00:00:30Z")), ..ctx.clone() };
    let fired = process(&ctx_then, &input).await;
    assert_eq!((fired.outcome, fired.status.as_deref()), (EventOutcome::Succeeded, Some("disabled")), "{fired:?}");
    assert_eq!(fired.access_ended_at.as_deref(), Some("2031-05-31T00:00:30Z"));
    assert!(!has_login(&acct, "jane.doe").await);
    assert!(scheduler.get_schedule().name("employee-disable-E5001").send().await.is_err());
    assert_eq!(scheduled(ctx.clone()).await, None, "no schedule left to show");
    // A second firing (at least once) changes nothing.
    let again = process(&ctx_then, &input).await;
    assert_eq!(again.outcome, EventOutcome::Unchanged, "{again:?}");
}

/// A sweep with a broken audit topic still ends the access that is due (its alerts and records
/// are logged and alarmed instead), and keeps what an operator holds held.
#[tokio::test]
async fn a_sweep_revokes_what_is_due_even_when_the_audit_topic_fails() {
    let acct = Account::new().await;
    // (Two users, both due: the per-sweep share rule would hold both; this is not about it.)
    let mut cfg = lifecycle_config();
    cfg.lifecycle.max_disable_percent = 100;
    let (ctx, _inboxes) = acct.ready(cfg).await;
    hire_doe(&ctx, "E6001", "Held").await;
    hire_doe(&ctx, "E6002", "Due").await;
    // GIVEN one departure held by the guard earlier, one simply due, and no audit topic
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().expect("tag");
    for (user, held) in [("held.doe", true), ("due.doe", false)] {
        let mut req = acct.iam().tag_user().user_name(user).tags(tag("disable-at", "2031-02-01T00:00:00Z"));
        if held {
            req = req.tags(tag("disable-held", "2031-02-01T00:00:00Z"));
        }
        req.send().await.expect("tag");
    }
    acct.sns().delete_topic().topic_arn(&ctx.targets.audit_topic_arn).send().await.expect("delete topic");
    let (logs, guard) = tests::capture_logs();
    let s = sweep_at(&ctx, "2031-02-01T10:00:00Z").await;
    drop(guard);
    // THEN the due one lost access (and its item says the records did not go out), the held one
    // is untouched, and the undelivered alert is in the log
    let item = |u: &str| s.items.iter().find(|i| i.user_name == u).unwrap_or_else(|| panic!("{u}: {s:?}"));
    // (its "still held" record cannot be published either, so that item fails; nothing changes)
    assert!(matches!(item("held.doe").outcome, SweepOutcome::Quarantined | SweepOutcome::Failed));
    assert!(item("held.doe").actions.iter().all(|a| a.outcome != shared::audit::Outcome::Done));
    assert_eq!(item("due.doe").outcome, SweepOutcome::Failed);
    assert_eq!(item("due.doe").error_type.as_deref(), Some("Onboarding.AuditUndelivered"));
    assert!(user_tags(&acct, "due.doe").await.contains_key(tags::ACCESS_REVOKED));
    assert!(!has_login(&acct, "due.doe").await);
    assert!(has_login(&acct, "held.doe").await);
    assert!(logs.text().contains("held by the mass-departure guard await an operator"), "the alert is logged");
}

/// A one-statement policy document allowing `action` on everything.
fn allow(action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}).to_string()
}

/// The leavers the roles' boundary denies, read back from IAM (the default version's document).
async fn leavers_denied(acct: &Account, ctx: &Ctx) -> std::collections::BTreeSet<String> {
    let arn = ctx.targets.role_sessions_boundary_arn.clone().expect("the shipped config names one");
    let iam = acct.iam();
    let policy = iam.get_policy().policy_arn(&arn).send().await.expect("GetPolicy");
    let version = policy.policy().and_then(|p| p.default_version_id()).expect("a default version");
    let out = iam.get_policy_version().policy_arn(&arn).version_id(version).send().await.expect("GetPolicyVersion");
    let text = shared::aws::percent_decode(out.policy_version().and_then(|v| v.document()).expect("document"));
    shared::policies::leavers_denied(&serde_json::from_str(&text).expect("a JSON policy"))
}

/// Departures end the leavers' role sessions: three leaving at once (three concurrent
/// executions rewriting one policy) all land in the roles' boundary; a resend changes nothing;
/// twelve hours after a revocation (the longest role session) the sweep drops the name.
#[tokio::test]
async fn departures_deny_the_leavers_role_sessions_until_every_session_has_expired() {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(lifecycle_config()).await;
    assert!(leavers_denied(&acct, &ctx).await.is_empty(), "bootstrap installs it empty");
    for (id, name) in [("E7101", "Ann"), ("E7102", "Ben"), ("E7103", "Cat")] {
        hire_doe(&ctx, id, name).await;
    }
    let at_ten = Ctx { now: Some(at("2031-02-01T10:00:00Z")), ..ctx.clone() };
    let leave = |id: &str| depart(id, &format!("d-{id}"), "2031-02-01T09:00:00Z", "2031-02-01", true);
    let (a, b, c) = (leave("E7101"), leave("E7102"), leave("E7103"));
    let reports = tokio::join!(process(&at_ten, &a), process(&at_ten, &b), process(&at_ten, &c));
    let mut names = std::collections::BTreeSet::new();
    for r in [reports.0, reports.1, reports.2] {
        assert_eq!(r.outcome, EventOutcome::Succeeded, "{:?}", r.error);
        assert_eq!(r.status.as_deref(), Some("disabled"));
        names.insert(r.user_name.expect("a user"));
    }
    assert_eq!(names.len(), 3);
    assert_eq!(leavers_denied(&acct, &ctx).await, names, "every concurrent departure is in the boundary");
    let again = process(&at_ten, &a).await;
    assert_eq!(again.outcome, EventOutcome::Unchanged, "{:?}", again.actions);
    // Within twelve hours the sweep keeps them; after, no session issued before remains.
    let kept = sweep_at(&ctx, "2031-02-01T21:59:00Z").await;
    assert!(!kept.failed(), "{kept:?}");
    assert_eq!(leavers_denied(&acct, &ctx).await, names);
    let pruned = sweep_at(&ctx, "2031-02-01T22:00:01Z").await;
    assert!(!pruned.failed(), "{pruned:?}");
    assert!(leavers_denied(&acct, &ctx).await.is_empty());
}
