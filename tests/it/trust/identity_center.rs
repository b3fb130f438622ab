//! Identity Center: a leaver's sessions denied, the roles on one store and instance.

use super::*;

/// Identity Center (written by `person::identity_center::end_sessions`): the inline policy of a
/// permission set this system manages, AWS's documented revocation, denies every request of a
/// session whose `identitystore:userId` is a leaver's, in whatever account the permission set is
/// provisioned to, chained sessions included, and nothing of a colleague's on the same
/// permission set; it grants nothing of its own.
#[test]
fn a_leavers_identity_center_sessions_are_denied_by_the_permission_sets_revocations() {
    let none = Resource::None;
    let (revocations, dropped) = policies::permission_set_revocations(["9067a8d5-jane"]);
    assert!(dropped.is_empty());
    let revocations = revocations.expect("a document for one leaver");
    let managed = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances", "sts:AssumeRole"], "Resource": "*"}]});
    let session = |who: &'static str, inline: Option<&Value>| Principal {
        name: who,
        arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Developers_0123456789abcdef/{who}"),
        account: ACCOUNT.into(),
        identity: std::iter::once(managed.clone()).chain(inline.cloned()).collect(),
        boundary: None,
    };
    let by = |r: Request, user_id: &str| r.with("identitystore:userId", &[user_id]);
    let requests = [
        Request::new("s3:GetObject", "arn:aws:s3:::team-bucket/report.csv"),
        Request::new("ec2:DescribeInstances", "*"),
        Request::new("sts:AssumeRole", &format!("arn:aws:iam::{ACCOUNT}:role/Deployer")),
    ];
    for r in requests {
        // Before the departure (no inline policy) her session works; after it, denied.
        allowed(&session("jane", None), by(r.clone(), "9067a8d5-jane"), none);
        let d = decide(&session("jane", Some(&revocations)), &by(r.clone(), "9067a8d5-jane"), none);
        assert_eq!(d, Decision::ExplicitDeny("identity: DenyLeavers".into()), "{}", r.action);
        // A colleague on the same permission set keeps theirs.
        allowed(&session("sam", Some(&revocations)), by(r, "4f2b1c3d-sam"), none);
    }
    // The revocations grant nothing: alone, a colleague's request is not allowed.
    let alone = Principal { identity: vec![revocations.clone()], ..session("sam", None) };
    assert_eq!(decide(&alone, &by(Request::new("s3:GetObject", "*"), "4f2b1c3d-sam"), none), Decision::ImplicitDeny);
}

