//! Fault sequences the emulator cannot produce (it never throttles and is never eventually
//! consistent), injected with aws-smithy-mocks into the real SDK client.

use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::error::ErrorMetadata;
use aws_sdk_iam::operation::add_user_to_group::{AddUserToGroupError, AddUserToGroupOutput};
use aws_sdk_iam::operation::create_login_profile::CreateLoginProfileError;
use aws_sdk_iam::operation::create_user::CreateUserError;
use aws_smithy_mocks::{Rule, RuleMode, create_mock_http_client, mock};
use shared::aws::iam::{CredentialKind, Iam};
use shared::retry::RetryPolicy;
use shared::secret::Secret;

const POLICY: RetryPolicy =
    RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5) };

/// A real IAM client whose HTTP layer answers from `rules`; the SDK's own retries are off so
/// every call the code makes is counted.
fn iam(rules: &[&Rule]) -> Iam {
    let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
    for r in rules {
        interceptor = interceptor.with_rule(r);
    }
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new("k", "s", None, None, "test"))
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Iam::new(Client::from_conf(conf), POLICY)
}

fn err(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(format!("{code} (injected)")).build()
}

#[tokio::test]
async fn temporarily_unmodifiable_and_not_yet_visible_are_retried() {
    let rule = mock!(Client::add_user_to_group)
        .sequence()
        .error(|| AddUserToGroupError::generic(err("EntityTemporarilyUnmodifiable")))
        .error(|| AddUserToGroupError::generic(err("NoSuchEntity")))
        .error(|| AddUserToGroupError::generic(err("Throttling")))
        .output(|| AddUserToGroupOutput::builder().build())
        .build();
    let iam = iam(&[&rule]);
    iam.add_user_to_group("jane.doe", "Developers").await.expect("succeeds on the fourth call");
    assert_eq!(rule.num_calls(), 4);
}

/// `CreateUser` answered with `code` every time: how many calls were made before the error.
async fn create_user_always_failing_with(code: &'static str) -> (usize, shared::Error) {
    let rule =
        mock!(Client::create_user).sequence().error(move || CreateUserError::generic(err(code))).times(10).build();
    let e = iam(&[&rule])
        .create_user("jane.doe", "/employees/E1/", "arn:aws:iam::1:policy/b", &Default::default())
        .await
        .expect_err("gives up");
    (rule.num_calls(), e)
}

#[tokio::test]
async fn retries_are_bounded_and_keep_the_aws_code() {
    let (calls, e) = create_user_always_failing_with("ConcurrentModification").await;
    assert_eq!(calls, POLICY.max_attempts as usize);
    assert_eq!(e.aws_code(), Some("ConcurrentModification"));
    assert_eq!(e.error_type(), "Onboarding.Transient");
    assert!(
        e.to_string().contains("iam:CreateUser failed: ConcurrentModification: ConcurrentModification (injected)"),
        "{e}"
    );
}

#[tokio::test]
async fn other_errors_fail_fast_with_code_and_message() {
    let rule = mock!(Client::create_user).then_error(|| CreateUserError::generic(err("AccessDenied")));
    let iam = iam(&[&rule]);
    let e = iam
        .create_user("jane.doe", "/employees/", "arn:aws:iam::1:policy/b", &Default::default())
        .await
        .expect_err("fails");
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(e.error_type(), "Onboarding.AwsError");
    assert!(e.to_string().contains("AccessDenied: AccessDenied (injected)"), "{e}");
}

