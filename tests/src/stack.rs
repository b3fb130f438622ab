//! The stack as CloudFormation would deploy it, for the tests that evaluate its documents:
//! the template rendered in one account, each role as a principal.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::REGION;
use crate::infra::template;
use crate::policy::{Principal, render};

/// The account the stack is rendered in.
pub const ACCOUNT: &str = "111122223333";
pub const STACK: &str = "employee-lifecycle";
pub const HR_PUBLISHER: &str = "arn:aws:iam::111122223333:role/workday-integration";
pub const AUDITOR: &str = "arn:aws:iam::111122223333:role/auditors";
pub const SERVICE_DESK: &str = "arn:aws:iam::111122223333:role/service-desk";
/// An operator-made signing secret for the intake (`IntakeSigningSecrets`).
pub const SIGNING_SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:111122223333:secret:employee-lifecycle-intake/workday-AbCdEf";

pub fn arn(service: &str, rest: &str) -> String {
    format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{rest}")
}

pub fn role_arn(logical: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{STACK}-{logical}-1A2B3C4D5E6F")
}

/// The Identity Center instance and store a `Target` identity-center stack is given.
/// The stack's `ReviewsBaseUrl` in the tests.
pub const REVIEWS_URL: &str = "https://reviews.example.com";
pub const INSTANCE_ID: &str = "ssoins-1234567890abcdef";
pub const IDENTITY_STORE_ID: &str = "d-1234567890";

/// The template as CloudFormation would deploy it in account 111122223333 as stack
/// `employee-lifecycle`, with the HR publisher and the auditors named (`Target` iam).
pub fn stack() -> Value {
    stack_for("iam")
}

