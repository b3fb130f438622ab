//! IAM calls used by the steps. Every call goes through [`Iam::call`]: SDK error → [`Error::Aws`]
//! with the AWS code, retried within the policy when the predicate says it is worth it.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_iam::Client;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;

use super::{aws_error, is_code};
use crate::error::Error;
use crate::password::PasswordPolicy;
use crate::retry::{self, RetryPolicy, transient, transient_or_not_yet_visible};
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct Iam {
    client: Client,
    retry: RetryPolicy,
    /// What does not change within minutes, read once per process (or warm Lambda) per
    /// [`FRESH_FOR`]: the password policy and the groups' ARNs.
    cache: std::sync::Arc<Cache>,
}

/// How long a cached answer is used before it is read again (an administrator's change to the
/// password policy or a group is seen within this).
pub const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Debug, Default)]
struct Cache {
    password_policy: std::sync::Mutex<Option<(std::time::Instant, PasswordPolicy)>>,
    groups: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, String)>>,
}

/// The value if read within [`FRESH_FOR`].
fn fresh<T: Clone>(entry: Option<&(std::time::Instant, T)>) -> Option<T> {
    entry.filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, v)| v.clone())
}

/// A user as the steps see it. `boundary` and `password_last_used` come from `GetUser` (AWS's
/// `ListUsers` returns no boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
    /// The permissions boundary's ARN.
    pub boundary: Option<String>,
    /// When the console password was last used to sign in.
    pub password_last_used: Option<chrono::DateTime<chrono::Utc>>,
}

/// A user with what grants it access ([`Iam::user_details`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    pub user: User,
    pub groups: Vec<String>,
    /// Managed policies attached to the user directly (ARNs).
    pub attached_policies: Vec<String>,
    /// Inline policies of the user (names).
    pub inline_policies: Vec<String>,
    /// When the user was made.
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&aws_sdk_iam::types::User> for User {
    fn from(u: &aws_sdk_iam::types::User) -> Self {
        Self {
            name: u.user_name().to_owned(),
            arn: u.arn().to_owned(),
            path: u.path().to_owned(),
            tags: u.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
            boundary: u.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(str::to_owned),
            password_last_used: u.password_last_used().and_then(|t| to_chrono(*t)),
        }
    }
}

/// A credential the user holds (access key, signing certificate, SSH public key, service-specific
/// credential): its id and whether it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub active: bool,
}

/// The long-lived credentials a user can hold besides the console password, in the order AWS
/// requires them gone before the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    AccessKey,
    SigningCertificate,
    SshPublicKey,
    /// CodeCommit and Keyspaces credentials.
    ServiceSpecific,
}

impl CredentialKind {
    pub const ALL: [Self; 4] = [Self::AccessKey, Self::SigningCertificate, Self::SshPublicKey, Self::ServiceSpecific];

    pub fn list_action(self) -> &'static str {
        match self {
            Self::AccessKey => "iam:ListAccessKeys",
            Self::SigningCertificate => "iam:ListSigningCertificates",
            Self::SshPublicKey => "iam:ListSSHPublicKeys",
            Self::ServiceSpecific => "iam:ListServiceSpecificCredentials",
        }
    }

    pub fn update_action(self) -> &'static str {
        match self {
            Self::AccessKey => "iam:UpdateAccessKey",
            Self::SigningCertificate => "iam:UpdateSigningCertificate",
            Self::SshPublicKey => "iam:UpdateSSHPublicKey",
            Self::ServiceSpecific => "iam:UpdateServiceSpecificCredential",
        }
    }

    pub fn delete_action(self) -> &'static str {
        match self {
            Self::AccessKey => "iam:DeleteAccessKey",
            Self::SigningCertificate => "iam:DeleteSigningCertificate",
            Self::SshPublicKey => "iam:DeleteSSHPublicKey",
            Self::ServiceSpecific => "iam:DeleteServiceSpecificCredential",
        }
    }

    /// Its part of an audit target: `{user arn}/{segment}/{id}`.
    pub fn segment(self) -> &'static str {
        match self {
            Self::AccessKey => "access-key",
            Self::SigningCertificate => "signing-certificate",
            Self::SshPublicKey => "ssh-public-key",
            Self::ServiceSpecific => "service-specific-credential",
        }
    }
}

