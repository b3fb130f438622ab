//! IAM Identity Center: the Identity Store (groups) and sso-admin (instances, permission sets,
//! account assignments). Every call waits its turn on one [`Pace`] per process
//! (`identity_center.max_tps`); a throttled or transient failure is retried after the
//! `RetryAfterSeconds` AWS names, which the whole process waits out, or with backoff
//! (`IdentityCenter::call`).

use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use aws_sdk_ssoadmin::types::{PrincipalType, ProvisionTargetType, StatusValues, Tag, TargetType};
use aws_smithy_types::Document;

use std::time::Duration;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use super::{HttpResponse, aws_error, is_code};
use crate::config::IdentityCenterConfig;
use crate::error::Error;
use crate::pace::Pace;
use crate::retry::RetryPolicy;

/// The Identity Store and sso-admin clients, sharing one pace.
#[derive(Clone, Debug)]
pub struct IdentityCenter {
    store: aws_sdk_identitystore::Client,
    admin: aws_sdk_ssoadmin::Client,
    pace: Pace,
    retry: RetryPolicy,
}

/// The longest `RetryAfterSeconds` honoured; a longer one waits this long, then tries again.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How long AWS asks the caller to wait: `RetryAfterSeconds` in the error's JSON body
/// (Identity Store's `ThrottlingException` and `InternalServerException`), else a `Retry-After`
/// header in seconds; at most [`LONGEST_RETRY_AFTER`].
fn retry_after<E>(e: &SdkError<E, HttpResponse>) -> Option<Duration> {
    let response = e.raw_response()?;
    let in_body = response
        .body()
        .bytes()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("RetryAfterSeconds").and_then(serde_json::Value::as_u64));
    let in_header = || response.headers().get("retry-after").and_then(|h| h.trim().parse::<u64>().ok());
    in_body.or_else(in_header).map(|s| Duration::from_secs(s).min(LONGEST_RETRY_AFTER))
}

/// An Identity Center instance and its identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub arn: String,
    pub identity_store_id: String,
}

/// A permission set as sso-admin describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub session_duration: Option<String>,
}

/// Who an account assignment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Group,
    User,
}

/// A user of the identity store, as an auditor lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUser {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    /// The primary email (else the first).
    pub email: Option<String>,
}

/// Which kind of asynchronous request [`IdentityCenter::settled`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    Assignment,
    Provisioning,
}

/// How long an asynchronous request may stay in progress before it is reported failed.
pub const PATIENCE: Duration = Duration::from_secs(300);

/// What a new user is made with: the HR attributes the Identity Store holds.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub user_name: &'a str,
    pub display_name: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub email: &'a str,
    pub title: Option<&'a str>,
}

/// The primary email, else the first.
fn primary_email(emails: &[aws_sdk_identitystore::types::Email]) -> Option<String> {
    emails.iter().find(|e| e.primary()).or(emails.first()).and_then(|e| e.value().map(str::to_owned))
}

/// Where an asynchronous sso-admin request (an account assignment's creation, a permission
/// set's provisioning) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigning {
    InProgress { request_id: String },
    Succeeded,
    Failed { reason: String },
}

impl IdentityCenter {
    /// Clients for `sdk` without the SDK's own retries: [`Self::call`] retries, honouring
    /// `RetryAfterSeconds`, under `retry`.
    pub fn new(sdk: &aws_config::SdkConfig, max_tps: u32, retry: RetryPolicy) -> Self {
        let off = aws_config::retry::RetryConfig::disabled();
        let store = aws_sdk_identitystore::config::Builder::from(sdk).retry_config(off.clone()).build();
        let admin = aws_sdk_ssoadmin::config::Builder::from(sdk).retry_config(off).build();
        Self::from_clients(
            aws_sdk_identitystore::Client::from_conf(store),
            aws_sdk_ssoadmin::Client::from_conf(admin),
            max_tps,
            retry,
        )
    }

    /// From clients built elsewhere (the tests' fault injection).
    pub fn from_clients(
        store: aws_sdk_identitystore::Client,
        admin: aws_sdk_ssoadmin::Client,
        max_tps: u32,
        retry: RetryPolicy,
    ) -> Self {
        Self { store, admin, pace: Pace::new(max_tps), retry }
    }

