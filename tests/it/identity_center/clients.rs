//! The clients under the person layer: the people table, memberships, revocations, asynchronous
//! requests, throttling, and (with the SDK's mocks, where the emulator cannot) `UpdateUser`.

use super::*;

/// The people table, this system's record of whom it owns: a record is written once (a second
/// claim, another delivery's, changes nothing), its lifecycle entries are set and removed in one
/// write, and a record that is not there is not made by an update.
#[tokio::test]
async fn the_people_table_claims_once_and_keeps_the_lifecycle() {
    use shared::aws::people::{Origin, People, PersonRecord};
    let acct = Account::new().await;
    let people = People::of(&acct.sdk);
    let table = "employee-lifecycle-people";
    assert!(people.create_table(table).await.expect("create"));
    assert!(!people.create_table(table).await.expect("again"), "made once");
    let since = chrono::DateTime::parse_from_rfc3339("2026-12-02T09:00:00Z").expect("t").to_utc();
    let jane = PersonRecord {
        employee_id: "E1".into(),
        user_id: "u-1".into(),
        user_name: "jane.doe".into(),
        since,
        origin: Origin::Created,
        lifecycle: BTreeMap::from([("status".to_owned(), "pending".to_owned())]),
    };
    assert!(people.claim(table, &jane).await.expect("claim"));
    let rival = PersonRecord { user_id: "u-2".into(), user_name: "jane.doe2".into(), ..jane.clone() };
    assert!(!people.claim(table, &rival).await.expect("claim again"), "the first claim stands");
    assert_eq!(people.get(table, "E1").await.expect("get"), Some(jane.clone()));

    let set = BTreeMap::from([
        ("status".to_owned(), "disabled".to_owned()),
        ("access-revoked".to_owned(), "2026-12-02T10:00:00Z".to_owned()),
    ]);
    people.set_lifecycle(table, "E1", &set, &[]).await.expect("set");
    people.set_lifecycle(table, "E1", &BTreeMap::new(), &["access-revoked"]).await.expect("remove");
    let read = people.get(table, "E1").await.expect("get").expect("record");
    assert_eq!(read.lifecycle, BTreeMap::from([("status".to_owned(), "disabled".to_owned())]));
    let missing = people.set_lifecycle(table, "E9", &set, &[]).await.expect_err("no record");
    assert!(missing.to_string().contains("people record `E9`"), "{missing}");
    assert_eq!(people.get(table, "E9").await.expect("get"), None, "an update made no record");

    let bob = PersonRecord { employee_id: "E0".into(), user_id: "u-0".into(), user_name: "bob".into(), ..jane };
    assert!(people.claim(table, &bob).await.expect("claim"));
    let all: Vec<String> = people.all(table).await.expect("all").into_iter().map(|r| r.employee_id).collect();
    assert_eq!(all, ["E0", "E1"]);
}

