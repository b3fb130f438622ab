//! The deployment: the state machines match the code's flows, the template passes cfn-lint, and
//! its permissions are least privilege (checked here, and the checker is shown to catch each
//! escalation path by feeding it one).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use shared::config::Config;
use shared::steps::Step;
use tests::asl::{self, Flow};
use tests::infra::{rendered, template};
use tests::root;

/// The committed state machines are the ones the flows generate. A stale one is rewritten and
/// the test fails: commit the result (`cargo xtask gen-infra` runs just this).
#[test]
fn committed_state_machines_are_the_generated_ones() {
    let mut stale = Vec::new();
    for flow in Flow::ALL {
        let path = root().join("infra/statemachines").join(format!("{}.asl.json", flow.name()));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = rendered(flow);
        if committed != generated {
            std::fs::write(&path, generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            stale.push(path.display().to_string());
        }
    }
    assert!(stale.is_empty(), "regenerated from shared::steps, commit them: {stale:?}");
}

#[test]
fn every_flow_runs_its_steps_in_order_and_ends_in_a_terminal_record() {
    for flow in Flow::ALL {
        let d = asl::definition(flow);
        let states = d["States"].as_object().expect("states");
        // Follow the happy path from the start: the tasks met are the flow's steps, in order.
        let mut at = d["StartAt"].as_str().expect("start").to_owned();
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let s = &states[&at];
            if s["Type"] == "Task" && s["Resource"].as_str().is_some_and(|r| r.ends_with("FunctionArn}")) {
                tasks.push(at.clone());
                assert!(s["Retry"][0]["BackoffRate"].as_f64().is_some_and(|b| b > 1.0));
                if at != "Record" {
                    // Every step retries transient errors with backoff and catches the rest.
                    let retried = s["Retry"][0]["ErrorEquals"].as_array().expect("retry");
                    assert!(retried.contains(&json!("Onboarding.Transient")));
                    assert_eq!(s["Catch"][0]["Next"], "Record failed");
                }
            }
            let next = match s["Type"].as_str() {
                Some("Choice") => s["Default"].as_str(),
                _ => s["Next"].as_str(),
            };
            match next {
                Some(n) => at = n.to_owned(),
                None => break,
            }
        }
        let mut expected: Vec<String> = flow.steps().iter().map(|s| s.name().to_owned()).collect();
        expected.push("Record".into());
        assert_eq!(tasks, expected, "{}", flow.name());
        assert_eq!(at, "Done", "{}: the happy path ends in Succeed", flow.name());
        // Every end is the `record` step (the code's one definition of the terminal record):
        // no state machine builds a record itself.
        let record = format!("${{{}}}", asl::function_arn_param(Step::Record));
        for (name, s) in states {
            let ends = s["Next"] == "Done" || s["Next"] == "Failed";
            if ends {
                assert_eq!(
                    s["Resource"].as_str(),
                    Some(record.as_str()),
                    "{}: {name} ends without the record step",
                    flow.name()
                );
            }
            assert!(!s.to_string().contains("\"terminal\""), "{}: {name} builds a record itself", flow.name());
        }
        // Every record of an execution names it: the first state passes its name on.
        if flow.detail_type().is_some() {
            assert_eq!(states["Event"]["Parameters"]["delivery.$"], "$$.Execution.Name", "{}", flow.name());
        }
        // The failure path records the failed event, then fails the execution.
        assert_eq!(states["Record failed"]["Next"], "Failed");
        assert_eq!(states["Failed"]["Type"], "Fail");
    }
}

/// The template's resources of a type.
fn resources<'a>(t: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"].as_object().expect("resources").iter().filter(|(_, r)| r["Type"] == kind).collect()
}