    /// One call: it waits its turn on the process's pace; a throttled or transient failure is
    /// tried again, up to the retry policy's attempts, after the `RetryAfterSeconds` AWS names
    /// (every call of the process waits it out, since the limit is the account's), or else
    /// after the policy's backoff. The SDK's own retries are off for these clients.
    async fn call<T, E, Fut>(&self, operation: &'static str, send: impl Fn() -> Fut) -> Result<T, Error>
    where
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut attempt = 1;
        loop {
            self.pace.wait().await;
            let e = match send().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let after = retry_after(&e);
            let e = aws_error(operation, e);
            if attempt >= self.retry.max_attempts || !e.is_transient() {
                return Err(e);
            }
            let wait = match after {
                Some(after) => {
                    self.pace.hold(after);
                    after
                }
                None => self.retry.delay(attempt),
            };
            tracing::warn!(
                operation,
                attempt,
                code = e.aws_code().unwrap_or("-"),
                wait_ms = wait.as_millis() as u64,
                retry_after = after.is_some(),
                "throttled or transient, retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// The configured instance and identity store, or the only ones the caller can see.
    pub async fn instance(&self, cfg: &IdentityCenterConfig) -> Result<Instance, Error> {
        if let (Some(arn), Some(store)) = (&cfg.instance_arn, &cfg.identity_store_id) {
            return Ok(Instance { arn: arn.clone(), identity_store_id: store.clone() });
        }
        choose(cfg, &self.instances().await?)
    }

    /// Every item of a token-paginated listing, each page through [`Self::call`]: `send(token)`
    /// requests a page, `items(page)` takes what it holds, `next(page)` is the next token.
    async fn paged<T, O, E, F, Fut>(
        &self,
        operation: &'static str,
        send: F,
        items: impl Fn(&O) -> Vec<T>,
        next: impl Fn(&O) -> Option<&str>,
    ) -> Result<Vec<T>, Error>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let send = &send;
        let fetch = |token: Option<String>| async move { self.call(operation, || send(token.clone())).await };
        super::all_pages(fetch, items, next).await
    }

    /// Every instance the caller can see.
    pub async fn instances(&self) -> Result<Vec<Instance>, Error> {
        let out = self.call("sso:ListInstances", || self.admin.list_instances().send()).await?;
        Ok(out
            .instances()
            .iter()
            .filter_map(|i| {
                Some(Instance {
                    arn: i.instance_arn()?.to_owned(),
                    identity_store_id: i.identity_store_id()?.to_owned(),
                })
            })
            .collect())
    }

    /// The id of the group with this display name, if there is one.
    pub async fn group_id(&self, store: &str, display_name: &str) -> Result<Option<String>, Error> {
        let found = self
            .id_by("identitystore:GetGroupId", "displayName", display_name, |by| {
                self.store.get_group_id().identity_store_id(store).alternate_identifier(by).send()
            })
            .await?;
        Ok(found.map(|o| o.group_id().to_owned()))
    }

    /// The id of the user with this user name, if there is one.
    pub async fn user_id_named(&self, store: &str, user_name: &str) -> Result<Option<String>, Error> {
        let found = self
            .id_by("identitystore:GetUserId", "userName", user_name, |by| {
                self.store.get_user_id().identity_store_id(store).alternate_identifier(by).send()
            })
            .await?;
        Ok(found.map(|o| o.user_id().to_owned()))
    }

    /// A look-up by a unique attribute (`GetUserId`, `GetGroupId`): the answer, or `None` when
    /// nothing has that value.
    async fn id_by<O, E, Fut>(
        &self,
        operation: &'static str,
        path: &str,
        value: &str,
        send: impl Fn(AlternateIdentifier) -> Fut,
    ) -> Result<Option<O>, Error>
    where
        Fut: std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let by = UniqueAttribute::builder()
            .attribute_path(path)
            .attribute_value(Document::String(value.to_owned()))
            .build()
            .map_err(|e| Error::Input(e.to_string()))?;
        match self.call(operation, || send(AlternateIdentifier::UniqueAttribute(by.clone()))).await {
            Ok(o) => Ok(Some(o)),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user with this id, if there is one.
    pub async fn user(&self, store: &str, user_id: &str) -> Result<Option<StoreUser>, Error> {
        let out = self
            .call("identitystore:DescribeUser", || {
                self.store.describe_user().identity_store_id(store).user_id(user_id).send()
            })
            .await;
        match out {
            Ok(u) => Ok(Some(StoreUser {
                id: u.user_id().to_owned(),
                user_name: u.user_name().unwrap_or_default().to_owned(),
                display_name: u.display_name().map(str::to_owned),
                email: primary_email(u.emails()),
            })),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets a user's attributes in one `UpdateUser`: each (attribute path, value), e.g. `title`,
    /// `displayName`, `name.givenName`, `emails`.
    pub async fn update_user(&self, store: &str, user_id: &str, changes: &[(&str, Document)]) -> Result<(), Error> {
        use aws_sdk_identitystore::types::AttributeOperation;
        let operations = changes
            .iter()
            .map(|(path, value)| {
                AttributeOperation::builder().attribute_path(*path).attribute_value(value.clone()).build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Input(e.to_string()))?;
        self.call("identitystore:UpdateUser", || {
            self.store
                .update_user()
                .identity_store_id(store)
                .user_id(user_id)
                .set_operations(Some(operations.clone()))
                .send()
        })
        .await?;
        Ok(())
    }

    /// Deletes a user; `false` when it was already gone.
    pub async fn delete_user(&self, store: &str, user_id: &str) -> Result<bool, Error> {
        let gone = self
            .call("identitystore:DeleteUser", || {
                self.store.delete_user().identity_store_id(store).user_id(user_id).send()
            })
            .await;
        match gone {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates a user with the person's names, work email (primary) and title; returns its id.
    /// `ConflictException` when the user name is taken.
    pub async fn create_user(&self, store: &str, u: &NewUser<'_>) -> Result<String, Error> {
        use aws_sdk_identitystore::types::{Email, Name};
        let name = Name::builder().given_name(u.given_name).family_name(u.family_name).build();
        let email = Email::builder().value(u.email).r#type("work").primary(true).build();
        let out = self
            .call("identitystore:CreateUser", || {
                self.store
                    .create_user()
                    .identity_store_id(store)
                    .user_name(u.user_name)
                    .display_name(u.display_name)
                    .name(name.clone())
                    .emails(email.clone())
                    .set_title(u.title.map(str::to_owned))
                    .send()
            })
            .await?;
        Ok(out.user_id().to_owned())
    }

    /// A group's description.
    pub async fn group_description(&self, store: &str, group_id: &str) -> Result<Option<String>, Error> {
        let out = self
            .call("identitystore:DescribeGroup", || {
                self.store.describe_group().identity_store_id(store).group_id(group_id).send()
            })
            .await?;
        Ok(out.description().map(str::to_owned))
    }

    /// Creates a group; returns its id.
    pub async fn create_group(&self, store: &str, display_name: &str, description: &str) -> Result<String, Error> {
        let out = self
            .call("identitystore:CreateGroup", || {
                self.store
                    .create_group()
                    .identity_store_id(store)
                    .display_name(display_name)
                    .description(description)
                    .send()
            })
            .await?;
        Ok(out.group_id().to_owned())
    }

    /// Every permission set of the instance, described.
    pub async fn permission_sets(&self, instance: &str) -> Result<Vec<PermissionSet>, Error> {
        let arns = self
            .paged(
                "sso:ListPermissionSets",
                |token| self.admin.list_permission_sets().instance_arn(instance).set_next_token(token).send(),
                |page| page.permission_sets().to_vec(),
                |page| page.next_token(),
            )
            .await?;
        let mut sets = Vec::with_capacity(arns.len());
        for arn in arns {
            let out = self
                .call("sso:DescribePermissionSet", || {
                    self.admin.describe_permission_set().instance_arn(instance).permission_set_arn(&arn).send()
                })
                .await?;
            if let Some(p) = out.permission_set() {
                sets.push(PermissionSet {
                    arn: arn.clone(),
                    name: p.name().unwrap_or_default().to_owned(),
                    description: p.description().map(str::to_owned),
                    session_duration: p.session_duration().map(str::to_owned),
                });
            }
        }
        Ok(sets)
    }

    /// Creates a permission set, tagged `tag`; returns its ARN.
    pub async fn create_permission_set(
        &self,
        instance: &str,
        name: &str,
        description: &str,
        session_duration: &str,
        tag: (&str, &str),
    ) -> Result<String, Error> {
        let tag = Tag::builder().key(tag.0).value(tag.1).build().map_err(|e| Error::Input(e.to_string()))?;
        let out = self
            .call("sso:CreatePermissionSet", || {
                self.admin
                    .create_permission_set()
                    .instance_arn(instance)
                    .name(name)
                    .description(description)
                    .session_duration(session_duration)
                    .tags(tag.clone())
                    .send()
            })
            .await?;
        out.permission_set()
            .and_then(|p| p.permission_set_arn())
            .map(str::to_owned)
            .ok_or_else(|| Error::Conflict(format!("sso:CreatePermissionSet for `{name}` answered without an ARN")))
    }

    /// The AWS managed policies attached to a permission set.
    pub async fn managed_policies(&self, instance: &str, permission_set: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "sso:ListManagedPoliciesInPermissionSet",
            |token| {
                self.admin
                    .list_managed_policies_in_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(permission_set)
                    .set_next_token(token)
                    .send()
            },
            |page| page.attached_managed_policies().iter().filter_map(|p| p.arn().map(str::to_owned)).collect(),
            |page| page.next_token(),
        )
        .await
    }

    pub async fn attach_managed_policy(&self, instance: &str, permission_set: &str, policy: &str) -> Result<(), Error> {
        self.call("sso:AttachManagedPolicyToPermissionSet", || {
            self.admin
                .attach_managed_policy_to_permission_set()
                .instance_arn(instance)
                .permission_set_arn(permission_set)
                .managed_policy_arn(policy)
                .send()
        })
        .await?;
        Ok(())
    }

    /// Gives a permission set this system made another session duration (its description, the
    /// marker of what bootstrap made, is written again with it).
    pub async fn set_session_duration(
        &self,
        instance: &str,
        permission_set: &str,
        description: &str,
        session_duration: &str,
    ) -> Result<(), Error> {
        self.call("sso:UpdatePermissionSet", || {
            self.admin
                .update_permission_set()
                .instance_arn(instance)
                .permission_set_arn(permission_set)
                .description(description)
                .session_duration(session_duration)
                .send()
        })
        .await?;
        Ok(())
    }

    /// Starts provisioning a changed permission set to every account it is provisioned to (a
    /// change reaches no account before this).
    pub async fn provision(&self, instance: &str, permission_set: &str) -> Result<Assigning, Error> {
        let out = self
            .call("sso:ProvisionPermissionSet", || {
                self.admin
                    .provision_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(permission_set)
                    .target_type(ProvisionTargetType::AllProvisionedAccounts)
                    .send()
            })
            .await?;
        let s = out.permission_set_provisioning_status();
        Ok(assigning(s.and_then(|s| s.status()), s.and_then(|s| s.request_id()), s.and_then(|s| s.failure_reason())))
    }

    /// Polls a request until it succeeded (`Ok`), failed (AWS's reason), or stayed in progress
    /// past [`PATIENCE`]; waits from half a second, doubling, up to 5 s between polls.
    pub async fn settled(&self, instance: &str, mut status: Assigning, kind: Polled) -> Result<(), Error> {
        let (started, mut wait) = (tokio::time::Instant::now(), Duration::from_millis(500));
        loop {
            match status {
                Assigning::Succeeded => return Ok(()),
                Assigning::Failed { reason } => return Err(Error::Conflict(reason)),
                Assigning::InProgress { request_id } if started.elapsed() > PATIENCE => {
                    return Err(Error::Conflict(format!(
                        "request {request_id} still in progress after {} s; run the command again to check it",
                        PATIENCE.as_secs()
                    )));
                }
                Assigning::InProgress { request_id } => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                    status = match kind {
                        Polled::Assignment => self.assignment_status(instance, &request_id).await?,
                        Polled::Provisioning => self.provisioning_status(instance, &request_id).await?,
                    };
                }
            }
        }
    }

    /// Where a permission set's provisioning is now.
    pub async fn provisioning_status(&self, instance: &str, request_id: &str) -> Result<Assigning, Error> {
        let out = self
            .call("sso:DescribePermissionSetProvisioningStatus", || {
                self.admin
                    .describe_permission_set_provisioning_status()
                    .instance_arn(instance)
                    .provision_permission_set_request_id(request_id)
                    .send()
            })
            .await?;
        let s = out.permission_set_provisioning_status();
        Ok(assigning(
            s.and_then(|s| s.status()),
            s.and_then(|s| s.request_id()).or(Some(request_id)),
            s.and_then(|s| s.failure_reason()),
        ))
    }

    /// The groups a permission set is assigned to in an account.
    pub async fn assigned_groups(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
    ) -> Result<Vec<String>, Error> {
        let all = self.assignments(instance, account, permission_set).await?;
        Ok(all.into_iter().filter(|(kind, _)| *kind == Principal::Group).map(|(_, id)| id).collect())
    }

    /// Who a permission set is assigned to in an account: groups and users, by id.
    pub async fn assignments(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
    ) -> Result<Vec<(Principal, String)>, Error> {
        self.paged(
            "sso:ListAccountAssignments",
            |token| {
                self.admin
                    .list_account_assignments()
                    .instance_arn(instance)
                    .account_id(account)
                    .permission_set_arn(permission_set)
                    .set_next_token(token)
                    .send()
            },
            |page| {
                page.account_assignments()
                    .iter()
                    .filter_map(|a| {
                        let kind = match a.principal_type()? {
                            PrincipalType::Group => Principal::Group,
                            PrincipalType::User => Principal::User,
                            _ => return None,
                        };
                        Some((kind, a.principal_id()?.to_owned()))
                    })
                    .collect()
            },
            |page| page.next_token(),
        )
        .await
    }

    /// Every user of the identity store.
    pub async fn users(&self, store: &str) -> Result<Vec<StoreUser>, Error> {
        self.paged(
            "identitystore:ListUsers",
            |token| self.store.list_users().identity_store_id(store).set_next_token(token).send(),
            |page| {
                page.users()
                    .iter()
                    .map(|u| StoreUser {
                        id: u.user_id().to_owned(),
                        user_name: u.user_name().unwrap_or_default().to_owned(),
                        display_name: u.display_name().map(str::to_owned),
                        email: primary_email(u.emails()),
                    })
                    .collect()
            },
            |page| page.next_token(),
        )
        .await
    }

    /// Every group of the identity store: (id, display name).
    pub async fn groups(&self, store: &str) -> Result<Vec<(String, String)>, Error> {
        self.paged(
            "identitystore:ListGroups",
            |token| self.store.list_groups().identity_store_id(store).set_next_token(token).send(),
            |page| {
                page.groups()
                    .iter()
                    .map(|g| (g.group_id().to_owned(), g.display_name().unwrap_or_default().to_owned()))
                    .collect()
            },
            |page| page.next_token(),
        )
        .await
    }

    /// The user ids in a group.
    pub async fn members(&self, store: &str, group_id: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "identitystore:ListGroupMemberships",
            |token| {
                self.store
                    .list_group_memberships()
                    .identity_store_id(store)
                    .group_id(group_id)
                    .set_next_token(token)
                    .send()
            },
            |page| {
                page.group_memberships()
                    .iter()
                    .filter_map(|m| match m.member_id()? {
                        aws_sdk_identitystore::types::MemberId::UserId(id) => Some(id.clone()),
                        _ => None,
                    })
                    .collect()
            },
            |page| page.next_token(),
        )
        .await
    }

    /// A user's group memberships: (membership id, group id).
    pub async fn memberships_of(&self, store: &str, user_id: &str) -> Result<Vec<(String, String)>, Error> {
        let member = || aws_sdk_identitystore::types::MemberId::UserId(user_id.to_owned());
        self.paged(
            "identitystore:ListGroupMembershipsForMember",
            |token| {
                self.store
                    .list_group_memberships_for_member()
                    .identity_store_id(store)
                    .member_id(member())
                    .set_next_token(token)
                    .send()
            },
            |page| {
                page.group_memberships()
                    .iter()
                    .filter_map(|m| Some((m.membership_id().to_owned(), m.group_id()?.to_owned())))
                    .collect()
            },
            |page| page.next_token(),
        )
        .await
    }

    /// Makes the user a member of the group; `false` when AWS says it already is (callers read
    /// [`Self::memberships_of`] first: the emulator accepts duplicates).
    pub async fn join(&self, store: &str, group_id: &str, user_id: &str) -> Result<bool, Error> {
        let member = || aws_sdk_identitystore::types::MemberId::UserId(user_id.to_owned());
        let made = self
            .call("identitystore:CreateGroupMembership", || {
                self.store
                    .create_group_membership()
                    .identity_store_id(store)
                    .group_id(group_id)
                    .member_id(member())
                    .send()
            })
            .await;
        match made {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, "ConflictException") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Ends a membership; `false` when it was already gone.
    pub async fn leave(&self, store: &str, membership_id: &str) -> Result<bool, Error> {
        let gone = self
            .call("identitystore:DeleteGroupMembership", || {
                self.store.delete_group_membership().identity_store_id(store).membership_id(membership_id).send()
            })
            .await;
        match gone {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A permission set's inline policy, or `None` when it has none.
    pub async fn inline_policy(&self, instance: &str, permission_set: &str) -> Result<Option<String>, Error> {
        let out = self
            .call("sso:GetInlinePolicyForPermissionSet", || {
                self.admin
                    .get_inline_policy_for_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(permission_set)
                    .send()
            })
            .await?;
        Ok(out.inline_policy().filter(|p| !p.is_empty()).map(str::to_owned))
    }

    /// Writes a permission set's inline policy, or removes it (`None`). It reaches the accounts
    /// only once the permission set is provisioned again ([`Self::provision`]).
    pub async fn set_inline_policy(
        &self,
        instance: &str,
        permission_set: &str,
        document: Option<&str>,
    ) -> Result<(), Error> {
        match document {
            Some(doc) => {
                self.call("sso:PutInlinePolicyToPermissionSet", || {
                    self.admin
                        .put_inline_policy_to_permission_set()
                        .instance_arn(instance)
                        .permission_set_arn(permission_set)
                        .inline_policy(doc)
                        .send()
                })
                .await?;
            }
            None => {
                let gone = self
                    .call("sso:DeleteInlinePolicyFromPermissionSet", || {
                        self.admin
                            .delete_inline_policy_from_permission_set()
                            .instance_arn(instance)
                            .permission_set_arn(permission_set)
                            .send()
                    })
                    .await;
                match gone {
                    Ok(_) => {}
                    Err(e) if is_code(&e, "ResourceNotFoundException") => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Starts assigning a permission set to a group in an account.
    pub async fn assign_group(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
        group_id: &str,
    ) -> Result<Assigning, Error> {
        let out = self
            .call("sso:CreateAccountAssignment", || {
                self.admin
                    .create_account_assignment()
                    .instance_arn(instance)
                    .target_id(account)
                    .target_type(TargetType::AwsAccount)
                    .permission_set_arn(permission_set)
                    .principal_type(PrincipalType::Group)
                    .principal_id(group_id)
                    .send()
            })
            .await?;
        let status = out.account_assignment_creation_status();
        Ok(assigning(
            status.and_then(|s| s.status()),
            status.and_then(|s| s.request_id()),
            status.and_then(|s| s.failure_reason()),
        ))
    }

    /// Where an assignment's creation is now.
    pub async fn assignment_status(&self, instance: &str, request_id: &str) -> Result<Assigning, Error> {
        let out = self
            .call("sso:DescribeAccountAssignmentCreationStatus", || {
                self.admin
                    .describe_account_assignment_creation_status()
                    .instance_arn(instance)
                    .account_assignment_creation_request_id(request_id)
                    .send()
            })
            .await?;
        let status = out.account_assignment_creation_status();
        Ok(assigning(
            status.and_then(|s| s.status()),
            status.and_then(|s| s.request_id()).or(Some(request_id)),
            status.and_then(|s| s.failure_reason()),
        ))
    }
}

fn assigning(status: Option<&StatusValues>, request_id: Option<&str>, reason: Option<&str>) -> Assigning {
    match (status, request_id) {
        (Some(StatusValues::Succeeded), _) => Assigning::Succeeded,
        (Some(StatusValues::InProgress), Some(id)) => Assigning::InProgress { request_id: id.to_owned() },
        _ => Assigning::Failed { reason: reason.unwrap_or("sso-admin gave no reason").to_owned() },
    }
}

/// The instance the config means among those the caller sees: the one named, or the only one.
/// A config error names the key to set.
fn choose(cfg: &IdentityCenterConfig, seen: &[Instance]) -> Result<Instance, Error> {
    // The account does not match the config: a conflict, named by the key to set.
    let invalid = |key: &str, why: String| Error::Conflict(format!("identity_center.{key}: {why}"));
    let found = match &cfg.instance_arn {
        Some(arn) => seen.iter().find(|i| &i.arn == arn).ok_or_else(|| {
            invalid("instance_arn", format!("`{arn}` is not an instance the caller can see (sso:ListInstances)"))
        })?,
        None => match seen {
            [one] => one,
            [] => {
                return Err(invalid(
                    "instance_arn",
                    "the caller sees no Identity Center instance: enable IAM Identity Center, or set this key".into(),
                ));
            }
            many => {
                let arns: Vec<&str> = many.iter().map(|i| i.arn.as_str()).collect();
                return Err(invalid(
                    "instance_arn",
                    format!("the caller sees {} instances; set one of {}", many.len(), arns.join(", ")),
                ));
            }
        },
    };
    match &cfg.identity_store_id {
        Some(store) if store != &found.identity_store_id => Err(invalid(
            "identity_store_id",
            format!("`{store}` is not the identity store of {} ({})", found.arn, found.identity_store_id),
        )),
        _ => Ok(found.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(arn: Option<&str>, store: Option<&str>) -> IdentityCenterConfig {
        IdentityCenterConfig {
            instance_arn: arn.map(str::to_owned),
            identity_store_id: store.map(str::to_owned),
            portal_url: "https://example.awsapps.com/start".into(),
            max_tps: 20,
            people_table: "employee-lifecycle-people".into(),
            skip_user_updates: None,
            permission_sets: Vec::new(),
            assignments: Vec::new(),
        }
    }

    fn instance(n: u8) -> Instance {
        Instance { arn: format!("arn:aws:sso:::instance/ssoins-{n}"), identity_store_id: format!("d-000000000{n}") }
    }

    #[test]
    fn the_only_instance_is_found_and_anything_else_names_the_key() {
        assert_eq!(choose(&cfg(None, None), &[instance(1)]).expect("the only one"), instance(1));
        let named = cfg(Some("arn:aws:sso:::instance/ssoins-2"), None);
        assert_eq!(choose(&named, &[instance(1), instance(2)]).expect("named"), instance(2));
        let cases = [
            (cfg(None, None), vec![], "identity_center.instance_arn", "no Identity Center instance"),
            (cfg(None, None), vec![instance(1), instance(2)], "identity_center.instance_arn", "ssoins-2"),
            (named.clone(), vec![instance(1)], "identity_center.instance_arn", "not an instance"),
            (cfg(None, Some("d-0000000009")), vec![instance(1)], "identity_center.identity_store_id", "d-0000000001"),
        ];
        for (c, seen, key, says) in cases {
            let e = choose(&c, &seen).expect_err(key).to_string();
            assert!(e.contains(key) && e.contains(says), "{e}");
        }
    }
}
