//! The roles and HR's doors: who puts events, who publishes, whose tags, the intake's secrets.

use super::*;

#[test]
fn only_named_publishers_put_hr_events_and_only_the_sources_start_flows() {
    let s = stack();
    let bus_policy = json!({"Version": "2012-10-17", "Statement": [resource(&s, "HrBusPolicy")["Statement"].clone()]});
    let bus = arn("events", "event-bus/hr-events");
    let put = || Request::new("events:PutEvents", &bus);
    let on = Resource::Policy(&bus_policy);
    allowed(&allowed_to("hr", HR_PUBLISHER, &["events:PutEvents"]), put(), on);
    denied(&admin(), put(), on);
    denied(&allowed_to("another app", &format!("arn:aws:iam::{ACCOUNT}:role/app"), &["events:PutEvents"]), put(), on);
    denied(&employee(&s, "jane.doe", "E1"), mfa(put()), on);
    // The intake (HR's verified webhooks) puts; it may not put on another bus.
    let intake = function_role(&s, "IntakeRole");
    allowed(&intake, put(), on);
    denied(&intake, Request::new("events:PutEvents", &arn("events", "event-bus/default")), Resource::None);
    for rule in ["OnboardRule", "ChangeRule", "OffboardRule"] {
        assert_eq!(resource(&s, rule)["EventPattern"]["source"], json!(["hr.workday"]), "{rule}: exact sources only");
    }
}

#[test]
fn only_this_systems_roles_publish_records_and_messages_and_only_auditors_read() {
    let s = stack();
    let topics = resource(&s, "TopicsPolicy")["PolicyDocument"].clone();
    let audit = arn("sns", "onboarding-audit");
    let publish = |t: &str| Request::new("sns:Publish", t);
    let on = Resource::Policy(&topics);
    allowed(&function_role(&s, "NotifyRole"), publish(&arn("sns", "onboarding-notifications")), on);
    allowed(&function_role(&s, "RecordRole"), publish(&audit), on);
    // The state machines no longer publish: the record step does.
    denied(&function_role(&s, "FlowsRole"), publish(&audit), on);
    denied(&admin(), publish(&audit), on);
    denied(&allowed_to("app", &format!("arn:aws:iam::{ACCOUNT}:role/app"), &["sns:Publish"]), publish(&audit), on);
    // The reviews function sends the reviewers' links and records their decisions; the operator's
    // CLI records its own decisions (quarantine, adoption, a campaign's close) and may send links.
    let notifications = arn("sns", "onboarding-notifications");
    for topic in [&audit, &notifications] {
        allowed(&function_role(&s, "ReviewsRole"), publish(topic), on);
        let operator = format!("arn:aws:iam::{ACCOUNT}:role/employee-lifecycle-operator");
        allowed(&allowed_to("operator", &operator, &["sns:Publish"]), publish(topic), on);
    }
    // A role of this stack may publish only where its own policy says: tag-user has no right
    // to message people.
    denied(&function_role(&s, "TagUserRole"), publish(&arn("sns", "onboarding-notifications")), on);

    let queue = resource(&s, "AuditorsQueuePolicy")["PolicyDocument"].clone();
    let receive = Request::new("sqs:ReceiveMessage", &arn("sqs", "onboarding-auditors"));
    let on = Resource::Policy(&queue);
    allowed(&allowed_to("auditor", AUDITOR, &["sqs:ReceiveMessage"]), receive.clone(), on);
    denied(&admin(), receive, on);
}