/// [`stack`] with `Target` set to `target` (`iam` or `identity-center`, with [`INSTANCE_ID`] and
/// [`IDENTITY_STORE_ID`]).
pub fn stack_for(target: &str) -> Value {
    let t = template();
    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        vars.insert(k.to_owned(), v);
    };
    for (name, p) in t["Parameters"].as_object().expect("parameters") {
        let default = p["Default"].as_str().map(str::to_owned).unwrap_or_else(|| p["Default"].to_string());
        let value = if p["Type"] == "CommaDelimitedList" {
            json!(default.split(',').map(str::to_owned).collect::<Vec<_>>())
        } else {
            json!(default)
        };
        put(name, value);
    }
    put("AWS::Partition", json!("aws"));
    put("AWS::AccountId", json!(ACCOUNT));
    put("AWS::Region", json!(REGION));
    put("AWS::StackName", json!(STACK));
    put("UserPath", json!("/employees/"));
    put("SecretsPrefix", json!("employee-lifecycle"));
    put("HrSource", json!("hr.workday"));
    put("HrPublishers", json!([HR_PUBLISHER]));
    put("AuditReaders", json!([AUDITOR]));
    put("SecretReaders", json!([SERVICE_DESK]));
    put("IntakeSigningSecrets", json!([SIGNING_SECRET]));
    put("Target", json!(target));
    put("IdentityCenterInstanceId", json!(INSTANCE_ID));
    put("IdentityStoreId", json!(IDENTITY_STORE_ID));
    put("PortalUrl", json!("https://example.awsapps.com/start"));
    put("Condition:IsIdentityCenter", json!(target == "identity-center"));
    put("Condition:IsIam", json!(target != "identity-center"));
    put("ReviewsBaseUrl", json!(REVIEWS_URL));
    for (condition, holds) in
        [("HasSignInUrl", false), ("HasSecretReaders", true), ("HasIntakeSecrets", true), ("HasReviewsBaseUrl", true)]
    {
        put(&format!("Condition:{condition}"), json!(holds));
    }
    for (id, r) in t["Resources"].as_object().expect("resources") {
        let props = &r["Properties"];
        let (reference, resource_arn) = match r["Type"].as_str().expect("type") {
            "AWS::IAM::Role" => (format!("{STACK}-{id}"), role_arn(id)),
            "AWS::SNS::Topic" => {
                let a = arn("sns", props["TopicName"].as_str().expect("topic name"));
                (a.clone(), a)
            }
            "AWS::SQS::Queue" => {
                let name = props["QueueName"].as_str().expect("queue name");
                (format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"), arn("sqs", name))
            }
            "AWS::Events::EventBus" => {
                let name = props["Name"].as_str().expect("bus name");
                (name.to_owned(), arn("events", &format!("event-bus/{name}")))
            }
            "AWS::Events::Rule" => (id.clone(), arn("events", &format!("rule/hr-events/{id}"))),
            "AWS::KMS::Key" => (format!("key-{id}"), arn("kms", &format!("key/{id}"))),
            "AWS::Logs::LogGroup" => {
                let name = props["LogGroupName"].as_str().expect("log group");
                (name.to_owned(), arn("logs", &format!("log-group:{name}")))
            }
            "AWS::Serverless::Function" => {
                let name = props["FunctionName"].as_str().expect("function name");
                (name.to_owned(), arn("lambda", &format!("function:{name}")))
            }
            "AWS::Serverless::StateMachine" => {
                let a = arn("states", &format!("stateMachine:{}", props["Name"].as_str().expect("name")));
                (a.clone(), a)
            }
            "AWS::DynamoDB::Table" => {
                let name = props["TableName"].as_str().expect("table name");
                let stream = arn("dynamodb", &format!("table/{name}/stream/2026-12-01T00:00:00.000"));
                put(&format!("{id}.StreamArn"), json!(stream));
                (name.to_owned(), arn("dynamodb", &format!("table/{name}")))
            }
            "AWS::SecretsManager::Secret" => {
                let a = arn("secretsmanager", &format!("secret:{}-AbCdEf", props["Name"].as_str().expect("name")));
                (a.clone(), a)
            }
            "AWS::S3::Bucket" => {
                let name = format!("employee-lifecycle-audit-{ACCOUNT}-{REGION}");
                (name.clone(), format!("arn:aws:s3:::{name}"))
            }
            "AWS::IAM::ManagedPolicy" => {
                let a = format!("arn:aws:iam::{ACCOUNT}:policy/{}", props["ManagedPolicyName"].as_str().expect("name"));
                (a.clone(), a)
            }
            _ => (id.clone(), format!("arn:aws:test:{REGION}:{ACCOUNT}:{id}")),
        };
        put(id, json!(reference));
        put(&format!("{id}.Arn"), json!(resource_arn));
        if let Some(name) = props["QueueName"].as_str() {
            put(&format!("{id}.QueueName"), json!(name));
        }
        if let Some(name) = props["Name"].as_str() {
            put(&format!("{id}.Name"), json!(name));
        }
    }
    // The resources only (the functions' config, Globals, is checked in tests/it/infra/template.rs), and only those
    // whose `Condition` holds, as CloudFormation creates them.
    let mut resources = t["Resources"].as_object().cloned().unwrap_or_default();
    resources.retain(|_, r| r["Condition"].as_str().is_none_or(|c| vars[&format!("Condition:{c}")] == json!(true)));
    render(&json!({"Resources": resources}), &vars)
}

pub fn resource<'a>(stack: &'a Value, id: &str) -> &'a Value {
    &stack["Resources"][id]["Properties"]
}

/// A function role as its principal: its inline policies in the template (those of the role,
/// and the `AWS::IAM::Policy` resources the stack attaches to it), no boundary.
pub fn function_role(stack: &Value, logical: &'static str) -> Principal {
    let mut identity: Vec<Value> = resource(stack, logical)["Policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| p["PolicyDocument"].clone())
        .collect();
    let reference = json!(format!("{STACK}-{logical}"));
    for r in stack["Resources"].as_object().expect("resources").values() {
        let attached = r["Properties"]["Roles"].as_array().is_some_and(|roles| roles.contains(&reference));
        if r["Type"] == "AWS::IAM::Policy" && attached {
            identity.push(r["Properties"]["PolicyDocument"].clone());
        }
    }
    Principal { name: logical, arn: role_arn(logical), account: ACCOUNT.into(), identity, boundary: None }
}