/// What the Identity Center joiner and leaver will write, against the emulator: a membership
/// made, listed for the user and ended (ending it again is no error); a permission set's inline
/// policy written with the leavers' revocations, read back naming them, and removed.
#[tokio::test]
async fn memberships_and_a_permission_sets_revocations_are_written_and_read_back() {
    use aws_sdk_identitystore::types::Name;
    let acct = Account::new().await;
    let cfg = config_file(&format!("writes-{}", acct.id));
    let made = onboarding(&acct, &cfg, &["bootstrap"]);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stderr));
    let (instance, store) = instance(&acct).await;
    let ic = shared::aws::identity_center::IdentityCenter::new(&acct.sdk, 20, tests::config().retry_policy());
    let jane = acct
        .identity_store()
        .create_user()
        .identity_store_id(&store)
        .user_name("jane")
        .display_name("Jane Example")
        .name(Name::builder().given_name("Jane").family_name("Example").build())
        .send()
        .await
        .expect("user")
        .user_id()
        .to_owned();
    let developers = groups(&acct, &store).await.into_iter().find(|g| g.0 == "Developers").expect("group").2;

    assert!(ic.memberships_of(&store, &jane).await.expect("none yet").is_empty());
    assert!(ic.join(&store, &developers, &jane).await.expect("join"));
    let memberships = ic.memberships_of(&store, &jane).await.expect("memberships");
    assert_eq!(memberships.iter().map(|(_, g)| g.as_str()).collect::<Vec<_>>(), [developers.as_str()]);
    let membership = &memberships[0].0;
    assert!(ic.leave(&store, membership).await.expect("leave"));
    assert!(ic.memberships_of(&store, &jane).await.expect("after").is_empty(), "through the API: gone");
    // Ending it again is no error (AWS answers ResourceNotFoundException, read as `false`; the
    // emulator answers success).
    ic.leave(&store, membership).await.expect("again");

    let ps = permission_sets(&acct, &instance).await.into_iter().find(|p| p.0 == "Developers").expect("ps").4;
    assert_eq!(ic.inline_policy(&instance, &ps).await.expect("read"), None);
    let (doc, _) = shared::policies::permission_set_revocations([jane.as_str()]);
    let doc = doc.expect("a document").to_string();
    ic.set_inline_policy(&instance, &ps, Some(&doc)).await.expect("write");
    let read = ic.inline_policy(&instance, &ps).await.expect("read").expect("a policy");
    let read: Value = serde_json::from_str(&read).expect("json");
    assert_eq!(shared::policies::users_denied(&read), [jane.clone()].into());
    ic.set_inline_policy(&instance, &ps, None).await.expect("remove");
    assert_eq!(ic.inline_policy(&instance, &ps).await.expect("read"), None);
    ic.set_inline_policy(&instance, &ps, None).await.expect("removing none is no error");
}

