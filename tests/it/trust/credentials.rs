//! Initial credentials: only the person reads them, and they are made and destroyed only on
//! this system's users.

use super::*;

/// A hire in the emulator, then its console-password secret's resource policy as stored there.
async fn stored_secret_policy() -> (Value, String, String) {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    let report = process(&ctx, &event("hire-engineering.json", json!({}))).await;
    assert_eq!(report.outcome, EventOutcome::Succeeded, "{:?}", report.error);
    let secret = report.secret_arn.clone().expect("secret");
    let got = acct.secrets().get_resource_policy().secret_id(&secret).send().await.expect("policy");
    let policy: Value = serde_json::from_str(got.resource_policy().expect("a resource policy")).expect("json");
    (policy, report.user_arn.expect("user"), secret)
}

#[tokio::test]
async fn only_the_person_reads_their_first_credentials() {
    let s = stack();
    let (policy, person_arn, secret) = stored_secret_policy().await;
    // The emulator's account and names, in the stack's shape: one person, one secret.
    let user = person_arn.rsplit('/').next().expect("name").to_owned();
    let employee_id = person_arn.split('/').nth(2).expect("employee id").to_owned();
    let mut person = employee(&s, "person", &employee_id);
    person.arn = person_arn.clone();
    person.account = shared::arn::account_of(&person_arn).expect("account").to_owned();
    let account = person.account.clone();
    let mut other = employee(&s, "other", "E9");
    other.arn = format!("arn:aws:iam::{account}:user/employees/E9/mallory");
    other.account = account.clone();
    let mut root_admin = admin();
    root_admin.account = account.clone();
    root_admin.arn = format!("arn:aws:iam::{account}:role/Administrator");
    // The role as the stack would deploy it in the emulator's account.
    let mut store_password = function_role(&s, "StorePasswordRole");
    store_password.identity = serde_json::from_str(
        &serde_json::to_string(&store_password.identity).expect("json").replace(ACCOUNT, &account),
    )
    .expect("json");
    store_password.account = account.clone();
    store_password.arn = format!("arn:aws:iam::{account}:role/{STACK}-StorePasswordRole-1A2B3C4D5E6F");
    // An administrator who cannot change this secret's policy through IAM and has no Secrets
    // Manager rights on it; and one with everything.
    let mut sm_less_admin = admin();
    sm_less_admin.account = account.clone();
    sm_less_admin.identity.push(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]}));
    let tagged = |r: Request| r.with("aws:ResourceTag/user-name", &[&user]);
    let on = Resource::Policy(&policy);

    allowed(&person, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    for p in [&other, &root_admin, &sm_less_admin, &store_password] {
        denied(p, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    }
    // Nobody but this system changes, removes, replicates or restores it, not even an admin
    // with every IAM right (the policy's Deny holds against the identity's Allow).
    for action in [
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:ReplicateSecretToRegions",
        "secretsmanager:RestoreSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:TagResource",
    ] {
        denied(&root_admin, tagged(Request::new(action, &secret)), on);
        denied(&other, tagged(Request::new(action, &secret)), on);
    }
    // The system's roles (as the stack names them in `secrets.writers`) may manage it, never read.
    let mut cfg = config();
    cfg.secrets.writers = vec![store_password.arn.clone()];
    let with_writers = policies::secret_policy(&person_arn, &cfg.secrets.readers, &cfg.secrets.writers);
    let on = Resource::Policy(&with_writers);
    allowed(&store_password, tagged(Request::new("secretsmanager:PutResourcePolicy", &secret)), on);
    denied(&store_password, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    allowed(&person, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    // The configured readers (a service desk) read it and do nothing else to it, even with
    // every Secrets Manager right.
    let desk = allowed_to("service desk", SERVICE_DESK, &["secretsmanager:*"]);
    let mut desk = desk;
    desk.account = account.clone();
    desk.arn = SERVICE_DESK.replace(ACCOUNT, &account);
    let with_readers = policies::secret_policy(&person_arn, std::slice::from_ref(&desk.arn), &cfg.secrets.writers);
    let on = Resource::Policy(&with_readers);
    allowed(&desk, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    for action in ["secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret", "secretsmanager:PutResourcePolicy"] {
        denied(&desk, tagged(Request::new(action, &secret)), on);
    }
    // The stored policy is the code's (with this config's empty writers).
    assert_eq!(policy, policies::secret_policy(&person_arn, &[], &[]));
}

#[test]
fn the_secrets_key_decrypts_only_the_persons_own_secrets_through_secrets_manager() {
    let s = stack();
    let key = resource(&s, "SecretsKey")["KeyPolicy"].clone();
    let key_arn = arn("kms", "key/SecretsKey");
    let jane = employee(&s, "jane.doe", "E1");
    let decrypt = |secret: &str, via: Option<&str>| {
        let r = Request::new("kms:Decrypt", &key_arn)
            .with("kms:EncryptionContext:SecretARN", &[secret])
            .with("kms:ResourceAliases", &["alias/employee-lifecycle-secrets"]);
        match via {
            Some(v) => r.with("kms:ViaService", &[v]),
            None => r,
        }
    };
    let sm = "secretsmanager.us-east-1.amazonaws.com";
    let k = Resource::Key(&key);
    allowed(&jane, decrypt(&secret_arn("jane.doe", "console-password"), Some(sm)), k);
    denied(&jane, decrypt(&secret_arn("bob.smith", "console-password"), Some(sm)), k);
    denied(&jane, decrypt(&secret_arn("jane.doe", "console-password"), None), k);
    // The configured readers (the service desk that hands passwords over) decrypt any initial
    // credential, still only through Secrets Manager.
    let desk = allowed_to("service desk", SERVICE_DESK, &["secretsmanager:GetSecretValue"]);
    allowed(&desk, decrypt(&secret_arn("bob.smith", "console-password"), Some(sm)), k);
    denied(&desk, decrypt(&secret_arn("bob.smith", "console-password"), None), k);
    denied(&desk, decrypt(&arn("secretsmanager", "secret:team/database-AbCdEf"), Some(sm)), k);
    // An administrator with kms:* in IAM: the key policy gives no cryptographic right to the
    // account, so none.
    denied(&admin(), decrypt(&secret_arn("jane.doe", "console-password"), Some(sm)), k);
    denied(&admin(), Request::new("kms:Decrypt", &key_arn), k);
    // The writers encrypt (and Secrets Manager decrypts the data key for them) only via Secrets
    // Manager; another role of the account does not.
    let store = function_role(&s, "StorePasswordRole");
    let generate = Request::new("kms:GenerateDataKey", &key_arn)
        .with("kms:ViaService", &[sm])
        .with("kms:CallerAccount", &[ACCOUNT]);
    allowed(&store, generate.clone(), k);
    denied(&function_role(&s, "NotifyRole"), generate, k);
}

/// Issue #23 item 7: the roles that issue or destroy credentials (and delete users) do so only
/// on users this system marked, not on any user a path could hold: a hand-made user under the
/// path is out of their reach, though they may read it.
#[test]
fn credentials_are_issued_and_destroyed_only_on_users_this_system_marked() {
    let s = stack();
    let jane = user_arn("E1", "jane.doe");
    let hand_made = format!("arn:aws:iam::{ACCOUNT}:user/employees/E7/hand-made");
    let managed = |r: Request| r.with("iam:ResourceTag/managed-by", &["employee-lifecycle"]);
    for (role, actions) in [
        (
            "StorePasswordRole",
            &["iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:CreateAccessKey", "iam:DeleteAccessKey"][..],
        ),
        (
            "SweepRole",
            &[
                "iam:CreateLoginProfile",
                "iam:DeleteLoginProfile",
                "iam:CreateAccessKey",
                "iam:UpdateAccessKey",
                "iam:DeleteUser",
            ][..],
        ),
        ("OffboardRole", &["iam:DeleteLoginProfile", "iam:UpdateAccessKey", "iam:UpdateSSHPublicKey"][..]),
    ] {
        let p = function_role(&s, role);
        for action in actions {
            allowed(&p, managed(Request::new(action, &jane)), Resource::None);
            denied(&p, Request::new(action, &hand_made), Resource::None);
            denied(
                &p,
                Request::new(action, &hand_made).with("iam:ResourceTag/managed-by", &["someone-else"]),
                Resource::None,
            );
        }
        allowed(&p, Request::new("iam:GetUser", &hand_made), Resource::None);
    }
}

#[test]
fn only_the_scheduler_role_is_passed_and_only_to_the_scheduler_and_tombstones_stay_this_systems() {
    let s = stack();
    let offboard = function_role(&s, "OffboardRole");
    let scheduler_role = role_arn("SchedulerRole");
    let pass = |role: &str, to: &str| Request::new("iam:PassRole", role).with("iam:PassedToService", &[to]);
    allowed(&offboard, pass(&scheduler_role, "scheduler.amazonaws.com"), Resource::None);
    denied(&offboard, pass(&scheduler_role, "lambda.amazonaws.com"), Resource::None);
    denied(&offboard, pass(&role_arn("SweepRole"), "scheduler.amazonaws.com"), Resource::None);
    denied(
        &offboard,
        pass(&format!("arn:aws:iam::{ACCOUNT}:role/Administrator"), "scheduler.amazonaws.com"),
        Resource::None,
    );
    denied(&function_role(&s, "NotifyRole"), pass(&scheduler_role, "scheduler.amazonaws.com"), Resource::None);
    // The schedules: offboard makes only employee-disable-*; an employee none at all.
    let schedule = |name: &str| arn("scheduler", &format!("schedule/default/{name}"));
    allowed(&offboard, Request::new("scheduler:CreateSchedule", &schedule("employee-disable-E1")), Resource::None);
    denied(&offboard, Request::new("scheduler:CreateSchedule", &schedule("anything-else")), Resource::None);
    let jane = employee(&s, "jane.doe", "E1");
    denied(&jane, mfa(Request::new("scheduler:DeleteSchedule", &schedule("employee-disable-E2"))), Resource::None);
    // The tombstones: create-user reads, the sweep writes, nobody else, no employee.
    let table = arn("dynamodb", "table/employee-lifecycle-tombstones");
    allowed(&function_role(&s, "CreateUserRole"), Request::new("dynamodb:GetItem", &table), Resource::None);
    denied(&function_role(&s, "CreateUserRole"), Request::new("dynamodb:PutItem", &table), Resource::None);
    allowed(&function_role(&s, "SweepRole"), Request::new("dynamodb:PutItem", &table), Resource::None);
    denied(&function_role(&s, "TagUserRole"), Request::new("dynamodb:PutItem", &table), Resource::None);
    for action in ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:GetItem"] {
        denied(&jane, mfa(Request::new(action, &table)), Resource::None);
    }
}
