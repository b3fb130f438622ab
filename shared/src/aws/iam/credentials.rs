//! What a user signs in with: the console password (and the account's password policy), access
//! keys and the other long-lived credentials, MFA devices.

use super::{Iam, absent, active, fresh, gone, status, to_chrono};
use crate::aws::is_code;
use crate::error::Error;
use crate::password::PasswordPolicy;
use crate::retry::{transient, transient_or_not_yet_visible};
use crate::secret::Secret;

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

impl Iam {
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
}
