//! The deployed functions on Identity Center: each binary's calls within the role the stack
//! (`Target` identity-center) gives it.

use super::*;

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

/// Issue #22 item 8, the other half of tests/it/trust/'s claim that the roles are narrow: they are
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
            Step::Adopt | Step::Review => {
                unreachable!("no function adopts or closes a review: the operator's CLI does")
            }
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