#[tokio::test]
async fn a_created_user_is_found_despite_a_brief_not_found() {
    let rule = mock!(Client::get_user)
        .sequence()
        .error(|| aws_sdk_iam::operation::get_user::GetUserError::generic(err("NoSuchEntity")))
        .output(|| {
            aws_sdk_iam::operation::get_user::GetUserOutput::builder()
                .user(
                    aws_sdk_iam::types::User::builder()
                        .user_name("jane.doe")
                        .user_id("AIDA")
                        .arn("arn:aws:iam::1:user/employees/jane.doe")
                        .path("/employees/")
                        .create_date(aws_sdk_iam::primitives::DateTime::from_secs(0))
                        .build()
                        .expect("user"),
                )
                .build()
        })
        .build();
    let iam = iam(&[&rule]);
    let u = iam.wait_for_user("jane.doe").await.expect("visible on the second call");
    assert_eq!(u.arn, "arn:aws:iam::1:user/employees/jane.doe");
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn a_password_rejected_by_iam_does_not_leak_into_the_error() {
    let rule = mock!(Client::create_login_profile)
        .then_error(|| CreateLoginProfileError::generic(err("PasswordPolicyViolation")));
    let iam = iam(&[&rule]);
    let pw = Secret::new("Sup3r-Secret-Pa55word!!".into());
    let e = iam.set_login_profile("jane.doe", &pw).await.expect_err("rejected");
    assert!(e.to_string().contains("PasswordPolicyViolation"));
    assert!(!e.to_string().contains(pw.expose()));
    assert!(!format!("{e:?}").contains(pw.expose()));
}

#[tokio::test]
async fn a_just_deleted_name_is_retried_within_bounds_then_fails_clearly() {
    // IAM may refuse a rehire's just-deleted name for a while.
    let ok = mock!(Client::create_user)
        .sequence()
        .error(|| CreateUserError::generic(err("EntityTemporarilyUnmodifiable")))
        .times(2)
        .output(|| aws_sdk_iam::operation::create_user::CreateUserOutput::builder().build())
        .build();
    let iam_ok = iam(&[&ok]);
    iam_ok
        .create_user("jane.doe", "/employees/E1/", "arn:aws:iam::1:policy/b", &Default::default())
        .await
        .expect("third call");
    assert_eq!(ok.num_calls(), 3);

    let (calls, e) = create_user_always_failing_with("EntityTemporarilyUnmodifiable").await;
    assert_eq!(calls, POLICY.max_attempts as usize);
    assert_eq!(e.aws_code(), Some("EntityTemporarilyUnmodifiable"));
    assert!(e.to_string().contains("iam:CreateUser"), "{e}");
}

#[tokio::test]
async fn service_specific_credentials_are_listed_and_deleted() {
    // The emulator does not implement these; AWS refuses DeleteUser while one remains.
    use aws_sdk_iam::operation::delete_service_specific_credential::{
        DeleteServiceSpecificCredentialError, DeleteServiceSpecificCredentialOutput,
    };
    use aws_sdk_iam::operation::list_service_specific_credentials::ListServiceSpecificCredentialsOutput;
    use aws_sdk_iam::types::{ServiceSpecificCredentialMetadata, StatusType};
    let list = mock!(Client::list_service_specific_credentials).then_output(|| {
        let c = ServiceSpecificCredentialMetadata::builder()
            .user_name("jane.doe")
            .status(StatusType::Active)
            .service_user_name("jane.doe-at-1")
            .create_date(aws_sdk_iam::primitives::DateTime::from_secs(0))
            .service_specific_credential_id("ACCA1")
            .service_name("codecommit.amazonaws.com")
            .build()
            .expect("metadata");
        ListServiceSpecificCredentialsOutput::builder().service_specific_credentials(c).build()
    });
    let delete = mock!(Client::delete_service_specific_credential)
        .sequence()
        .output(|| DeleteServiceSpecificCredentialOutput::builder().build())
        .error(|| DeleteServiceSpecificCredentialError::generic(err("NoSuchEntity")))
        .build();
    let iam = iam(&[&list, &delete]);
    let found = iam.credentials("jane.doe", CredentialKind::ServiceSpecific).await.expect("list");
    assert_eq!((found.len(), found[0].id.as_str(), found[0].active), (1, "ACCA1", true));
    assert!(iam.delete_credential("jane.doe", CredentialKind::ServiceSpecific, "ACCA1").await.expect("deleted"));
    assert!(
        !iam.delete_credential("jane.doe", CredentialKind::ServiceSpecific, "ACCA1")
            .await
            .expect("already gone is fine")
    );
    assert_eq!(delete.num_calls(), 2);
}

/// An AWS failure reaches the operator as one readable line: `service:Action failed: Code:
/// message (HTTP status, request id)`, never the SDK's debug structure (which stays in the
/// debug log). The emulator answers 500 with an HTML page for an API it lacks: the case an
/// operator saw as a screenful of `ServiceError { source: ... }`.
#[tokio::test]
async fn a_failed_aws_call_is_one_readable_line() {
    let acct = tests::Account::new().await;
    let (ctx, _inboxes) = acct.ready(tests::config()).await;
    let e = ctx.aws.iam.credentials("nobody", CredentialKind::ServiceSpecific).await.expect_err("moto lacks the API");
    let line = e.to_string();
    assert!(line.starts_with("iam:ListServiceSpecificCredentials failed: "), "{line}");
    assert!(line.contains("(HTTP 500"), "{line}");
    assert!(!line.contains('\n') && line.len() < 300, "{line}");
    for noise in ["ServiceError", "source:", "Response {", "SdkBody", "TypeErasedBox"] {
        assert!(!line.contains(noise), "{noise} in {line}");
    }
    // An AWS answer with a code and message keeps both, and the request id.
    let e = ctx
        .aws
        .iam
        .set_credential_active("nobody", CredentialKind::AccessKey, "AKIAEXAMPLE", false)
        .await
        .expect_err("no such user");
    let line = e.to_string();
    assert!(line.starts_with("iam:UpdateAccessKey failed: NoSuchEntity: "), "{line}");
    assert!(line.contains("HTTP 404") && line.contains("request id"), "{line}");
}

/// `onboarding doctor` against AWS: IAM's simulator is asked for the caller (the role behind an
/// assumed-role session, with its path), and each command's check names the actions denied.
#[tokio::test]
async fn the_doctor_names_the_actions_the_caller_may_not_perform_per_command() {
    use aws_sdk_iam::operation::get_role::GetRoleOutput;
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyOutput;
    use aws_sdk_iam::types::{EvaluationResult, PolicyEvaluationDecisionType as Decision, Role};

    let cfg = shared::config::Config::shipped().expect("the shipped config");
    let denied = ["iam:CreatePolicy", "sns:Publish"];
    let asked: Vec<&str> = onboarding::doctor::needs(&cfg).into_iter().flat_map(|(_, a)| a).collect();
    let role_arn = "arn:aws:iam::111122223333:role/ops/Operator";
    let get_role = mock!(Client::get_role).match_requests(|r| r.role_name() == Some("Operator")).then_output(|| {
        let role = Role::builder()
            .path("/ops/")
            .role_name("Operator")
            .role_id("AROAEXAMPLE")
            .arn("arn:aws:iam::111122223333:role/ops/Operator")
            .create_date(aws_sdk_iam::primitives::DateTime::from_secs(0))
            .build()
            .expect("role");
        GetRoleOutput::builder().role(role).build()
    });
    let results: Vec<EvaluationResult> = asked
        .iter()
        .map(|a| {
            let decision = if denied.contains(a) { Decision::ImplicitDeny } else { Decision::Allowed };
            EvaluationResult::builder().eval_action_name(*a).eval_decision(decision).build().expect("result")
        })
        .collect();
    let simulate = mock!(Client::simulate_principal_policy)
        .match_requests(move |r| r.policy_source_arn() == Some(role_arn))
        .then_output(move || {
            SimulatePrincipalPolicyOutput::builder().set_evaluation_results(Some(results.clone())).build()
        });
    let iam = iam(&[&get_role, &simulate]);

    let checks =
        onboarding::doctor::permissions(&cfg, &iam, "arn:aws:sts::111122223333:assumed-role/Operator/jane").await;
    assert_eq!((get_role.num_calls(), simulate.num_calls()), (1, 1));
    let verdict =
        |name: &str| checks.iter().find(|c| c.check.starts_with(name)).unwrap_or_else(|| panic!("{checks:?}"));
    let bootstrap = verdict("permissions: bootstrap");
    assert_eq!(bootstrap.verdict, "failed", "{bootstrap:?}");
    assert!(
        bootstrap.detail.contains(role_arn) && bootstrap.detail.ends_with("may not: iam:CreatePolicy"),
        "{bootstrap:?}"
    );
    assert!(!bootstrap.fix.is_empty());
    let run = verdict("permissions: run");
    assert!(run.verdict == "failed" && run.detail.ends_with("may not: sns:Publish"), "{run:?}");
    let access = verdict("permissions: audit access");
    assert_eq!(access.verdict, "ok", "{access:?}");

    // The root user and a federated session are not simulated: said, not guessed.
    for caller in ["arn:aws:iam::111122223333:root", "arn:aws:sts::111122223333:federated-user/bob"] {
        let checks = onboarding::doctor::permissions(&cfg, &iam, caller).await;
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert_eq!(checks[0].verdict, "not-checked", "{checks:?}");
    }
}