fn to_chrono(t: aws_sdk_iam::primitives::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn active(status: Option<&aws_sdk_iam::types::StatusType>) -> bool {
    status.is_some_and(|s| s.as_str() == "Active")
}

fn status(active: bool) -> aws_sdk_iam::types::StatusType {
    if active { aws_sdk_iam::types::StatusType::Active } else { aws_sdk_iam::types::StatusType::Inactive }
}

/// The marker of the next page, when AWS says the listing is truncated.
fn truncated(is_truncated: bool, marker: Option<&str>) -> Option<&str> {
    marker.filter(|_| is_truncated)
}

/// `Ok(false)` for `NoSuchEntity`: what was to be removed is already gone.
fn gone<T>(r: Result<T, Error>) -> Result<bool, Error> {
    Ok(absent(r)?.is_some())
}

fn to_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, Error> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| Error::Input(format!("tag {k}: {e}"))))
        .collect()
}

/// `Ok(None)` for `NoSuchEntity`: the thing asked about does not exist.
fn absent<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_code(&e, "NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}

impl Iam {
    pub fn new(client: Client, retry: RetryPolicy) -> Self {
        Self { client, retry, cache: Default::default() }
    }

    /// One API call: errors keep their AWS code; `retryable` ones are retried within the policy.
    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        retryable: fn(&Error) -> bool,
        send: F,
    ) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, super::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        retry::retry(self.retry, operation, retryable, || async { send().await.map_err(|e| aws_error(operation, e)) })
            .await
    }

    /// Every item of a marker-paginated listing, one call per page: `send(marker)` requests a
    /// page, `items(page)` takes what it holds. The next page is asked for while AWS says the
    /// listing is truncated.
    async fn paged<T, O, E, F, Fut>(
        &self,
        operation: &'static str,
        retryable: fn(&Error) -> bool,
        send: F,
        items: impl Fn(&O) -> Vec<T>,
        next: impl Fn(&O) -> Option<&str>,
    ) -> Result<Vec<T>, Error>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<O, SdkError<E, super::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let send = &send;
        let fetch =
            |marker: Option<String>| async move { self.call(operation, retryable, || send(marker.clone())).await };
        super::all_pages(fetch, items, next).await
    }

    /// The user, or `None` when it does not exist.
    pub async fn get_user(&self, name: &str) -> Result<Option<User>, Error> {
        let out = absent(self.call("iam:GetUser", transient, || self.client.get_user().user_name(name).send()).await)?;
        Ok(out.and_then(|o| o.user().map(User::from)))
    }

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

    /// Creates a customer-managed policy; returns its ARN.
    pub async fn create_policy(&self, name: &str, description: &str, document: &str) -> Result<String, Error> {
        let out = self
            .call("iam:CreatePolicy", transient, || {
                self.client.create_policy().policy_name(name).description(description).policy_document(document).send()
            })
            .await?;
        Ok(out.policy().and_then(|p| p.arn()).unwrap_or_default().to_owned())
    }

    /// A customer-managed policy's description and default document.
    pub async fn policy_document(&self, arn: &str) -> Result<(Option<String>, serde_json::Value), Error> {
        let out = self.call("iam:GetPolicy", transient, || self.client.get_policy().policy_arn(arn).send()).await?;
        let policy = out.policy().ok_or_else(|| Error::Input(format!("GetPolicy returned no policy for {arn}")))?;
        let version = policy.default_version_id().unwrap_or("v1").to_owned();
        let description = policy.description().map(str::to_owned);
        let out = self
            .call("iam:GetPolicyVersion", transient, || {
                self.client.get_policy_version().policy_arn(arn).version_id(&version).send()
            })
            .await?;
        let text = out.policy_version().and_then(|v| v.document()).unwrap_or_default();
        // IAM answers the document percent-encoded; an emulator may not.
        let doc = serde_json::from_str(text)
            .or_else(|_| serde_json::from_str(&super::percent_decode(text)))
            .map_err(|e| Error::Input(format!("{arn}: its document is not JSON: {e}")))?;
        Ok((description, doc))
    }

    /// Makes `document` the policy's default version, deleting its oldest other version first
    /// when it holds IAM's five.
    pub async fn replace_policy_document(&self, arn: &str, document: &str) -> Result<(), Error> {
        // IAM keeps five versions: the oldest non-default one goes first. Writers that race (two
        // departures at once) may delete the same version or both find five: each tries again.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let out = self
                .call("iam:ListPolicyVersions", transient, || self.client.list_policy_versions().policy_arn(arn).send())
                .await?;
            let mut others: Vec<_> = out.versions().iter().filter(|v| !v.is_default_version()).collect();
            if out.versions().len() >= 5 {
                others.sort_by_key(|v| v.create_date().map(|d| d.secs()));
                if let Some(id) = others.first().and_then(|v| v.version_id()) {
                    let deleted = self
                        .call("iam:DeletePolicyVersion", transient, || {
                            self.client.delete_policy_version().policy_arn(arn).version_id(id).send()
                        })
                        .await;
                    match deleted {
                        Err(e) if is_code(&e, "NoSuchEntity") && attempts < 5 => continue,
                        other => other?,
                    };
                }
            }
            let created = self
                .call("iam:CreatePolicyVersion", transient, || {
                    self.client
                        .create_policy_version()
                        .policy_arn(arn)
                        .policy_document(document)
                        .set_as_default(true)
                        .send()
                })
                .await;
            match created {
                Err(e) if is_code(&e, "LimitExceeded") && attempts < 5 => continue,
                other => return other.map(|_| ()),
            }
        }
    }

    /// Creates the group; `false` when it existed.
    pub async fn create_group(&self, name: &str) -> Result<bool, Error> {
        super::written(
            self.call("iam:CreateGroup", transient, || self.client.create_group().group_name(name).send()).await,
            "EntityAlreadyExists",
        )
    }

    /// Attaches a managed policy to a group (a no-op when attached).
    pub async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> Result<(), Error> {
        self.call("iam:AttachGroupPolicy", transient, || {
            self.client.attach_group_policy().group_name(group).policy_arn(policy_arn).send()
        })
        .await?;
        Ok(())
    }

    /// Every user under `path_prefix` with its tags, path and boundary, read with
    /// `GetAccountAuthorizationDetails` (one call per page of up to 1,000 users, not one per user).
    pub async fn users_with_tags(&self, path_prefix: &str) -> Result<Vec<User>, Error> {
        Ok(self.user_details(path_prefix).await?.into_iter().map(|d| d.user).collect())
    }

    /// Every user under `path_prefix` with what grants it access (groups, policies attached or
    /// inline), from the same paginated `GetAccountAuthorizationDetails` read.
    pub async fn user_details(&self, path_prefix: &str) -> Result<Vec<UserDetail>, Error> {
        use aws_sdk_iam::types::EntityType;
        self.paged(
            "iam:GetAccountAuthorizationDetails",
            transient,
            |marker| {
                let read = self.client.get_account_authorization_details().filter(EntityType::User);
                read.max_items(1000).set_marker(marker).send()
            },
            |page| {
                let under = page.user_detail_list().iter().filter(|u| u.path().unwrap_or("/").starts_with(path_prefix));
                under
                    .map(|u| UserDetail {
                        user: User {
                            name: u.user_name().unwrap_or_default().to_owned(),
                            arn: u.arn().unwrap_or_default().to_owned(),
                            path: u.path().unwrap_or("/").to_owned(),
                            tags: u.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
                            boundary: u
                                .permissions_boundary()
                                .and_then(|b| b.permissions_boundary_arn())
                                .map(str::to_owned),
                            password_last_used: None,
                        },
                        groups: u.group_list().to_vec(),
                        attached_policies: u
                            .attached_managed_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_owned))
                            .collect(),
                        inline_policies: u
                            .user_policy_list()
                            .iter()
                            .filter_map(|p| p.policy_name().map(str::to_owned))
                            .collect(),
                        created: u.create_date().and_then(|t| to_chrono(*t)),
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

    /// The user, waiting (within the retry bounds) for one created moments ago to be visible.
    pub async fn wait_for_user(&self, name: &str) -> Result<User, Error> {
        let out = self
            .call("iam:GetUser", transient_or_not_yet_visible, || self.client.get_user().user_name(name).send())
            .await?;
        out.user().map(User::from).ok_or_else(|| Error::Input(format!("GetUser returned no user for {name}")))
    }

    /// Creates a user with its path, permissions boundary and all tags in one call.
    /// `EntityAlreadyExists` is returned as the error, for the caller to decide.
    pub async fn create_user(
        &self,
        name: &str,
        path: &str,
        boundary_arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, Error> {
        let tags = to_tags(tags)?;
        let out = self
            .call("iam:CreateUser", transient, || {
                self.client
                    .create_user()
                    .user_name(name)
                    .path(path)
                    .permissions_boundary(boundary_arn)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await?;
        Ok(out.user().map(|u| u.arn().to_owned()).unwrap_or_default())
    }

    pub async fn tag_user(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), Error> {
        let tags = to_tags(tags)?;
        self.call("iam:TagUser", transient_or_not_yet_visible, || {
            self.client.tag_user().user_name(name).set_tags(Some(tags.clone())).send()
        })
        .await?;
        Ok(())
    }

    pub async fn untag_user(&self, name: &str, keys: &[String]) -> Result<(), Error> {
        self.call("iam:UntagUser", transient_or_not_yet_visible, || {
            self.client.untag_user().user_name(name).set_tag_keys(Some(keys.to_vec())).send()
        })
        .await?;
        Ok(())
    }

    /// The group's ARN, or `None` when it does not exist (a missing group is asked again each
    /// time; an existing one is remembered for [`FRESH_FOR`]).
    pub async fn group_arn(&self, group: &str) -> Result<Option<String>, Error> {
        let cached = self.cache.groups.lock().ok().and_then(|g| fresh(g.get(group)));
        if cached.is_some() {
            return Ok(cached);
        }
        let r = self.call("iam:GetGroup", transient, || self.client.get_group().group_name(group).max_items(1).send());
        let arn = absent(r.await)?.and_then(|o| o.group().map(|g| g.arn().to_owned()));
        if let (Some(arn), Ok(mut groups)) = (&arn, self.cache.groups.lock()) {
            groups.insert(group.to_owned(), (std::time::Instant::now(), arn.clone()));
        }
        Ok(arn)
    }

    /// Moves the user to `path` (its ARN changes with it; name, credentials and groups stay).
    pub async fn move_user(&self, name: &str, path: &str) -> Result<(), Error> {
        self.call("iam:UpdateUser", transient_or_not_yet_visible, || {
            self.client.update_user().user_name(name).new_path(path).send()
        })
        .await?;
        Ok(())
    }

    /// Sets the user's permissions boundary (replacing any other).
    pub async fn set_boundary(&self, name: &str, boundary_arn: &str) -> Result<(), Error> {
        self.call("iam:PutUserPermissionsBoundary", transient_or_not_yet_visible, || {
            self.client.put_user_permissions_boundary().user_name(name).permissions_boundary(boundary_arn).send()
        })
        .await?;
        Ok(())
    }

    /// The account's IAM usage and quotas (`Users`, `UsersQuota`, `GroupsPerUserQuota`, ...).
    pub async fn account_summary(&self) -> Result<BTreeMap<String, i64>, Error> {
        let out = self.call("iam:GetAccountSummary", transient, || self.client.get_account_summary().send()).await?;
        let map = out.summary_map().map(|m| m.iter().map(|(k, v)| (k.as_str().to_owned(), i64::from(*v))).collect());
        Ok(map.unwrap_or_default())
    }

    /// The names of the user's groups (all pages). A user not yet visible is waited for.
    pub async fn groups_for_user(&self, name: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "iam:ListGroupsForUser",
            transient_or_not_yet_visible,
            |marker| self.client.list_groups_for_user().user_name(name).set_marker(marker).send(),
            |page| page.groups().iter().map(|g| g.group_name().to_owned()).collect(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    pub async fn add_user_to_group(&self, name: &str, group: &str) -> Result<(), Error> {
        self.call("iam:AddUserToGroup", transient_or_not_yet_visible, || {
            self.client.add_user_to_group().user_name(name).group_name(group).send()
        })
        .await?;
        Ok(())
    }

    /// Whether the user has a console password.
    pub async fn has_login_profile(&self, name: &str) -> Result<bool, Error> {
        let r = self.call("iam:GetLoginProfile", transient, || self.client.get_login_profile().user_name(name).send());
        Ok(absent(r.await)?.is_some())
    }

    /// Gives the user a console password that must be changed at first sign-in. If a profile
    /// appeared meanwhile (a concurrent run), its password is replaced, so the stored secret and
    /// the login profile always agree.
    pub async fn set_login_profile(&self, name: &str, password: &Secret) -> Result<(), Error> {
        let created = self
            .call("iam:CreateLoginProfile", transient_or_not_yet_visible, || {
                self.client
                    .create_login_profile()
                    .user_name(name)
                    .password(password.expose())
                    .password_reset_required(true)
                    .send()
            })
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                self.call("iam:UpdateLoginProfile", transient, || {
                    self.client
                        .update_login_profile()
                        .user_name(name)
                        .password(password.expose())
                        .password_reset_required(true)
                        .send()
                })
                .await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The account password policy; AWS's default when none is set (`NoSuchEntity`). Read once
    /// per [`FRESH_FOR`].
    pub async fn password_policy(&self) -> Result<PasswordPolicy, Error> {
        let cached = self.cache.password_policy.lock().ok().and_then(|p| fresh(p.as_ref()));
        if let Some(p) = cached {
            return Ok(p);
        }
        let policy = self.read_password_policy().await?;
        if let Ok(mut p) = self.cache.password_policy.lock() {
            *p = Some((std::time::Instant::now(), policy));
        }
        Ok(policy)
    }

    async fn read_password_policy(&self) -> Result<PasswordPolicy, Error> {
        let out = absent(
            self.call("iam:GetAccountPasswordPolicy", transient, || self.client.get_account_password_policy().send())
                .await,
        )?;
        Ok(out
            .as_ref()
            .and_then(|o| o.password_policy())
            .map(|p| PasswordPolicy {
                minimum_length: p.minimum_password_length().unwrap_or(8).max(0) as usize,
                require_uppercase: p.require_uppercase_characters(),
                require_lowercase: p.require_lowercase_characters(),
                require_numbers: p.require_numbers(),
                require_symbols: p.require_symbols(),
            })
            .unwrap_or(PasswordPolicy::AWS_DEFAULT))
    }

    pub async fn access_keys(&self, name: &str) -> Result<Vec<Credential>, Error> {
        let out = self
            .call("iam:ListAccessKeys", transient_or_not_yet_visible, || {
                self.client.list_access_keys().user_name(name).send()
            })
            .await?;
        Ok(out
            .access_key_metadata()
            .iter()
            .filter_map(|k| Some(Credential { id: k.access_key_id()?.to_owned(), active: active(k.status()) }))
            .collect())
    }

    /// When the access key was last used, if ever (`None` also for a key that no longer exists).
    pub async fn access_key_last_used(&self, key_id: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
        let out = absent(
            self.call("iam:GetAccessKeyLastUsed", transient, || {
                self.client.get_access_key_last_used().access_key_id(key_id).send()
            })
            .await,
        )?;
        Ok(out.and_then(|o| o.access_key_last_used()?.last_used_date().copied()).and_then(to_chrono))
    }

    /// Creates an access key; the secret half is wrapped at once.
    pub async fn create_access_key(&self, name: &str) -> Result<(String, Secret), Error> {
        let out = self
            .call("iam:CreateAccessKey", transient_or_not_yet_visible, || {
                self.client.create_access_key().user_name(name).send()
            })
            .await?;
        let key = out.access_key().ok_or_else(|| Error::Input("CreateAccessKey returned no key".into()))?;
        Ok((key.access_key_id().to_owned(), Secret::new(key.secret_access_key().to_owned())))
    }

    /// A customer-managed policy's ARN by name (scope Local), if it exists.
    pub async fn find_local_policy(&self, name: &str) -> Result<Option<String>, Error> {
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .call("iam:ListPolicies", transient, || {
                    self.client
                        .list_policies()
                        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                        .set_marker(marker.clone())
                        .send()
                })
                .await?;
            if let Some(p) = out.policies().iter().find(|p| p.policy_name() == Some(name)) {
                return Ok(p.arn().map(str::to_owned));
            }
            match out.marker() {
                Some(m) if out.is_truncated() => marker = Some(m.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    /// Every user under `path_prefix` (all pages). ListUsers carries no tags.
    pub async fn list_users(&self, path_prefix: &str) -> Result<Vec<User>, Error> {
        self.paged(
            "iam:ListUsers",
            transient,
            |marker| self.client.list_users().path_prefix(path_prefix).set_marker(marker).send(),
            |page| page.users().iter().map(User::from).collect(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    /// Removes the console password; `false` when there was none.
    pub async fn delete_login_profile(&self, name: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:DeleteLoginProfile", transient, || {
                self.client.delete_login_profile().user_name(name).send()
            })
            .await,
        )
    }

    /// The user's credentials of one kind (each kind has at most a handful: one page).
    pub async fn credentials(&self, name: &str, kind: CredentialKind) -> Result<Vec<Credential>, Error> {
        let c = &self.client;
        let list = |id: &str, status: &aws_sdk_iam::types::StatusType| Credential {
            id: id.to_owned(),
            active: active(Some(status)),
        };
        Ok(match kind {
            CredentialKind::AccessKey => return self.access_keys(name).await,
            CredentialKind::SigningCertificate => {
                let out = self
                    .call(kind.list_action(), transient, || c.list_signing_certificates().user_name(name).send())
                    .await?;
                out.certificates().iter().map(|x| list(x.certificate_id(), x.status())).collect()
            }
            CredentialKind::SshPublicKey => {
                let out = self
                    .call(kind.list_action(), transient, || c.list_ssh_public_keys().user_name(name).send())
                    .await?;
                out.ssh_public_keys().iter().map(|x| list(x.ssh_public_key_id(), x.status())).collect()
            }
            CredentialKind::ServiceSpecific => {
                let out = self
                    .call(kind.list_action(), transient, || {
                        c.list_service_specific_credentials().user_name(name).send()
                    })
                    .await?;
                out.service_specific_credentials()
                    .iter()
                    .map(|x| list(x.service_specific_credential_id(), x.status()))
                    .collect()
            }
        })
    }

    /// Turns one credential on or off.
    pub async fn set_credential_active(
        &self,
        name: &str,
        kind: CredentialKind,
        id: &str,
        on: bool,
    ) -> Result<(), Error> {
        let (c, action, st) = (&self.client, kind.update_action(), status(on));
        match kind {
            CredentialKind::AccessKey => self
                .call(action, transient, || {
                    c.update_access_key().user_name(name).access_key_id(id).status(st.clone()).send()
                })
                .await
                .map(drop),
            CredentialKind::SigningCertificate => self
                .call(action, transient, || {
                    c.update_signing_certificate().user_name(name).certificate_id(id).status(st.clone()).send()
                })
                .await
                .map(drop),
            CredentialKind::SshPublicKey => self
                .call(action, transient, || {
                    c.update_ssh_public_key().user_name(name).ssh_public_key_id(id).status(st.clone()).send()
                })
                .await
                .map(drop),
            CredentialKind::ServiceSpecific => self
                .call(action, transient, || {
                    c.update_service_specific_credential()
                        .user_name(name)
                        .service_specific_credential_id(id)
                        .status(st.clone())
                        .send()
                })
                .await
                .map(drop),
        }
    }

    /// Deletes one credential; `false` when it was already gone.
    pub async fn delete_credential(&self, name: &str, kind: CredentialKind, id: &str) -> Result<bool, Error> {
        let (c, action) = (&self.client, kind.delete_action());
        gone(match kind {
            CredentialKind::AccessKey => self
                .call(action, transient, || c.delete_access_key().user_name(name).access_key_id(id).send())
                .await
                .map(drop),
            CredentialKind::SigningCertificate => self
                .call(action, transient, || c.delete_signing_certificate().user_name(name).certificate_id(id).send())
                .await
                .map(drop),
            CredentialKind::SshPublicKey => self
                .call(action, transient, || c.delete_ssh_public_key().user_name(name).ssh_public_key_id(id).send())
                .await
                .map(drop),
            CredentialKind::ServiceSpecific => self
                .call(action, transient, || {
                    c.delete_service_specific_credential().user_name(name).service_specific_credential_id(id).send()
                })
                .await
                .map(drop),
        })
    }

    /// Serial numbers of the user's MFA devices (at most eight: one page).
    pub async fn mfa_devices(&self, name: &str) -> Result<Vec<String>, Error> {
        let out = self
            .call("iam:ListMFADevices", transient, || self.client.list_mfa_devices().user_name(name).send())
            .await?;
        Ok(out.mfa_devices().iter().map(|d| d.serial_number().to_owned()).collect())
    }

    pub async fn deactivate_mfa_device(&self, name: &str, serial: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:DeactivateMFADevice", transient, || {
                self.client.deactivate_mfa_device().user_name(name).serial_number(serial).send()
            })
            .await,
        )
    }

    pub async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:DeleteVirtualMFADevice", transient, || {
                self.client.delete_virtual_mfa_device().serial_number(serial).send()
            })
            .await,
        )
    }

    /// Names of the user's inline policies (all pages).
    pub async fn inline_policies(&self, name: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "iam:ListUserPolicies",
            transient,
            |marker| self.client.list_user_policies().user_name(name).set_marker(marker).send(),
            |page| page.policy_names().to_vec(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    pub async fn delete_user_policy(&self, name: &str, policy: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:DeleteUserPolicy", transient, || {
                self.client.delete_user_policy().user_name(name).policy_name(policy).send()
            })
            .await,
        )
    }

    /// What a group grants: the names of its attached managed policies and inline policies
    /// (all pages of each), for an access review's items.
    pub async fn group_policies(&self, group: &str) -> Result<Vec<String>, Error> {
        let mut names = self
            .paged(
                "iam:ListAttachedGroupPolicies",
                transient,
                |marker| self.client.list_attached_group_policies().group_name(group).set_marker(marker).send(),
                |page| page.attached_policies().iter().filter_map(|p| p.policy_name().map(str::to_owned)).collect(),
                |page| truncated(page.is_truncated(), page.marker()),
            )
            .await?;
        let inline = self
            .paged(
                "iam:ListGroupPolicies",
                transient,
                |marker| self.client.list_group_policies().group_name(group).set_marker(marker).send(),
                |page| page.policy_names().iter().map(|n| format!("{n} (inline)")).collect(),
                |page| truncated(page.is_truncated(), page.marker()),
            )
            .await?;
        names.extend(inline);
        Ok(names)
    }

    /// ARNs of the managed policies attached to the user (all pages).
    pub async fn attached_policies(&self, name: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "iam:ListAttachedUserPolicies",
            transient,
            |marker| self.client.list_attached_user_policies().user_name(name).set_marker(marker).send(),
            |page| page.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    pub async fn detach_user_policy(&self, name: &str, arn: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:DetachUserPolicy", transient, || {
                self.client.detach_user_policy().user_name(name).policy_arn(arn).send()
            })
            .await,
        )
    }

    pub async fn remove_user_from_group(&self, name: &str, group: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:RemoveUserFromGroup", transient, || {
                self.client.remove_user_from_group().user_name(name).group_name(group).send()
            })
            .await,
        )
    }

    /// Deletes the user; `false` when it was already gone. `DeleteConflict` means something is
    /// still attached: the caller's cleanup missed it.
    pub async fn delete_user(&self, name: &str) -> Result<bool, Error> {
        gone(self.call("iam:DeleteUser", transient, || self.client.delete_user().user_name(name).send()).await)
    }
}
