//! IAM policy documents this system installs (`onboarding bootstrap`). Pure JSON builders.

use serde_json::{Value, json};

use crate::config::Config;

/// Name of the policy attached to the always-groups: change one's own password, manage one's
/// own MFA device, read one's own initial credentials.
pub const SELF_SERVICE_POLICY: &str = "employee-self-service";
/// Name of the policy that denies everything but MFA set-up until the user signed in with MFA.
pub const FORCE_MFA_POLICY: &str = "employee-force-mfa";

/// The permissions boundary for every created user: the most any employee can ever be granted.
/// Workloads are allowed (groups grant the actual permissions); identity administration,
/// privilege escalation and touching the boundary itself are not.
pub fn boundary() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowWhatGroupsGrant", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Sid": "DenyIdentityAdministration",
                "Effect": "Deny",
                "Action": [
                    "iam:CreateUser", "iam:DeleteUser", "iam:UpdateUser",
                    "iam:CreateRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
                    "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion",
                    "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AttachRolePolicy",
                    "iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy",
                    "iam:DetachUserPolicy", "iam:DetachGroupPolicy", "iam:DetachRolePolicy",
                    "iam:DeleteUserPolicy", "iam:DeleteGroupPolicy", "iam:DeleteRolePolicy",
                    "iam:AddUserToGroup", "iam:RemoveUserFromGroup",
                    "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
                    "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
                    "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:DeleteLoginProfile",
                    "iam:TagUser", "iam:UntagUser",
                    "organizations:*", "account:*"
                ],
                "Resource": "*"
            }
        ]
    })
}

/// Self-service for employees (attached to the always-groups).
pub fn self_service(cfg: &Config) -> Value {
    let prefix = &cfg.secrets.prefix;
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ViewAccountPasswordRules", "Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], "Resource": "*"},
            {
                "Sid": "ManageOwnPasswordAndMfa",
                "Effect": "Allow",
                "Action": [
                    "iam:ChangePassword", "iam:GetUser", "iam:GetLoginProfile",
                    "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ResyncMFADevice",
                    "iam:ListMFADevices", "iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"
                ],
                "Resource": ["arn:aws:iam::*:user/*/${aws:username}", "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::*:mfa/${aws:username}"]
            },
            {
                "Sid": "ReadOwnInitialCredentials",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": format!("arn:aws:secretsmanager:*:*:secret:{prefix}/${{aws:username}}/*")
            }
        ]
    })
}

/// Until the user has signed in with MFA, deny everything except setting MFA up, changing the
/// initial password and reading the initial credentials (AWS's documented pattern).
pub fn force_mfa() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyAllExceptMfaSetupWithoutMfa",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "iam:ChangePassword",
                "iam:GetAccountPasswordPolicy", "sts:GetSessionToken",
                "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"
            ],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_denies_escalation_and_boundary_changes() {
        let b = boundary();
        let denied = b["Statement"][1]["Action"].as_array().expect("actions");
        for a in [
            "iam:PutUserPermissionsBoundary",
            "iam:DeleteUserPermissionsBoundary",
            "iam:AttachUserPolicy",
            "iam:PutUserPolicy",
            "iam:CreateRole",
            "iam:PassRole",
        ] {
            assert!(denied.iter().any(|d| d == a), "{a}");
        }
        assert_eq!(b["Statement"][1]["Effect"], "Deny");
    }

    #[test]
    fn users_can_change_their_password_and_read_only_their_secrets() {
        let cfg = Config::parse(include_str!("../../onboarding.toml"), "t").expect("cfg");
        let p = self_service(&cfg);
        assert!(p["Statement"][1]["Action"].as_array().expect("a").iter().any(|a| a == "iam:ChangePassword"));
        assert_eq!(
            p["Statement"][2]["Resource"],
            "arn:aws:secretsmanager:*:*:secret:employee-lifecycle/${aws:username}/*"
        );
        let f = force_mfa();
        assert!(f["Statement"][0]["NotAction"].as_array().expect("a").iter().any(|a| a == "iam:ChangePassword"));
    }
}
