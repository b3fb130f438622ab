//! The account as a whole: roles, the policy simulator, the summary and the credential report.

use std::collections::BTreeMap;

use super::{Iam, absent, truncated};
use crate::error::Error;
use crate::retry::transient;

impl Iam {
    /// A role's ARN (with its path) from its name, or `None` when there is no such role.
    pub async fn role_arn(&self, name: &str) -> Result<Option<String>, Error> {
        let out = absent(self.call("iam:GetRole", transient, || self.client.get_role().role_name(name).send()).await)?;
        Ok(out.and_then(|o| o.role().map(|r| r.arn().to_owned())))
    }

    /// IAM's own policy simulator for a principal (a user or role ARN) on every resource: each
    /// action with whether it is allowed (all pages).
    pub async fn simulate(&self, principal_arn: &str, actions: &[&str]) -> Result<Vec<(String, bool)>, Error> {
        let names: Vec<String> = actions.iter().map(|a| (*a).to_owned()).collect();
        self.paged(
            "iam:SimulatePrincipalPolicy",
            transient,
            |marker| {
                self.client
                    .simulate_principal_policy()
                    .policy_source_arn(principal_arn)
                    .set_action_names(Some(names.clone()))
                    .set_marker(marker)
                    .send()
            },
            |page| {
                page.evaluation_results()
                    .iter()
                    .map(|r| {
                        let allowed = *r.eval_decision() == aws_sdk_iam::types::PolicyEvaluationDecisionType::Allowed;
                        (r.eval_action_name().to_owned(), allowed)
                    })
                    .collect()
            },
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    /// The account's credential report (CSV, one row per user: console password, MFA, access
    /// keys with rotation and last use), generated first when none is fresh. IAM builds it
    /// within seconds; this waits up to about a minute.
    pub async fn credential_report(&self) -> Result<String, Error> {
        use aws_sdk_iam::types::ReportStateType;
        for _ in 0..60 {
            let generate = self
                .call("iam:GenerateCredentialReport", transient, || self.client.generate_credential_report().send());
            if generate.await?.state() == Some(&ReportStateType::Complete) {
                let got =
                    self.call("iam:GetCredentialReport", transient, || self.client.get_credential_report().send());
                let content = got.await?.content.map(|b| b.into_inner()).unwrap_or_default();
                return String::from_utf8(content)
                    .map_err(|_| Error::Input("iam:GetCredentialReport: the report is not UTF-8 text".into()));
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        Err(Error::Input("iam:GenerateCredentialReport: the report was not ready within a minute; try again".into()))
    }

    /// The account's IAM usage and quotas (`Users`, `UsersQuota`, `GroupsPerUserQuota`, ...).
    pub async fn account_summary(&self) -> Result<BTreeMap<String, i64>, Error> {
        let out = self.call("iam:GetAccountSummary", transient, || self.client.get_account_summary().send()).await?;
        let map = out.summary_map().map(|m| m.iter().map(|(k, v)| (k.as_str().to_owned(), i64::from(*v))).collect());
        Ok(map.unwrap_or_default())
    }
}
