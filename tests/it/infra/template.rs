//! The template's functions and roles: every function and flow deployed, the roles least
//! privilege (and the checker shown to catch each escalation path), the doctor asking for what
//! the roles are given, cfn-lint.

use super::*;

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
