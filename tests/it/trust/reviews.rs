//! Access reviews deployed: the review key and the campaigns.

use super::*;

/// The access reviews' function alone reads the key that signs reviewers' links: the key's
/// resource policy denies every other principal (an administrator and the operator included),
/// and only the deployer may change the key or that policy. Its role reaches the reviews table,
/// its stream, the two topics and nothing else (no IAM, no other secret or table). Under the
/// guardrails, only the reviews role, the sweep (closing campaigns at their due date), the
/// operator and the deployer write campaigns (so no administrator can forge a manager's
/// decision), and only the deployer changes the function.
#[test]
fn only_the_reviews_function_reads_the_review_key_and_it_reaches_nothing_but_the_campaigns() {
    let s = stack();
    let key_policy = resource(&s, "ReviewsKeyPolicy")["ResourcePolicy"].clone();
    let key = arn("secretsmanager", "secret:employee-lifecycle-reviews-key-AbCdEf");
    let on_key = Resource::Policy(&key_policy);
    let reviews = function_role(&s, "ReviewsRole");
    let administrator = |role: &str| Principal { arn: format!("arn:aws:iam::{ACCOUNT}:role/{role}"), ..admin() };
    let read = || Request::new("secretsmanager:GetSecretValue", &key);
    allowed(&reviews, read(), on_key);
    denied(&admin(), read(), on_key);
    denied(&administrator("employee-lifecycle-operator"), read(), on_key);
    for role in ROLES.iter().filter(|r| **r != "ReviewsRole") {
        denied(&function_role(&s, role), read(), on_key);
    }
    for action in ["secretsmanager:PutSecretValue", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteSecret"] {
        denied(&admin(), Request::new(action, &key), on_key);
        allowed(&administrator("employee-lifecycle-deployer"), Request::new(action, &key), on_key);
    }

    let table = arn("dynamodb", "table/employee-lifecycle-reviews");
    let none = Resource::None;
    for action in ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] {
        allowed(&reviews, Request::new(action, &table), none);
    }
    allowed(&reviews, Request::new("sns:Publish", &arn("sns", "onboarding-notifications")), none);
    for (action, target) in [
        ("dynamodb:PutItem", table.clone()),
        ("dynamodb:DeleteItem", table.clone()),
        ("dynamodb:UpdateItem", arn("dynamodb", "table/employee-lifecycle-tombstones")),
        ("secretsmanager:GetSecretValue", SIGNING_SECRET.to_owned()),
        ("secretsmanager:GetSecretValue", secret_arn("jane.doe", "console-password")),
        ("iam:RemoveUserFromGroup", format!("arn:aws:iam::{ACCOUNT}:group/Developers")),
        ("iam:DeleteLoginProfile", user_arn("E1", "jane.doe")),
        ("sns:Publish", arn("sns", "another-topic")),
    ] {
        denied(&reviews, Request::new(action, &target), none);
    }

    let read_scp = |f: &str| -> Value {
        let text = std::fs::read_to_string(tests::root().join("infra").join(f)).expect("guardrail");
        assert!(text.len() <= 5_120, "{f}: {} characters, over the SCP size limit", text.len());
        serde_json::from_str(&text).expect("json")
    };
    let full_access =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let scps = [full_access, read_scp("guardrail-scp.json"), read_scp("guardrail-reviews-scp.json")];
    let forge = Request::new("dynamodb:UpdateItem", &table);
    assert!(matches!(decide_under(&scps, &admin(), &forge, none), Decision::ExplicitDeny(_)));
    assert_eq!(decide_under(&scps, &reviews, &forge, none), Decision::Allowed);
    // The sweep closes campaigns past their due date: it settles items, it decides none.
    assert_eq!(decide_under(&scps, &function_role(&s, "SweepRole"), &forge, none), Decision::Allowed);
    assert!(!decide_under(&scps, &function_role(&s, "TagUserRole"), &forge, none).allowed());
    for who in ["employee-lifecycle-deployer", "employee-lifecycle-operator"] {
        assert_eq!(decide_under(&scps, &administrator(who), &forge, none), Decision::Allowed, "{who}");
    }
    let code = Request::new("lambda:UpdateFunctionCode", &arn("lambda", "function:employee-reviews"));
    assert!(matches!(
        decide_under(&scps, &administrator("employee-lifecycle-operator"), &code, none),
        Decision::ExplicitDeny(_)
    ));
    assert_eq!(decide_under(&scps, &administrator("employee-lifecycle-deployer"), &code, none), Decision::Allowed);
}