#[test]
fn the_roles_write_only_this_systems_tags_and_only_create_user_marks_a_user() {
    let s = stack();
    let managed = |r: Request| r.with("iam:ResourceTag/managed-by", &["employee-lifecycle"]);
    let jane = user_arn("E1", "jane.doe");
    let stranger = format!("arn:aws:iam::{ACCOUNT}:user/employees/E7/hand-made");
    for role in ["TagUserRole", "NotifyRole", "OffboardRole", "SweepRole"] {
        let p = function_role(&s, role);
        allowed(
            &p,
            managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &["lifecycle-status"]),
            Resource::None,
        );
        for forged in [["managed-by"], ["employee-id"], ["team-owner"]] {
            denied(&p, managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &forged), Resource::None);
        }
        // A user this system did not mark cannot be given the marker or anything else.
        denied(&p, Request::new("iam:TagUser", &stranger).with("aws:TagKeys", &["lifecycle-status"]), Resource::None);
    }
    let create = function_role(&s, "CreateUserRole");
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/employee-permissions-boundary");
    // The tag keys `create-user` creates users with, as the code computes them: a hire with every
    // optional attribute, once pending (its start ahead) and once active.
    let mut every = tests::event(
        "hire-finance-programmatic.json",
        serde_json::json!({
            "title": "Controller", "location": "Dublin", "costCenter": "CC-1", "preferredName": "Zo"
        }),
    );
    let cfg = tests::config();
    let mut keys = std::collections::BTreeSet::new();
    for start in ["2026-01-05", "2099-01-05"] {
        every["detail"]["startDate"] = serde_json::json!(start);
        let Ok(shared::intent::Request::Hire(intent)) = shared::intent::Request::from_event(&cfg, &every) else {
            panic!("a valid hire")
        };
        let now = chrono::Utc::now();
        let tags = shared::person::hire_tags(&cfg.lifecycle, now, &intent, &Default::default());
        keys.extend(tags.into_keys());
    }
    assert!(
        keys.contains("activate-at") && keys.contains("last-event-time") && keys.contains("cost-center"),
        "{keys:?}"
    );
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let new_user = format!("arn:aws:iam::{ACCOUNT}:user/employees/E8/new.hire");
    let at_creation = |action: &str| {
        Request::new(action, &new_user).with("iam:PermissionsBoundary", &[&boundary]).with("aws:TagKeys", &keys)
    };
    allowed(&create, at_creation("iam:CreateUser"), Resource::None);
    // CreateUser with tags is also authorised as TagUser, and `iam:PermissionsBoundary` is not
    // among TagUser's documented keys (the independent simulator ignores it there): whether or
    // not IAM carries it into that check, the hire is allowed.
    allowed(&create, at_creation("iam:TagUser"), Resource::None);
    allowed(&create, Request::new("iam:TagUser", &new_user).with("aws:TagKeys", &keys), Resource::None);
    // Without the boundary, or with another one, no user is created (the call needs both).
    denied(&create, Request::new("iam:CreateUser", &new_user).with("aws:TagKeys", &keys), Resource::None);
    let other_boundary = format!("arn:aws:iam::{ACCOUNT}:policy/lenient");
    let lenient = Request::new("iam:CreateUser", &new_user).with("iam:PermissionsBoundary", &[&other_boundary]);
    denied(&create, lenient.with("aws:TagKeys", &keys), Resource::None);
    // A user this system marked is never retagged by create-user (another employee id, say).
    denied(&create, managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &["employee-id"]), Resource::None);
    // What remains: create-user could mark an unmarked user under the path. That user is still
    // not this system's, since ownership also needs the boundary, which this role sets only at
    // creation (it has no PutUserPermissionsBoundary).
    allowed(&create, Request::new("iam:TagUser", &stranger).with("aws:TagKeys", &["managed-by"]), Resource::None);
    denied(&create, Request::new("iam:PutUserPermissionsBoundary", &stranger), Resource::None);
    let marked_stranger = shared::aws::iam::User {
        name: "hand-made".into(),
        arn: stranger.clone(),
        path: "/employees/E7/".into(),
        tags: [("managed-by", "employee-lifecycle"), ("employee-id", "E7")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        boundary: None,
        password_last_used: None,
    };
    let owner = shared::person::ownership::Owner { cfg: &cfg, boundary_arn: &boundary, require_boundary: true };
    let refused = shared::person::ownership::ownership(owner, &marked_stranger).expect_err("not owned");
    assert!(refused.contains("permissions boundary is absent"), "{refused}");
    // Groups only from the allow-list.
    let join = function_role(&s, "JoinGroupsRole");
    allowed(
        &join,
        Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Developers")),
        Resource::None,
    );
    denied(&join, Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Admins")), Resource::None);
    // The template lists exactly the code's writable keys.
    let listed = |role: &str| -> Vec<String> {
        resource(&s, role)["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .filter_map(|st| st["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"].as_array())
            .flatten()
            .map(|k| k.as_str().expect("key").to_owned())
            .collect()
    };
    let writable: Vec<String> = shared::tags::writable_after_creation().iter().map(|k| k.to_string()).collect();
    for role in ["TagUserRole", "NotifyRole", "OffboardRole", "SweepRole", "StorePasswordRole"] {
        assert_eq!(listed(role), writable, "{role}");
    }
}

/// The intake holds the only read of a secret in this system: its own signing secrets. It
/// cannot read anyone's credentials, touch IAM, or publish anything but audit records; and no
/// other role of the stack can read the signing secrets.
#[test]
fn only_the_intake_reads_the_signing_secrets_and_the_intake_can_do_nothing_else() {
    let s = stack();
    let intake = function_role(&s, "IntakeRole");
    let read = |arn: &str| Request::new("secretsmanager:GetSecretValue", arn);
    allowed(&intake, read(SIGNING_SECRET), Resource::None);
    denied(&intake, read(&secret_arn("jane.doe", "console-password")), Resource::None);
    denied(&intake, read(&arn("secretsmanager", "secret:hr/other-signing-AbCdEf")), Resource::None);
    for action in ["iam:CreateUser", "iam:GetUser", "iam:TagUser", "iam:CreateAccessKey"] {
        denied(&intake, Request::new(action, &user_arn("E1", "jane.doe")), Resource::None);
    }
    denied(
        &intake,
        Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Admins")),
        Resource::None,
    );
    // It publishes its audit records past the topics' policy, and nothing else.
    let topics = resource(&s, "TopicsPolicy")["PolicyDocument"].clone();
    let notifications = arn("sns", "onboarding-notifications");
    denied(&intake, Request::new("sns:Publish", &notifications), Resource::Policy(&topics));
    allowed(&intake, Request::new("sns:Publish", &arn("sns", "onboarding-audit")), Resource::Policy(&topics));
    for role in [
        "CreateUserRole",
        "JoinGroupsRole",
        "TagUserRole",
        "StorePasswordRole",
        "NotifyRole",
        "OffboardRole",
        "SweepRole",
    ] {
        denied(&function_role(&s, role), read(SIGNING_SECRET), Resource::None);
    }
}