/// Issue #22 item 8, a stack deployed with `Target` identity-center: the functions' roles reach
/// one instance and one identity store; only `create-user` makes a user and only the sweep
/// deletes one; only `offboard` and the sweep write a permission set's inline policy or provision
/// it, and only in the permission sets bootstrap made (tagged `managed-by`), never in another's
/// (an administrators' one, say); no role makes or changes a group, a permission set's grants or
/// an assignment (the operator's `bootstrap` does). With `Target` iam they have none of it. Who
/// else can rewrite those inline policies (and so lift a leaver's deny): under
/// `infra/guardrail-identity-center-scp.json`, not an administrator of the account; the deployer,
/// the operator and the two departure roles can, and nobody but the deployer and the operator
/// can mark or unmark a permission set as this system's, or write the people table but its
/// writers.
#[test]
fn on_identity_center_the_roles_reach_one_store_and_only_departures_write_the_managed_permission_sets() {
    let s = tests::stack::stack_for("identity-center");
    let none = Resource::None;
    let store = format!("arn:aws:identitystore::{ACCOUNT}:identitystore/{IDENTITY_STORE_ID}");
    let other_store = format!("arn:aws:identitystore::{ACCOUNT}:identitystore/d-9999999999");
    let user = "arn:aws:identitystore:::user/9067a8d5-jane";
    let group = "arn:aws:identitystore:::group/1c2d3e4f-developers";
    let instance = format!("arn:aws:sso:::instance/{INSTANCE_ID}");
    let other_instance = "arn:aws:sso:::instance/ssoins-fedcba0987654321";
    let ours = format!("arn:aws:sso:::permissionSet/{INSTANCE_ID}/ps-0123456789abcdef");
    let elsewhere = "arn:aws:sso:::permissionSet/ssoins-fedcba0987654321/ps-0123456789abcdef";
    let marked = |r: Request| r.with("aws:ResourceTag/managed-by", &["employee-lifecycle"]);
    let steps = [
        "CreateUserRole",
        "JoinGroupsRole",
        "TagUserRole",
        "StorePasswordRole",
        "NotifyRole",
        "RecordRole",
        "OffboardRole",
        "SweepRole",
    ];
    // Every step proves a user against its record: it reads users of this store, of no other.
    for role in steps {
        let p = function_role(&s, role);
        for resource in [store.as_str(), user] {
            allowed(&p, Request::new("identitystore:DescribeUser", resource), none);
        }
        denied(&p, Request::new("identitystore:DescribeUser", &other_store), none);
    }
    // Every action a role's Identity Center policy grants, on another store, another instance or
    // another table: denied.
    let other_table = arn("dynamodb", "table/someone-elses-table");
    for role in steps {
        let p = function_role(&s, role);
        let granted: std::collections::BTreeSet<String> = p
            .identity
            .iter()
            .flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default())
            .flat_map(|st| match &st["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                _ => Vec::new(),
            })
            .filter(|a| a.starts_with("identitystore:") || a.starts_with("sso:"))
            .collect();
        assert!(!granted.is_empty(), "{role} has its Identity Center policy");
        for action in &granted {
            let elsewhere = if action.starts_with("sso:") { other_instance } else { other_store.as_str() };
            denied(&p, marked(Request::new(action, elsewhere)), none);
        }
        for action in ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Scan", "dynamodb:DeleteItem"] {
            denied(&p, Request::new(action, &other_table), none);
        }
    }
    let only = |action: &str, resources: &[&str], tagged: bool, who: &[&str]| {
        for role in ROLES {
            let p = function_role(&s, role);
            for resource in resources {
                let r = Request::new(action, resource);
                let r = if tagged { marked(r) } else { r };
                if who.contains(&role) {
                    allowed(&p, r, none);
                } else {
                    denied(&p, r, none);
                }
            }
        }
    };
    only("identitystore:CreateUser", &[&store], false, &["CreateUserRole"]);
    only("identitystore:DeleteUser", &[&store, user], false, &["SweepRole"]);
    only("identitystore:UpdateUser", &[&store, user], false, &["TagUserRole"]);
    only("identitystore:CreateGroupMembership", &[&store, group, user], false, &["JoinGroupsRole", "SweepRole"]);
    let departures = ["OffboardRole", "SweepRole"];
    for action in
        ["sso:PutInlinePolicyToPermissionSet", "sso:DeleteInlinePolicyFromPermissionSet", "sso:ProvisionPermissionSet"]
    {
        only(action, &[&instance, &ours], true, &departures);
        for role in departures {
            let p = function_role(&s, role);
            // Not a permission set bootstrap did not make (untagged, or tagged by someone else),
            // not another instance's.
            denied(&p, Request::new(action, &ours), none);
            denied(&p, Request::new(action, &ours).with("aws:ResourceTag/managed-by", &["platform-team"]), none);
            denied(&p, marked(Request::new(action, elsewhere)), none);
            denied(&p, Request::new(action, other_instance), none);
        }
    }
    for role in departures {
        denied(&function_role(&s, role), Request::new("sso:ListPermissionSets", other_instance), none);
    }
    // Nobody's function makes or changes groups, permission sets or assignments.
    for (action, resource) in [
        ("identitystore:CreateGroup", store.as_str()),
        ("identitystore:DeleteGroup", group),
        ("sso:CreatePermissionSet", instance.as_str()),
        ("sso:AttachManagedPolicyToPermissionSet", ours.as_str()),
        ("sso:CreateAccountAssignment", ours.as_str()),
        ("sso:DeleteAccountAssignment", ours.as_str()),
        ("sso:TagResource", ours.as_str()),
        ("sso:UntagResource", ours.as_str()),
    ] {
        only(action, &[resource], true, &[]);
    }
    // And no IAM user is theirs to make or touch on this target: those statements are an IAM
    // stack's only.
    let jane = user_arn("E1", "jane.doe");
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/employee-permissions-boundary");
    let managed = |r: Request| r.with("iam:ResourceTag/managed-by", &["employee-lifecycle"]);
    for (role, r) in [
        ("CreateUserRole", Request::new("iam:CreateUser", &jane).with("iam:PermissionsBoundary", &[&boundary])),
        ("JoinGroupsRole", Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Developers"))),
        ("TagUserRole", managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &["lifecycle-status"])),
        ("StorePasswordRole", managed(Request::new("iam:CreateLoginProfile", &jane))),
        ("StorePasswordRole", Request::new("secretsmanager:CreateSecret", &secret_arn("jane.doe", "console-password"))),
        (
            "OffboardRole",
            Request::new(
                "iam:CreatePolicyVersion",
                &format!("arn:aws:iam::{ACCOUNT}:policy/employee-role-sessions-boundary"),
            ),
        ),
        ("SweepRole", managed(Request::new("iam:DeleteUser", &jane))),
        ("RecordRole", Request::new("iam:GetUser", &jane)),
    ] {
        denied(&function_role(&s, role), r.clone(), none);
        allowed(&function_role(&stack(), role), r, none);
    }
    // With Target iam the roles have none of it.
    let iam = stack();
    for (role, action, resource) in [
        ("CreateUserRole", "identitystore:CreateUser", store.as_str()),
        ("OffboardRole", "sso:PutInlinePolicyToPermissionSet", ours.as_str()),
        ("SweepRole", "identitystore:DeleteUser", user),
    ] {
        denied(&function_role(&iam, role), marked(Request::new(action, resource)), none);
    }

    // Under the guardrail: an administrator can neither rewrite a managed permission set's inline
    // policy nor unmark it; the deployer, the operator and the two roles can write it. Permission
    // sets this system did not mark stay the administrators'.
    let text =
        std::fs::read_to_string(tests::root().join("infra/guardrail-identity-center-scp.json")).expect("guardrail");
    assert!(text.len() <= 5_120, "{} characters: over the SCP size limit", text.len());
    let full_access =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let scps = [full_access, serde_json::from_str(&text).expect("json")];
    let administrator = |role: &str| Principal { arn: format!("arn:aws:iam::{ACCOUNT}:role/{role}"), ..admin() };
    let rewrite = |action: &str| marked(Request::new(action, &ours));
    let keyed = |action: &str, resource: &str| Request::new(action, resource).with("aws:TagKeys", &["managed-by"]);
    for r in [
        rewrite("sso:PutInlinePolicyToPermissionSet"),
        rewrite("sso:DeleteInlinePolicyFromPermissionSet"),
        rewrite("sso:UntagResource").with("aws:TagKeys", &["managed-by"]),
        keyed("sso:TagResource", &ours),
        keyed("sso:CreatePermissionSet", &instance),
    ] {
        assert!(
            matches!(decide_under(&scps, &admin(), &r, none), Decision::ExplicitDeny(_)),
            "an administrator may {} on {}",
            r.action,
            r.resource
        );
        for who in ["employee-lifecycle-deployer", "employee-lifecycle-operator"] {
            assert_eq!(decide_under(&scps, &administrator(who), &r, none), Decision::Allowed, "{who}: {}", r.action);
        }
    }
    for p in [function_role(&s, "OffboardRole"), function_role(&s, "SweepRole")] {
        let r = rewrite("sso:PutInlinePolicyToPermissionSet");
        assert_eq!(decide_under(&scps, &p, &r, none), Decision::Allowed, "{}", p.arn);
    }
    // The people table is the proof of whom this system owns there: under the guardrail only its
    // writers (and the deployer and operator) write it, so no administrator can make someone
    // else's user this system's (and so a departure's to delete).
    let people = arn("dynamodb", "table/employee-lifecycle-people");
    let claim = Request::new("dynamodb:PutItem", &people);
    assert!(matches!(decide_under(&scps, &admin(), &claim, none), Decision::ExplicitDeny(_)));
    for who in ["employee-lifecycle-deployer", "employee-lifecycle-operator"] {
        assert_eq!(decide_under(&scps, &administrator(who), &claim, none), Decision::Allowed, "{who}");
    }
    assert_eq!(decide_under(&scps, &function_role(&s, "CreateUserRole"), &claim, none), Decision::Allowed);
    let reader = decide_under(&scps, &function_role(&s, "JoinGroupsRole"), &claim, none);
    assert!(matches!(reader, Decision::ExplicitDeny(_)), "join-groups only reads the table: {reader:?}");
    let elsewhere_table = Request::new("dynamodb:PutItem", &arn("dynamodb", "table/team-table"));
    assert_eq!(decide_under(&scps, &admin(), &elsewhere_table, none), Decision::Allowed);
    let theirs = Request::new("sso:PutInlinePolicyToPermissionSet", &ours);
    assert_eq!(decide_under(&scps, &admin(), &theirs, none), Decision::Allowed);
    let team = Request::new("sso:TagResource", &ours).with("aws:TagKeys", &["team"]);
    assert_eq!(decide_under(&scps, &admin(), &team, none), Decision::Allowed);
}
