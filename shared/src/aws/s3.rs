//! The trail bucket (S3): the archiver writes JSON Lines objects, auditors read them back.

use aws_config::SdkConfig;
use aws_sdk_s3::Client;

use crate::error::Error;

#[derive(Clone, Debug)]
pub struct Bucket {
    client: Client,
    pub name: String,
}

impl Bucket {
    /// The bucket's client; path-style addressing only where the SDK talks to an emulator.
    pub fn new(sdk: &SdkConfig, name: &str) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
        Self { client: Client::from_conf(conf), name: name.to_owned() }
    }

    /// Writes one object locked in compliance mode until `until`: nobody, the account's root
    /// included, can delete or overwrite that version before then (another write to the key adds
    /// a version). The lock is set on the object itself, not left to the bucket's default.
    pub async fn put_locked(
        &self,
        key: &str,
        body: String,
        content_type: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Error> {
        let put = self.client.put_object().bucket(&self.name).key(key).content_type(content_type);
        let put = put
            .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Compliance)
            .object_lock_retain_until_date(aws_sdk_s3::primitives::DateTime::from_secs(until.timestamp()));
        put.body(body.into_bytes().into()).send().await.map_err(|e| super::aws_error("s3:PutObject", e))?;
        Ok(())
    }

    /// Every version of every object under `prefix` as `(key, version id)`, each key's versions
    /// oldest first (`ListObjectVersions`, 1,000 a page). Under Object Lock a write never
    /// replaces a version: it adds one, and a reader can compare them.
    pub async fn versions(&self, prefix: &str) -> Result<Vec<(String, String)>, Error> {
        let mut all = Vec::new();
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let list = self.client.list_object_versions().bucket(&self.name).prefix(prefix);
            let list = list.set_key_marker(key_marker).set_version_id_marker(version_marker);
            let page = list.send().await.map_err(|e| super::aws_error("s3:ListObjectVersions", e))?;
            // S3 lists each key's versions newest first.
            for v in page.versions() {
                if let (Some(k), Some(id)) = (v.key(), v.version_id()) {
                    all.push((k.to_owned(), id.to_owned()));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
        }
        let mut oldest_first = Vec::with_capacity(all.len());
        for key in all.chunk_by(|a, b| a.0 == b.0) {
            oldest_first.extend(key.iter().rev().cloned());
        }
        Ok(oldest_first)
    }

    /// An object's body as text: the current version, or the one named.
    pub async fn text(&self, key: &str, version: Option<&str>) -> Result<String, Error> {
        let get = self.client.get_object().bucket(&self.name).key(key).set_version_id(version.map(str::to_owned));
        let get = get.send().await;
        let out = get.map_err(|e| super::aws_error("s3:GetObject", e))?;
        let bytes = out.body.collect().await.map_err(|e| Error::Input(format!("s3:GetObject {key}: {e}")))?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::Input(format!("s3:GetObject {key}: not UTF-8 text")))
    }
}
