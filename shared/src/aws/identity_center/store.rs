//! The Identity Store: users, groups and group memberships.

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use aws_smithy_types::Document;

use super::IdentityCenter;
use crate::aws::{HttpResponse, is_code};
use crate::error::Error;

/// A user of the identity store, as an auditor lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUser {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    /// The primary email (else the first).
    pub email: Option<String>,
}
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
impl IdentityCenter {
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
        crate::aws::written(gone, "ResourceNotFoundException")
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
        crate::aws::written(made, "ConflictException")
    }

    /// Ends a membership; `false` when it was already gone.
    pub async fn leave(&self, store: &str, membership_id: &str) -> Result<bool, Error> {
        let gone = self
            .call("identitystore:DeleteGroupMembership", || {
                self.store.delete_group_membership().identity_store_id(store).membership_id(membership_id).send()
            })
            .await;
        crate::aws::written(gone, "ResourceNotFoundException")
    }
}