#[test]
fn the_template_deploys_every_function_flow_and_the_boundary_of_the_code() {
    let t = template();
    // One function per binary in functions/, named by its step.
    let mut binaries: Vec<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    binaries.sort();
    let mut deployed: Vec<String> = resources(&t, "AWS::Serverless::Function")
        .iter()
        .map(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str().expect("binary").to_owned())
        .collect();
    deployed.sort();
    assert_eq!(deployed, binaries);
    // `sam build` runs cargo in CodeUri: the function's own crate, so cargo builds it with its
    // own features (from the workspace root it would unify them, and every binary would link
    // every client).
    for (name, f) in resources(&t, "AWS::Serverless::Function") {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().expect("binary");
        assert_eq!(f["Properties"]["CodeUri"], format!("../functions/{binary}"), "{name}");
    }

    // Each flow's state machine file, with a substitution for every placeholder it uses.
    let machines = resources(&t, "AWS::Serverless::StateMachine");
    for flow in Flow::ALL {
        let (_, m) = machines
            .iter()
            .find(|(_, m)| m["Properties"]["DefinitionUri"] == format!("statemachines/{}.asl.json", flow.name()))
            .unwrap_or_else(|| panic!("no state machine for {}", flow.name()));
        let subs: BTreeSet<String> =
            m["Properties"]["DefinitionSubstitutions"].as_object().expect("subs").keys().cloned().collect();
        let text = rendered(flow);
        let used: BTreeSet<String> =
            text.split("${").skip(1).filter_map(|s| s.split('}').next()).map(str::to_owned).collect();
        assert_eq!(subs, used, "{}", flow.name());
        let functions: BTreeSet<String> = flow.steps().iter().map(|&s| asl::function_arn_param(s)).collect();
        assert!(functions.is_subset(&subs));
    }

    // (The boundary the stack installs is the code's: tests/it/trust/ renders the template and compares.)

    // The functions' config is valid and allows exactly the groups their role may join.
    let cfg = function_config(&t);
    let joinable = statements(&t)
        .into_iter()
        .filter(|(_, s)| actions(s).contains(&"iam:AddUserToGroup".to_owned()))
        .flat_map(|(_, s)| resource_list(&s))
        .collect::<BTreeSet<_>>();
    let allowed: BTreeSet<String> = cfg.groups.allowed.iter().map(|g| group_arn(g)).collect();
    assert_eq!(joinable, allowed);
    assert!(cfg.identity_center_target().is_none(), "Target iam (the default) is IAM's");

    // With Target identity-center, the functions get the instance and store by name (no lookup at
    // a cold start), the people table, and the shipped sample's permission sets, so a leaver's
    // deny entries live as long as the sessions that bootstrap's permission sets give.
    let cfg = function_config_for(&t, "identity-center");
    let ic = cfg.identity_center_target().expect("the Identity Center target");
    assert_eq!(ic.instance_arn.as_deref(), Some("arn:aws:sso:::instance/ssoins-1234567890abcdef"));
    assert_eq!(ic.identity_store_id.as_deref(), Some("d-1234567890"));
    assert_eq!(ic.people_table, "employee-lifecycle-people");
    let text = std::fs::read_to_string(root().join("onboarding.identity-center.toml")).expect("sample");
    let sample: toml::Value = toml::from_str(&text).expect("sample toml");
    let shipped: Vec<(String, String)> = sample["identity_center"]["permission_sets"]
        .as_array()
        .expect("permission sets")
        .iter()
        .map(|p| {
            let duration = p.get("session_duration").and_then(|d| d.as_str()).unwrap_or("PT8H");
            (p["name"].as_str().expect("name").to_owned(), duration.to_owned())
        })
        .collect();
    let deployed = ic.permission_sets.iter().map(|p| (p.name.clone(), p.session_duration.clone())).collect::<Vec<_>>();
    assert_eq!(deployed, shipped);
    assert_eq!(ic.session_window_hours(), 9, "the longest session (Finance's default PT8H) plus an hour");
}

/// The TOML the functions get, with the template's placeholders filled in as CloudFormation would
/// (`Target` iam).
fn function_config(t: &Value) -> Config {
    function_config_for(t, "iam")
}

