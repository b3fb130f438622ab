//! An export: rows rendered (text, JSON Lines, CSV), with the manifest that proves them
//! complete and unaltered (SHA-256 of exactly what was written), written to `--out` or stdout.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::reports::{Row, Trail};
use super::{AuditArgs, Env, Format, Source};

/// What an export was, for an auditor to show it is complete and unaltered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub command: String,
    pub filters: BTreeMap<String, String>,
    pub source: String,
    /// Objects or files read.
    pub parts: usize,
    pub records: usize,
    /// Exact copies of a record (at-least-once delivery) counted once.
    pub copies_ignored: usize,
    pub unreadable_lines: usize,
    /// Object versions whose body differs from the first one written (tampering).
    pub altered_objects: usize,
    pub extracted_at: String,
    pub format: String,
    pub rows: usize,
    /// SHA-256 (hex) of the rows exactly as written: the file `--out` names, or stdout.
    pub sha256: String,
}

/// The rows written in a format: a text table, JSON Lines, or CSV (RFC 4180, header first).
pub fn render<R: Row>(rows: &[R], format: Format) -> String {
    match format {
        Format::Json => rows.iter().map(|r| format!("{}\n", serde_json::to_string(r).unwrap_or_default())).collect(),
        Format::Csv => {
            let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
            let mut written = w.write_record(R::HEADER);
            for r in rows {
                written = written.and_then(|()| w.write_record(r.cells().iter().map(|c| defused(c))));
            }
            // Writing to memory fails only on an I/O error, which memory does not have.
            let bytes = written.ok().and_then(|()| w.into_inner().ok()).unwrap_or_default();
            String::from_utf8(bytes).unwrap_or_default()
        }
        Format::Text => {
            let cells: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
            let mut width: Vec<usize> = R::HEADER.iter().map(|h| h.chars().count()).collect();
            for row in &cells {
                for (w, c) in width.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |row: &[String]| {
                let padded: Vec<String> = row.iter().zip(&width).map(|(c, w)| format!("{c:<w$}")).collect();
                padded.join("  ").trim_end().to_owned() + "\n"
            };
            let header: Vec<String> = R::HEADER.iter().map(|h| (*h).to_owned()).collect();
            line(&header) + &cells.iter().map(|r| line(r)).collect::<String>()
        }
    }
}

/// A CSV cell a spreadsheet will not run: a leading `=`, `+`, `-`, `@` or control character is
/// escaped with `'` (the writer quotes what holds a comma, quote or line break).
pub(super) fn defused(c: &str) -> String {
    match c.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{c}"),
        _ => c.to_owned(),
    }
}

pub fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// One export: the rows and their manifest (without the hash until written).
pub(crate) struct Export {
    pub(crate) body: String,
    pub(crate) manifest: Manifest,
}

pub(crate) fn export<R: Row>(rows: &[R], format: Format, footer: Option<String>, manifest: Manifest) -> Export {
    let mut body = render(rows, format);
    if let (Format::Text, Some(f)) = (format, footer) {
        body.push_str(&f);
        body.push('\n');
    }
    Export { manifest: Manifest { rows: rows.len(), sha256: sha256(&body), ..manifest }, body }
}

/// The manifest of an export from a trail.
pub(super) fn manifest(
    env: &Env,
    trail: &Trail,
    source: &Source,
    filters: BTreeMap<String, String>,
    format: Format,
) -> Manifest {
    Manifest {
        command: env.command.clone(),
        filters,
        source: source.describe(),
        parts: trail.parts,
        records: trail.records.len(),
        copies_ignored: trail.copies,
        unreadable_lines: trail.unreadable.len(),
        altered_objects: trail.altered.len(),
        extracted_at: shared::lifecycle::stamp(Utc::now()),
        format: format.as_str().into(),
        rows: 0,
        sha256: String::new(),
    }
}

/// Writes the rows (to `--out` or `out`) and the manifest (to `--manifest`, beside `--out`, or
/// to stderr).
pub(super) fn write(args: &AuditArgs, e: &Export, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    write_to(args.out.as_deref(), args.manifest.as_deref(), e, out, err)
}

/// [`write`] for any command: the rows to `path` (else `out`), the manifest to `manifest`,
/// beside `path`, or to `err`.
pub(crate) fn write_to(
    path: Option<&std::path::Path>,
    manifest_path: Option<&std::path::Path>,
    e: &Export,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    let manifest = serde_json::to_string_pretty(&e.manifest).unwrap_or_default() + "\n";
    match path {
        Some(path) => {
            std::fs::write(path, &e.body).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
            let m = manifest_path.map(PathBuf::from).unwrap_or_else(|| {
                let mut name = path.as_os_str().to_owned();
                name.push(".manifest.json");
                PathBuf::from(name)
            });
            std::fs::write(&m, &manifest).map_err(|err| format!("cannot write {}: {err}", m.display()))?;
            let _ = writeln!(
                out,
                "wrote {} ({} rows, sha256 {}) and its manifest {}",
                path.display(),
                e.manifest.rows,
                e.manifest.sha256,
                m.display()
            );
        }
        None => {
            let _ = out.write_all(e.body.as_bytes());
            match manifest_path {
                Some(m) => {
                    std::fs::write(m, &manifest).map_err(|err| format!("cannot write {}: {err}", m.display()))?
                }
                None => {
                    let _ = err.write_all(manifest.as_bytes());
                }
            }
        }
    }
    Ok(())
}