/// What the emulator cannot do (its assignments succeed at once): an assignment that is in
/// progress is polled until it succeeds, and one AWS fails is reported for its account while the
/// others are made. Real SDK clients, answers injected with aws-smithy-mocks.
#[tokio::test]
async fn assignments_in_progress_are_polled_and_a_failure_is_reported_by_account() {
    use aws_sdk_identitystore::operation::get_group_id::GetGroupIdOutput;
    use aws_sdk_ssoadmin::operation::attach_managed_policy_to_permission_set::AttachManagedPolicyToPermissionSetOutput;
    use aws_sdk_ssoadmin::operation::create_account_assignment::CreateAccountAssignmentOutput;
    use aws_sdk_ssoadmin::operation::create_permission_set::CreatePermissionSetOutput;
    use aws_sdk_ssoadmin::operation::describe_account_assignment_creation_status::DescribeAccountAssignmentCreationStatusOutput;
    use aws_sdk_ssoadmin::operation::list_account_assignments::ListAccountAssignmentsOutput;
    use aws_sdk_ssoadmin::operation::list_permission_sets::ListPermissionSetsOutput;
    use aws_sdk_ssoadmin::types::{AccountAssignmentOperationStatus, PermissionSet, StatusValues};
    use aws_smithy_mocks::mock;

    type Store = aws_sdk_identitystore::Client;
    type Admin = aws_sdk_ssoadmin::Client;
    let status = |s: StatusValues, id: &str, reason: Option<&str>| {
        AccountAssignmentOperationStatus::builder()
            .status(s)
            .request_id(id)
            .set_failure_reason(reason.map(str::to_owned))
            .build()
    };
    let group = mock!(Store::get_group_id).sequence().output(|| {
        GetGroupIdOutput::builder()
            .group_id("g-1")
            .group_arn("arn:aws:identitystore::1:group/g-1")
            .identity_store_id("d-1234567890")
            .build()
            .expect("output")
    });
    let group = group.repeatedly().build();
    let none = mock!(Admin::list_permission_sets).sequence().output(|| ListPermissionSetsOutput::builder().build());
    let none = none.repeatedly().build();
    let made = mock!(Admin::create_permission_set).then_output(|| {
        let ps =
            PermissionSet::builder().name("Developers").permission_set_arn("arn:aws:sso:::permissionSet/ssoins-1/ps-1");
        CreatePermissionSetOutput::builder().permission_set(ps.build()).build()
    });
    let attached = mock!(Admin::attach_managed_policy_to_permission_set)
        .sequence()
        .output(|| AttachManagedPolicyToPermissionSetOutput::builder().build())
        .repeatedly()
        .build();
    let unassigned = mock!(Admin::list_account_assignments)
        .sequence()
        .output(|| ListAccountAssignmentsOutput::builder().build())
        .repeatedly()
        .build();
    let started = mock!(Admin::create_account_assignment)
        .match_requests(|r| r.target_id() == Some("111111111111"))
        .then_output(move || {
            let s = status(StatusValues::InProgress, "r-1", None);
            CreateAccountAssignmentOutput::builder().account_assignment_creation_status(s).build()
        });
    let refused = mock!(Admin::create_account_assignment)
        .match_requests(|r| r.target_id() == Some("222222222222"))
        .then_output(move || {
            let s = status(StatusValues::Failed, "r-2", Some("the account is not in the organization (injected)"));
            CreateAccountAssignmentOutput::builder().account_assignment_creation_status(s).build()
        });
    let polled = mock!(Admin::describe_account_assignment_creation_status)
        .sequence()
        .output(move || {
            let s = status(StatusValues::InProgress, "r-1", None);
            DescribeAccountAssignmentCreationStatusOutput::builder().account_assignment_creation_status(s).build()
        })
        .output(move || {
            let s = status(StatusValues::Succeeded, "r-1", None);
            DescribeAccountAssignmentCreationStatusOutput::builder().account_assignment_creation_status(s).build()
        })
        .build();
    let ic = mocked(
        &[&group],
        &[&none, &made, &attached, &unassigned, &started, &refused, &polled],
        20,
        tests::config().retry_policy(),
    );

    let mut cfg = tests::config();
    let text = std::fs::read_to_string(config_file("mocked")).expect("config");
    let mut ic_cfg = shared::config::Config::parse(&text, "t").expect("config").identity_center.expect("section");
    ic_cfg.instance_arn = Some("arn:aws:sso:::instance/ssoins-1".into());
    ic_cfg.identity_store_id = Some("d-1234567890".into());
    ic_cfg.permission_sets.truncate(1);
    ic_cfg.assignments.truncate(1);
    cfg.identity_center = Some(ic_cfg.clone());

    let items = onboarding::bootstrap::identity_center::bootstrap(&cfg, &ic_cfg, &ic).await.expect("bootstrap");
    let assignments: Vec<_> = items
        .iter()
        .filter(|i| i.kind == "assignment")
        .map(|i| (i.name.as_str(), i.created, i.error.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        assignments,
        [
            ("Developers -> Developers in 111111111111", true, ""),
            ("Developers -> Developers in 222222222222", false, "the account is not in the organization (injected)"),
        ]
    );
    assert_eq!(polled.num_calls(), 2, "polled until it succeeded");
}

/// What the emulator cannot do (it never throttles): Identity Store's `ThrottlingException`
/// names `RetryAfterSeconds` in its body; the call is tried again only after it, through the
/// real SDK's deserializer. sso-admin's throttling names none: retried with backoff. An error
/// that is not transient is not retried.
#[tokio::test]
async fn throttling_is_retried_after_the_time_aws_names_and_other_errors_are_not() {
    use aws_sdk_identitystore::operation::get_group_id::GetGroupIdOutput;
    use aws_sdk_ssoadmin::operation::list_instances::ListInstancesOutput;
    use aws_smithy_mocks::mock;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    type Store = aws_sdk_identitystore::Client;
    type Admin = aws_sdk_ssoadmin::Client;

    let throttled = |body: &'static str| {
        move || {
            let mut r = Response::new(StatusCode::try_from(400).expect("400"), SdkBody::from(body));
            r.headers_mut().insert("content-type", "application/x-amz-json-1.1");
            r
        }
    };
    let group = mock!(Store::get_group_id)
        .sequence()
        .http_response(throttled(
            r#"{"__type":"ThrottlingException","Message":"Rate exceeded (injected)","RetryAfterSeconds":1}"#,
        ))
        .output(|| {
            GetGroupIdOutput::builder()
                .group_id("g-1")
                .group_arn("arn:aws:identitystore::1:group/g-1")
                .identity_store_id("d-1")
                .build()
                .expect("output")
        })
        .build();
    let instances = mock!(Admin::list_instances)
        .sequence()
        .http_response(throttled(r#"{"__type":"ThrottlingException","Message":"Rate exceeded (injected)"}"#))
        .output(|| ListInstancesOutput::builder().build())
        .http_response(throttled(r#"{"__type":"AccessDeniedException","Message":"no (injected)"}"#))
        .build();
    let retry = shared::retry::RetryPolicy {
        max_attempts: 4,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    };
    let ic = mocked(&[&group], &[&instances], 1000, retry);

    let started = std::time::Instant::now();
    assert_eq!(ic.group_id("d-1", "Developers").await.expect("found after the wait").as_deref(), Some("g-1"));
    assert_eq!(group.num_calls(), 2);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "waited as AWS asked: {:?}", started.elapsed());

    let started = std::time::Instant::now();
    assert!(ic.instances().await.expect("after a backoff").is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "no RetryAfterSeconds: the policy's backoff");
    let denied = ic.instances().await.expect_err("not retried");
    assert_eq!(denied.aws_code(), Some("AccessDeniedException"), "{denied}");
    assert_eq!(instances.num_calls(), 3, "throttled, answered, denied once");
}

/// Identity Center on real SDK clients whose HTTP layer answers from `store` and `admin`
/// (aws-smithy-mocks), with the SDK's own retries off, as `IdentityCenter::new` builds them.
/// `UpdateUser`, which the emulator answers with HTTP 500 (so a change there updates the person's
/// record only: `identity_center.skip_user_updates` unset skips it against an emulator): the one
/// request a change's attributes make, checked with the SDK's own mocks.
#[tokio::test]
async fn a_changes_attributes_reach_the_identity_store_user_in_one_update() {
    use aws_sdk_identitystore::operation::update_user::UpdateUserOutput;
    use aws_smithy_mocks::mock;
    use aws_smithy_types::Document;
    type Store = aws_sdk_identitystore::Client;
    let update = mock!(Store::update_user)
        .match_requests(|r| {
            let ops: Vec<(&str, Option<&Document>)> =
                r.operations().iter().map(|o| (o.attribute_path(), o.attribute_value())).collect();
            r.identity_store_id() == Some("d-1")
                && r.user_id() == Some("u-1")
                && ops
                    == [
                        ("title", Some(&Document::String("Financial Analyst".into()))),
                        ("name.givenName", Some(&Document::String("Janie".into()))),
                    ]
        })
        .then_output(|| {
            let out = UpdateUserOutput::builder().identity_store_id("d-1").user_id("u-1");
            out.user_arn("arn:aws:identitystore:::user/u-1").revision("2").build().expect("output")
        });
    let retry = shared::retry::RetryPolicy {
        max_attempts: 2,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    };
    let ic = mocked(&[&update], &[], 1000, retry);
    let changes =
        [("title", Document::String("Financial Analyst".into())), ("name.givenName", Document::String("Janie".into()))];
    ic.update_user("d-1", "u-1", &changes).await.expect("updated");
    assert_eq!(update.num_calls(), 1, "one request for every attribute");
}

fn mocked(
    store: &[&aws_smithy_mocks::Rule],
    admin: &[&aws_smithy_mocks::Rule],
    max_tps: u32,
    retry: shared::retry::RetryPolicy,
) -> shared::aws::identity_center::IdentityCenter {
    use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, create_mock_http_client};
    let interceptor = |rules: &[&aws_smithy_mocks::Rule]| {
        rules.iter().fold(MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny), |i, r| i.with_rule(r))
    };
    let store = aws_sdk_identitystore::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_identitystore::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_identitystore::config::Credentials::new("k", "s", None, None, "test"))
        .retry_config(aws_sdk_identitystore::config::retry::RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(store))
        .build();
    let admin = aws_sdk_ssoadmin::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_ssoadmin::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssoadmin::config::Credentials::new("k", "s", None, None, "test"))
        .retry_config(aws_sdk_ssoadmin::config::retry::RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(admin))
        .build();
    shared::aws::identity_center::IdentityCenter::from_clients(
        aws_sdk_identitystore::Client::from_conf(store),
        aws_sdk_ssoadmin::Client::from_conf(admin),
        max_tps,
        retry,
    )
}
