//! Where a trail is read from: a bucket's object versions, a directory or a file.

use std::path::{Path, PathBuf};

use shared::config::Config;

use super::reports::Trail;
use crate::output::Stop;

/// A trail's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Bucket { bucket: String, prefix: String },
    Path(PathBuf),
}

impl Source {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(format!("`{s}`: expected s3://BUCKET[/PREFIX]"));
                }
                let prefix = if prefix.is_empty() { shared::archive::PREFIX.to_owned() } else { prefix.to_owned() };
                Ok(Source::Bucket { bucket: bucket.to_owned(), prefix })
            }
            None => Ok(Source::Path(PathBuf::from(s))),
        }
    }

    /// The trail bucket the config names (`[trail] bucket`), under the archive's prefix.
    pub fn configured(cfg: &Config) -> Option<Self> {
        let bucket = cfg.trail.bucket.clone()?;
        Some(Source::Bucket { bucket, prefix: shared::archive::PREFIX.into() })
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Bucket { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            Source::Path(p) => p.display().to_string(),
        }
    }
}

/// Reads the trail, or says why it stopped: a file or directory that cannot be read is
/// unreadable input (exit 2); a bucket that cannot be read, a failed call (1).
pub async fn read(source: &Source, cfg: Option<&Config>) -> Result<Trail, Stop> {
    let unreadable = if matches!(source, Source::Path(_)) { Stop::usage } else { Stop::failed };
    load(source, cfg).await.map_err(unreadable)
}

/// Reads the trail's parts: every object under the prefix, every `.jsonl` file under a
/// directory (in path order), or the one file.
async fn load(source: &Source, cfg: Option<&Config>) -> Result<Trail, String> {
    let parts = match source {
        Source::Path(p) if p.is_dir() => {
            let mut files = Vec::new();
            collect_jsonl(p, &mut files).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            files.sort();
            let mut parts = Vec::new();
            for f in files {
                let text = std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
                parts.push((f.display().to_string(), text));
            }
            parts
        }
        Source::Path(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            vec![(p.display().to_string(), text)]
        }
        Source::Bucket { bucket, prefix } => {
            let cfg = cfg.ok_or("reading the trail from S3 needs the config (region, endpoint): pass --config")?;
            let sdk = shared::aws::load_sdk_config(cfg, shared::aws::Trust::System).await;
            let b = shared::aws::s3::Bucket::new(&sdk, bucket);
            let mut parts: Vec<(String, String)> = Vec::new();
            let mut altered = Vec::new();
            for (key, version) in b.versions(prefix).await.map_err(|e| e.to_string())? {
                let text = b.text(&key, Some(&version)).await.map_err(|e| e.to_string())?;
                let name = format!("s3://{bucket}/{key}");
                // The first version written is the archiver's; a redelivered batch writes the
                // same body again. Any other body is an alteration: reported, never read.
                match parts.last() {
                    Some((last, first)) if *last == name => {
                        if *first != text {
                            altered.push(format!("{name}: version {version} differs from the first one written"));
                        }
                    }
                    _ => parts.push((name, text)),
                }
            }
            let mut trail = Trail::parse(&parts);
            trail.altered = altered;
            return Ok(trail);
        }
    };
    Ok(Trail::parse(&parts))
}

pub(super) fn collect_jsonl(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_jsonl(&path, into)?;
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            into.push(path);
        }
    }
    Ok(())
}