/// [`function_config`] for a `Target`: with identity-center, the `[identity_center]` section the
/// template adds, its own placeholders filled in too.
fn function_config_for(t: &Value, target: &str) -> Config {
    let sub = &t["Globals"]["Function"]["Environment"]["Variables"]["ONBOARDING_CONFIG"]["Fn::Sub"];
    let mut text = sub[0].as_str().expect("config template").to_owned();
    let section = match target {
        "iam" => String::new(),
        _ => sub[1]["IdentityCenter"]["Fn::If"][1]["Fn::Sub"].as_str().expect("identity center section").to_owned(),
    };
    text = text.replace("${IdentityCenter}", &section);
    for (k, v) in [
        ("Target", target),
        ("IdentityCenterInstanceId", "ssoins-1234567890abcdef"),
        ("IdentityStoreId", "d-1234567890"),
        ("PortalUrl", "https://example.awsapps.com/start"),
        ("PeopleTable", "employee-lifecycle-people"),
        ("UserPath", "/employees/"),
        ("PermissionsBoundary", "arn:aws:iam::123456789012:policy/employee-permissions-boundary"),
        ("RoleSessionsBoundary", "arn:aws:iam::123456789012:policy/employee-role-sessions-boundary"),
        ("SecretsKey.Arn", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("StorePasswordRole.Arn", "arn:aws:iam::123456789012:role/employee-lifecycle-StorePasswordRole-ABC"),
        ("OffboardRole.Arn", "arn:aws:iam::123456789012:role/employee-lifecycle-OffboardRole-ABC"),
        ("SweepRole.Arn", "arn:aws:iam::123456789012:role/employee-lifecycle-SweepRole-ABC"),
        ("SecretsPrefix", "employee-lifecycle"),
        ("NotificationsTopic", "arn:aws:sns:eu-west-1:123456789012:onboarding-notifications"),
        ("AuditTopic", "arn:aws:sns:eu-west-1:123456789012:onboarding-audit"),
        ("SignIn", ""),
        ("Readers", ""),
        ("Timezone", "UTC"),
        ("LeadDays", "0"),
        ("GraceDays", "30"),
        ("MaxDisables", "10"),
        ("MaxDisablePercent", "10"),
        ("GuardWindowMinutes", "60"),
        ("TombstonesTable", "employee-lifecycle-tombstones"),
        ("SchedulerRole.Arn", "arn:aws:iam::123456789012:role/employee-lifecycle-SchedulerRole-ABC"),
        ("IntakeDedupeTable", "employee-lifecycle-webhooks"),
        ("TrailBucket", "employee-lifecycle-audit-123456789012-eu-west-1"),
        ("AuditRetentionDays", "400"),
        ("HrBus", "hr-events"),
        ("IntakeSource", "workday"),
        ("ReviewsTable", "employee-lifecycle-reviews"),
        ("ReviewsKey", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:employee-lifecycle-reviews-key-AbCdEf"),
        ("ReviewsBase", "base_url = \"https://reviews.example.com\""),
        (
            "IntakeSecrets",
            "\"arn:aws:secretsmanager:eu-west-1:123456789012:secret:employee-lifecycle-intake/workday-AbCdEf\"",
        ),
        ("AWS::Partition", "aws"),
        ("AWS::Region", "eu-west-1"),
        ("AWS::AccountId", "123456789012"),
    ] {
        text = text.replace(&format!("${{{k}}}"), v);
    }
    assert!(!text.contains("${"), "an unfilled placeholder: {text}");
    Config::parse(&text, "template.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn group_arn(g: &str) -> String {
    format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:group/{g}")
}

/// Every Allow statement of every role's inline policies (the role's own and the
/// `AWS::IAM::Policy` resources attached to it): (role, statement). A conditional policy
/// (Identity Center's) is checked as if its condition holds.
fn statements(t: &Value) -> Vec<(String, Value)> {
    let mut all = statements_of(t, false);
    all.extend(statements_of(t, true));
    all
}

/// [`statements`] of the unconditional policies, or of the conditional ones only.
fn statements_of(t: &Value, conditional: bool) -> Vec<(String, Value)> {
    let mut policies: Vec<(String, &Value)> = Vec::new();
    for (name, role) in resources(t, "AWS::IAM::Role") {
        if !conditional {
            policies.extend(role["Properties"]["Policies"].as_array().into_iter().flatten().map(|p| (name.clone(), p)));
        }
    }
    for (_, p) in resources(t, "AWS::IAM::Policy") {
        if p["Condition"].is_string() == conditional {
            for role in p["Properties"]["Roles"].as_array().into_iter().flatten() {
                policies.push((role["Ref"].as_str().expect("a role of the stack").to_owned(), &p["Properties"]));
            }
        }
    }
    let mut out = Vec::new();
    for (name, p) in policies {
        for s in p["PolicyDocument"]["Statement"].as_array().into_iter().flatten() {
            // A conditional statement is checked as if its condition holds.
            let s = if s["Fn::If"].is_array() { &s["Fn::If"][1] } else { s };
            out.push((name.clone(), s.clone()));
        }
    }
    out
}

fn actions(s: &Value) -> Vec<String> {
    match &s["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// Resources as text: `"*"`, a `Fn::Sub` string, `Ref:X` or `GetAtt:X`.
fn resource_list(s: &Value) -> Vec<String> {
    let one = |r: &Value| match r {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("Fn::Sub") => o["Fn::Sub"].as_str().unwrap_or("?").to_owned(),
        Value::Object(o) if o.contains_key("Ref") => format!("Ref:{}", o["Ref"].as_str().unwrap_or("?")),
        Value::Object(o) if o.contains_key("Fn::GetAtt") => {
            format!("GetAtt:{}", o["Fn::GetAtt"][0].as_str().unwrap_or("?"))
        }
        other => other.to_string(),
    };
    match &s["Resource"] {
        Value::Array(a) => a.iter().map(one).collect(),
        r => vec![one(r)],
    }
}

/// The deploy quick start and the parameter table in docs/deploying.md name only the template's
/// parameters and outputs, and the table names every parameter.
#[test]
fn the_deploy_guide_names_the_templates_parameters_and_outputs_exactly() {
    let t = template();
    let keys = |section: &str| -> BTreeSet<String> {
        t[section].as_object().unwrap_or_else(|| panic!("{section}")).keys().cloned().collect()
    };
    let (parameters, outputs) = (keys("Parameters"), keys("Outputs"));
    let doc = std::fs::read_to_string(root().join("docs").join("deploying.md")).expect("docs/deploying.md");
    let start = doc.find("### Quick start").expect("a quick start");
    let end = start + doc[start..].find("The group mapping is in").expect("the end of the parameter table");
    let guide = &doc[start..end];
    let word = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>();

    // `Name=value` in the deploy command, and `| `Name`, `Name` |` in the table.
    let mut named_parameters = BTreeSet::new();
    for piece in guide.split(['\n', ' ']) {
        if let Some((name, _)) = piece.split_once('=')
            && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && name.chars().any(|c| c.is_ascii_lowercase())
        {
            named_parameters.insert(name.to_owned());
        }
    }
    let mut in_table = BTreeSet::new();
    for row in guide.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        in_table.extend(first.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    named_parameters.extend(in_table.iter().cloned());
    // `OutputKey=='Name'`, and `the Name output`.
    let mut named_outputs = BTreeSet::new();
    for (i, _) in guide.match_indices("OutputKey=='") {
        named_outputs.insert(word(&guide[i + "OutputKey=='".len()..]));
    }
    let words: Vec<&str> = guide.split_whitespace().collect();
    for pair in words.windows(2) {
        let name = pair[0].trim_matches('`');
        if pair[1].starts_with("output") && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            named_outputs.insert(word(name));
        }
    }

    assert!(named_parameters.len() >= 15 && named_outputs.len() >= 2, "{named_parameters:?} {named_outputs:?}");
    let unknown: Vec<_> = named_parameters.difference(&parameters).collect();
    assert!(unknown.is_empty(), "the guide names parameters the template has not: {unknown:?}");
    let unknown: Vec<_> = named_outputs.difference(&outputs).collect();
    assert!(unknown.is_empty(), "the guide names outputs the template has not: {unknown:?}");
    let missing: Vec<_> = parameters.difference(&in_table).collect();
    assert!(missing.is_empty(), "the parameter table lacks {missing:?}");
}

/// docs/deploying.md's function table has a row for every function the workspace builds.
#[test]
fn the_function_table_lists_every_function() {
    let doc = std::fs::read_to_string(root().join("docs").join("deploying.md")).expect("docs/deploying.md");
    let functions: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(functions.len(), 11, "{functions:?}");
    let missing: Vec<&String> = functions.iter().filter(|f| !doc.contains(&format!("\n| `{f}` |"))).collect();
    assert!(missing.is_empty(), "no row for {missing:?}");
}

/// `onboarding doctor` asks IAM's simulator for what the CLI needs (`onboarding::doctor::needs`);
/// the CLI runs the same steps in process as the functions, so every action the template gives a
/// step's role must be among those it asks for, or the doctor would pass a caller that then fails.
#[test]
fn the_doctor_asks_for_every_action_the_deployed_steps_are_given() {
    let t = template();
    let cfg = function_config(&t);
    assert!(cfg.lifecycle.schedule_role.is_some(), "the stack schedules departures: the scheduler is asked for too");
    let prefixes = ["iam:", "secretsmanager:", "sns:", "dynamodb:", "scheduler:"];
    let missing = unasked(&cfg, &statements_of(&t, false), &prefixes);
    assert!(missing.is_empty(), "the doctor does not ask for {missing:?}");
    // Identity Center's: what the steps' Identity Center policies give, the doctor asks for on
    // that target.
    let ic = function_config_for(&t, "identity-center");
    let missing = unasked(&ic, &statements_of(&t, true), &["identitystore:", "sso:", "dynamodb:"]);
    assert!(missing.is_empty(), "on Identity Center the doctor does not ask for {missing:?}");
}

/// The actions `statements` give the deployed steps' roles (those starting with one of
/// `prefixes`) that `onboarding doctor` does not ask for with `cfg`.
fn unasked(cfg: &Config, statements: &[(String, Value)], prefixes: &[&str]) -> Vec<String> {
    let asked: BTreeSet<&str> = onboarding::doctor::needs(cfg).into_iter().flat_map(|(_, a)| a).collect();
    let deployed = [
        Step::CreateUser,
        Step::JoinGroups,
        Step::TagUser,
        Step::StorePassword,
        Step::Notify,
        Step::Offboard,
        Step::Sweep,
        Step::Record,
    ];
    let steps = deployed.iter().map(|s| format!("{}Role", pascal(s.name()))).collect::<BTreeSet<_>>();
    let mut given = BTreeSet::new();
    for (role, s) in statements {
        if steps.contains(role) && s["Effect"] == "Allow" {
            given.extend(actions(s).into_iter().filter(|a| prefixes.iter().any(|p| a.starts_with(p))));
        }
    }
    assert!(given.len() > 15, "the steps' roles were read: {given:?}");
    given.into_iter().filter(|a| !asked.contains(a.as_str())).collect()
}

fn pascal(kebab: &str) -> String {
    kebab.split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

/// What a security review would refuse in the roles, one line each.
fn findings(t: &Value, text: &str) -> Vec<String> {
    const NEVER: &[&str] = &[
        "iam:AttachUserPolicy",
        "iam:PutUserPolicy",
        "iam:PutUserPermissionsBoundary",
        "iam:DeleteUserPermissionsBoundary",
        "iam:CreateRole",
        "iam:PassRole",
        "iam:AttachRolePolicy",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:CreatePolicy",
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:AttachGroupPolicy",
        "iam:PutGroupPolicy",
        "iam:CreateGroup",
        "iam:UpdateUser",
    ];
    // Actions that have no resource type, so "*" is the only possible resource.
    const RESOURCELESS: &[&str] = &[
        "iam:ListUsers",
        "iam:GetAccountPasswordPolicy",
        "iam:GetAccountAuthorizationDetails",
        "secretsmanager:ListSecrets",
        "dynamodb:ListStreams",
    ];
    let users = "arn:${AWS::Partition}:iam::${AWS::AccountId}:user${UserPath}*";
    let secrets = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecretsPrefix}/*";
    let allowed_groups: BTreeSet<String> = function_config(t).groups.allowed.iter().map(|g| group_arn(g)).collect();
    let mut bad = Vec::new();
    for (role, s) in statements(t) {
        if s["Effect"] != "Allow" {
            continue;
        }
        let acts = actions(&s);
        let res = resource_list(&s);
        for a in &acts {
            if a.contains('*') {
                bad.push(format!("{role}: wildcard action {a}"));
            }
            // The one role this system passes: the scheduler's own, to the scheduler only.
            let scheduler_pass = a == "iam:PassRole"
                && res == ["GetAtt:SchedulerRole"]
                && s["Condition"]["StringEquals"]["iam:PassedToService"] == "scheduler.amazonaws.com";
            // The one policy this system rewrites: the roles' boundary, which can only take away.
            let sessions_boundary = a == "iam:CreatePolicyVersion" && res == ["Ref:RoleSessionsBoundary"];
            if NEVER.contains(&a.as_str()) && !scheduler_pass && !sessions_boundary {
                bad.push(format!("{role}: may {a}"));
            }
        }
        if res.iter().any(|r| r == "*") && !acts.iter().all(|a| RESOURCELESS.contains(&a.as_str())) {
            bad.push(format!("{role}: Resource \"*\" for {acts:?}"));
        }
        let iam_user_acts = acts.iter().any(|a| a.starts_with("iam:") && !RESOURCELESS.contains(&a.as_str()));
        for r in &res {
            if iam_user_acts && r.contains(":user") && r != users {
                bad.push(format!("{role}: users outside the managed path: {r}"));
            }
            // The one read of a secret: the intake's own signing secrets.
            // The reads of a secret: the intake's own signing secrets, the reviews function's key.
            let signing = (role == "IntakeRole" && r == "Ref:IntakeSigningSecrets"
                || role == "ReviewsRole" && r == "Ref:ReviewsKey")
                && acts == ["secretsmanager:GetSecretValue"];
            if acts.iter().any(|a| a.starts_with("secretsmanager:") && !RESOURCELESS.contains(&a.as_str()))
                && r != secrets
                && !signing
            {
                bad.push(format!("{role}: secrets outside the prefix: {r}"));
            }
            if acts.iter().any(|a| a == "secretsmanager:GetSecretValue") && !signing {
                bad.push(format!("{role}: reads secrets: {r}"));
            }
            if acts.iter().any(|a| a == "sns:Publish") && r != "Ref:AuditTopic" && r != "Ref:NotificationsTopic" {
                bad.push(format!("{role}: publishes to {r}"));
            }
        }
        if acts.iter().any(|a| a == "iam:AddUserToGroup") && res.iter().any(|r| !allowed_groups.contains(r)) {
            bad.push(format!("{role}: joins groups outside groups.allowed: {res:?}"));
        }
        if acts.iter().any(|a| a == "iam:CreateUser") {
            let cond = &s["Condition"]["StringEquals"]["iam:PermissionsBoundary"];
            if cond != &json!({"Ref": "PermissionsBoundary"}) {
                bad.push(format!("{role}: CreateUser without the permissions boundary condition"));
            }
            if res != [users] {
                bad.push(format!("{role}: CreateUser outside the managed path"));
            }
        }
    }
    // Every "*" in the file (resource, or an action pattern) carries its justification.
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with('#')) {
        let star = line.contains("\"*\"") || line.split_whitespace().any(|w| w.ends_with(":*") || w.ends_with(":*\""));
        if star && !line.contains("# wildcard:") {
            bad.push(format!("template.yaml:{}: a wildcard without a `# wildcard:` justification", i + 1));
        }
    }
    bad
}

#[test]
fn the_roles_are_least_privilege() {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    let t = template();
    assert_eq!(findings(&t, &text), Vec::<String>::new());
    // Each function has its own role.
    let functions = resources(&t, "AWS::Serverless::Function");
    let roles: BTreeSet<&str> =
        functions.iter().filter_map(|(_, f)| f["Properties"]["Role"]["Fn::GetAtt"][0].as_str()).collect();
    assert_eq!(roles.len(), functions.len());
}

#[test]
fn the_least_privilege_check_catches_each_escalation_path() {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    let base = template();
    let injected = [
        json!({"Effect": "Allow", "Action": "iam:*", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user${UserPath}*"}}),
        json!({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "iam:CreateUser", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user${UserPath}*"}}),
        json!({"Effect": "Allow", "Action": "iam:TagUser", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"}}),
        json!({"Effect": "Allow", "Action": "iam:DeleteUserPermissionsBoundary", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user${UserPath}*"}}),
        json!({"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user${UserPath}*"}}),
        json!({"Effect": "Allow", "Action": "iam:CreateRole", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x"}}),
        json!({"Effect": "Allow", "Action": "iam:AddUserToGroup", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:group/Admins"}}),
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"}}),
        json!({"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:1:elsewhere"}),
        json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": {"Fn::GetAtt": ["SchedulerRole", "Arn"]}}),
        json!({"Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": {"Ref": "PermissionsBoundary"}}),
        json!({"Effect": "Allow", "Action": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"], "Resource": {"Ref": "RoleSessionsBoundary"}}),
        json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": {"Fn::GetAtt": ["SweepRole", "Arn"]}, "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}}),
    ];
    for bad in injected {
        let mut t = base.clone();
        t["Resources"]["CreateUserRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .expect("statements")
            .push(bad.clone());
        assert!(!findings(&t, &text).is_empty(), "not caught: {bad}");
    }
    // And an unjustified wildcard line in the text.
    let unjustified = text.replacen("# wildcard: ListUsers has no resource type", "# (no reason)", 1);
    assert!(!findings(&base, &unjustified).is_empty());
}

#[test]
fn cfn_lint_passes() {
    // The pinned cfn-lint in the project venv, beside its python.
    let python =
        std::path::PathBuf::from(std::env::var("ONBOARDING_PYTHON").expect("cargo xtask test sets ONBOARDING_PYTHON"));
    let out = std::process::Command::new(python.with_file_name("cfn-lint"))
        .arg("infra/template.yaml")
        .current_dir(root())
        .output()
        .expect("cfn-lint");
    assert!(
        out.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Resource types moto 5.2.5's CloudFormation does not implement (it skips them with a warning).
/// If a newer pin implements one, this test says so and the list must shrink.
const NOT_IN_THE_EMULATOR: &[&str] = &[
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::Logs::MetricFilter",
    // The intake's and the reviews' Function URLs (and so the `IntakeUrl` and `ReviewsUrl`
    // outputs, which deploy_stack.py drops).
    "AWS::Lambda::Url",
    // The review key and its resource policy (their claims: tests/it/trust/).
    "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::S3::BucketPolicy",
];

/// Deploys the template into `acct` as `sam deploy` would (transform, upload), with `parameters`
/// (`Key=Value`), and checks the stack is complete and every resource the emulator implements
/// whose `Condition` holds (`IsIdentityCenter` exactly when `Target` is identity-center) was
/// created, and no other. Returns what was created: (logical id, type).
fn deploy(acct: &tests::Account, parameters: &[&str]) -> BTreeSet<(String, String)> {
    let python = std::env::var("ONBOARDING_PYTHON").expect("cargo xtask test sets ONBOARDING_PYTHON");
    let out = acct
        .command(python)
        .arg(root().join("tests/deploy_stack.py"))
        .arg(root())
        .arg("employee-lifecycle")
        .args(parameters)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("deploy_stack.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["status"], "CREATE_COMPLETE");
    let created: BTreeSet<(String, String)> = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["status"] == "CREATE_COMPLETE")
        .map(|r| (r["logicalId"].as_str().unwrap_or("").to_owned(), r["type"].as_str().unwrap_or("").to_owned()))
        .collect();
    let identity_center = parameters.contains(&"Target=identity-center");
    let mut skipped = BTreeSet::new();
    for pair in report["expected"].as_array().expect("expected") {
        let (id, kind) = (pair[0].as_str().expect("id").to_owned(), pair[1].as_str().expect("type").to_owned());
        match pair[2].as_str() {
            None => {}
            Some("IsIdentityCenter") if identity_center => {}
            Some("IsIdentityCenter") => {
                assert!(!created.contains(&(id.clone(), kind)), "{id} was created without Target identity-center");
                continue;
            }
            Some(other) => panic!("{id}: a condition this test does not know: {other}"),
        }
        if NOT_IN_THE_EMULATOR.contains(&kind.as_str()) {
            assert!(
                !created.contains(&(id.clone(), kind.clone())),
                "the emulator now creates {kind}: tighten the test"
            );
            skipped.insert(kind);
        } else {
            assert!(created.contains(&(id.clone(), kind.clone())), "{id} ({kind}) was not created");
        }
    }
    assert_eq!(skipped.len(), NOT_IN_THE_EMULATOR.len());
    created
}

#[tokio::test]
async fn the_template_deploys_into_the_emulator() {
    // GIVEN a fresh account, WHEN the stack is deployed with its defaults (Target iam)
    let acct = tests::Account::new().await;
    let created = deploy(&acct, &[]);

    // THEN the stack is complete and every resource the emulator implements was created
    let count = |kind: &str| created.iter().filter(|(_, k)| k == kind).count();
    assert_eq!(count("AWS::IAM::Policy"), 0, "no Identity Center policy on an IAM stack");
    assert_eq!(count("AWS::Lambda::Function"), 11);
    assert_eq!(count("AWS::StepFunctions::StateMachine"), 4);
    assert_eq!(count("AWS::Events::Rule"), 4);
    assert_eq!((count("AWS::Events::EventBus"), count("AWS::Events::Archive")), (1, 1));

    // AND, through the AWS API: the encrypted topics, the queues with their dead letters, the
    // roles and the boundary
    let topics = acct.sns().list_topics().send().await.expect("topics");
    let mut names = Vec::new();
    for t in topics.topics() {
        let arn = t.topic_arn().expect("arn");
        let attrs = acct.sns().get_topic_attributes().topic_arn(arn).send().await.expect("attributes");
        assert!(
            attrs.attributes().and_then(|a| a.get("KmsMasterKeyId")).is_some_and(|k| !k.is_empty()),
            "{arn} unencrypted"
        );
        names.push(arn.rsplit(':').next().unwrap_or("").to_owned());
    }
    names.sort();
    assert_eq!(names, ["onboarding-alarms", "onboarding-audit", "onboarding-notifications"]);
    let auditors = acct.sqs().get_queue_url().queue_name("onboarding-auditors").send().await.expect("auditors queue");
    let attrs = acct
        .sqs()
        .get_queue_attributes()
        .queue_url(auditors.queue_url().expect("url"))
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .expect("attributes");
    assert!(
        attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
            .is_some_and(|r| r.contains("onboarding-auditors-dlq"))
    );
    acct.sqs().get_queue_url().queue_name("onboarding-events-dlq").send().await.expect("events dead-letter queue");
    let roles = acct.iam().list_roles().send().await.expect("roles");
    assert_eq!(
        roles.roles().len(),
        14,
        "one per function, one for the rules, one for the flows, one for the scheduler"
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&acct.sdk);
    let key_of = async |table: &str| {
        let out = dynamodb.describe_table().table_name(table).send().await.expect(table);
        out.table().map(|t| t.key_schema().iter().map(|k| k.attribute_name().to_owned()).collect::<Vec<_>>())
    };
    assert_eq!(key_of("employee-lifecycle-tombstones").await, Some(vec!["employeeId".to_owned()]));
    // The trail's bucket exists; its lock is read from the template, because the emulator's
    // CloudFormation drops ObjectLockConfiguration (its S3 API honours one: tests/it/trail.rs).
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&acct.sdk).force_path_style(true).build());
    s3.head_bucket()
        .bucket(format!("employee-lifecycle-audit-{}-us-east-1", acct.id))
        .send()
        .await
        .expect("the trail bucket");
    let t = template();
    let bucket = &t["Resources"]["TrailBucket"]["Properties"];
    assert_eq!(bucket["ObjectLockEnabled"], true);
    let retention = &bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"];
    assert_eq!(
        (retention["Mode"].as_str(), &retention["Days"]),
        (Some("COMPLIANCE"), &json!({"Ref": "AuditRetentionDays"}))
    );
    assert_eq!(t["Parameters"]["AuditRetentionDays"]["Default"], 400);
    assert_eq!(bucket["VersioningConfiguration"]["Status"], "Enabled");
    assert_eq!(key_of("employee-lifecycle-webhooks").await, Some(vec!["webhookKey".to_owned()]), "the dedupe table");
    let boundary =
        acct.iam().list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).send().await.expect("policies");
    assert!(boundary.policies().iter().any(|p| p.policy_name() == Some("employee-permissions-boundary")));
}

/// The same template with `Target` identity-center deploys too: the people table and the eight
/// step functions' Identity Center policies are made, on their roles (checked through the API).
#[tokio::test]
async fn the_identity_center_stack_deploys_into_the_emulator() {
    let acct = tests::Account::new().await;
    let (instance, store) = (tests::stack::INSTANCE_ID, tests::stack::IDENTITY_STORE_ID);
    let created = deploy(
        &acct,
        &[
            "Target=identity-center",
            &format!("IdentityCenterInstanceId={instance}"),
            &format!("IdentityStoreId={store}"),
            "PortalUrl=https://example.awsapps.com/start",
        ],
    );
    assert!(created.contains(&("PeopleTable".to_owned(), "AWS::DynamoDB::Table".to_owned())));
    let dynamodb = aws_sdk_dynamodb::Client::new(&acct.sdk);
    let table = dynamodb.describe_table().table_name("employee-lifecycle-people").send().await.expect("people table");
    let key: Vec<&str> = table.table().expect("table").key_schema().iter().map(|k| k.attribute_name()).collect();
    assert_eq!(key, ["employeeId"], "the key `shared::aws::people` reads and writes");
    let roles = acct.iam().list_roles().send().await.expect("roles");
    let mut with_policy = Vec::new();
    for role in roles.roles() {
        let policies = acct.iam().list_role_policies().role_name(role.role_name()).send().await.expect("policies");
        if let Some(name) = policies.policy_names().iter().find(|p| p.ends_with("-identity-center")) {
            let doc = acct
                .iam()
                .get_role_policy()
                .role_name(role.role_name())
                .policy_name(name)
                .send()
                .await
                .expect("policy");
            let text = shared::aws::percent_decode(doc.policy_document());
            assert!(text.contains(&format!("identitystore/{store}")), "{name}: {text}");
            with_policy.push(name.clone());
        }
    }
    with_policy.sort();
    assert_eq!(
        with_policy,
        [
            "create-user-identity-center",
            "join-groups-identity-center",
            "notify-identity-center",
            "offboard-identity-center",
            "record-identity-center",
            "store-password-identity-center",
            "sweep-identity-center",
            "tag-user-identity-center"
        ]
    );
}

/// Reads a zip through the venv's Python: each entry's name and Unix mode, and the `bootstrap`
/// bytes written to `out`.
fn unzip(zip: &std::path::Path, out: &std::path::Path) -> Vec<(String, u32)> {
    let python = std::env::var("ONBOARDING_PYTHON").expect("cargo xtask test sets ONBOARDING_PYTHON");
    let script = "import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nopen(sys.argv[2], 'wb').write(z.read('bootstrap'))\nprint(json.dumps([[i.filename, i.external_attr >> 16] for i in z.infolist()]))";
    let o = std::process::Command::new(python).args(["-c", script]).arg(zip).arg(out).output().expect("python");
    assert!(o.status.success(), "{}: {}", zip.display(), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Vec<(String, u32)>>(&o.stdout).expect("entries")
}

#[test]
fn every_function_zip_runs_on_provided_al2023() {
    // Built by `cargo xtask package --dev` (which `cargo xtask test` runs first), the same way
    // `cargo xtask package` builds the release zips.
    let dir = std::path::PathBuf::from(
        std::env::var("ONBOARDING_PACKAGES").expect("cargo xtask test sets ONBOARDING_PACKAGES"),
    );
    let template = template();
    let functions: Vec<String> = resources(&template, "AWS::Serverless::Function")
        .iter()
        .filter_map(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str().map(str::to_owned))
        .collect();
    let mut archs = 0;
    for (arch, machine) in [("x86_64", 62), ("arm64", 183)] {
        let arch_dir = dir.join(arch);
        if arch == "arm64" && !arch_dir.exists() {
            // `package` skips an architecture the toolchain cannot target, and says so.
            continue;
        }
        archs += 1;
        for f in &functions {
            let zip = arch_dir.join(format!("{f}.zip"));
            assert!(zip.exists(), "{} is missing", zip.display());
            let bootstrap = std::env::temp_dir().join(format!("bootstrap-{}-{arch}-{f}", std::process::id()));
            let entries = unzip(&zip, &bootstrap);
            assert_eq!(entries.len(), 1, "{}: {entries:?}", zip.display());
            assert_eq!(entries[0].0, "bootstrap");
            assert_eq!(entries[0].1 & 0o111, 0o111, "{}: bootstrap is not executable", zip.display());
            let bytes = std::fs::read(&bootstrap).expect("bootstrap");
            let _ = std::fs::remove_file(&bootstrap);
            let needs = tests::elf::needs(&bytes).unwrap_or_else(|| panic!("{}: not a 64-bit ELF", zip.display()));
            assert_eq!(needs.machine, machine, "{}: wrong architecture", zip.display());
            assert!(!needs.glibc.is_empty(), "{}: no glibc versions read, so nothing was proven", zip.display());
            let newest = needs.glibc.last().copied().unwrap_or_default();
            assert!(
                newest <= (2, 34),
                "{}: needs GLIBC_{}.{} (provided.al2023 has 2.34)",
                zip.display(),
                newest.0,
                newest.1
            );
        }
    }
    assert!(archs >= 1);
}

#[test]
fn the_elf_reader_reads_a_known_binary() {
    // This test binary itself: built for the host, against the host's glibc.
    let me = std::fs::read("/proc/self/exe").expect("own binary");
    let needs = tests::elf::needs(&me).expect("ELF");
    assert_eq!(needs.machine, if cfg!(target_arch = "aarch64") { 183 } else { 62 });
    assert!(needs.glibc.contains(&(2, 2)) || needs.glibc.contains(&(2, 17)), "{:?}", needs.glibc);
    assert!(tests::elf::needs(b"#!/bin/sh\n").is_none());
}
