//! Developer commands. Std only, so it builds in seconds.
//!
//! - `cargo xtask test`: installs the emulator (pinned moto, in ./.venv) and the independent IAM
//!   simulator and the review page's browser driver (pinned, `npm ci` in tests/simulator and
//!   tests/browser), headless Chromium (Debian's, when missing), checks formatting,
//!   builds everything and runs every test.
//! - `cargo xtask demo`: installs and starts the emulator, bootstraps, onboards the sample new
//!   hires from `events/`, resends one, feeds it a bad event, runs the sample transfer and
//!   departures, sweeps at a later date, and shows users and audit trail. With
//!   `--identity-center`: the same events against the emulator's Identity Center (the shipped
//!   config plus `onboarding.identity-center.toml`), showing users, groups and whom each
//!   permission set denies.
//! - `cargo xtask bench`: release-builds each function on its own (so each links only what it
//!   uses) and measures size, cold start, first invocation and peak memory under a Lambda
//!   Runtime API host, against the emulator.
//! - `cargo xtask lint`: `cargo fmt --check` and `cargo clippy --all-targets -D warnings`.
//! - `cargo xtask package [--dev]`: every function as a Lambda zip (`bootstrap` at the root) for
//!   x86_64 and arm64, linked against glibc 2.34 (provided.al2023) with cargo-zigbuild and Zig
//!   from the project venv; `--dev` builds unoptimised zips for the tests' checks.
//! - `cargo xtask gen-infra`: rewrites the state machines generated from `shared::steps` (it
//!   runs the test that checks them, which rewrites a stale file).

mod bench;
mod demo;
mod package;
mod testing;
mod tools;

use bench::bench;
use demo::demo;
use package::{ZIP_BOOTSTRAP, package};
use testing::test;
use tools::{Emulator, emulator_forever, install_chromium, install_node_tools, start_emulator, venv_python};

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("lint") => lint(),
        Some("bench") => bench(),
        Some("package") => package(&args[1..]).map(|_| ()),
        Some("emulator") => emulator_forever(),
        Some("gen-infra") => gen_infra(),
        _ => {
            eprintln!(
                "usage: cargo xtask <test [--all-arches] [cargo test args]|demo [--identity-center]|bench|lint|emulator|gen-infra|package [--dev] [--host-arch]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Cargo's target directory as cargo itself resolves it (`CARGO_TARGET_DIR`, a config's
/// `build.target-dir`, or `./target`), from `cargo metadata`.
fn target_dir() -> Result<PathBuf> {
    target_dir_of(cargo())
}

fn target_dir_of(mut cargo: Command) -> Result<PathBuf> {
    let out = cargo
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", out.status));
    }
    target_directory(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| "cargo metadata gave no target_directory".to_owned())
}

/// The `target_directory` value of `cargo metadata`'s JSON (std only: no JSON parser here).
fn target_directory(json: &str) -> Option<PathBuf> {
    let start = json.find("\"target_directory\":\"")? + "\"target_directory\":\"".len();
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(PathBuf::from(value)),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

fn run(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("cannot start {}: {e}", shown(cmd)))?;
    if status.success() { Ok(()) } else { Err(format!("{} failed: {status}", shown(cmd))) }
}

/// A command as an error shows it: the program and its arguments, never its environment (the
/// demo passes a webhook signing secret there).
fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
}

/// Every Lambda binary: the directories under `functions/` (directory = package = binary).
fn functions() -> Result<Vec<String>> {
    let dir = root().join("functions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Rewrites the committed state machines from the flows (the infra test does it when stale).
fn gen_infra() -> Result {
    let status = cargo()
        .args(["test", "--quiet", "--package", "tests", "--test", "it", "--", "committed_state_machines"])
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        println!("infra/statemachines/ is up to date");
    } else {
        println!("infra/statemachines/ regenerated: review and commit it");
    }
    Ok(())
}

fn lint() -> Result {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_command_is_shown_without_its_environment() {
        let mut c = Command::new("false");
        c.arg("--flag").env("WORKDAY_SIGNING_SECRET", "whsec_not-to-be-shown");
        let e = run(&mut c).expect_err("`false` fails");
        assert!(e.starts_with("false --flag failed"), "{e}");
        assert!(!e.contains("whsec_"), "{e}");
    }

    #[test]
    fn the_target_directory_is_cargos_own() {
        // A user's CARGO_TARGET_DIR is honoured (cargo metadata resolves it, as cargo builds).
        let elsewhere = std::env::temp_dir().join(format!("xtask-target-{}", std::process::id()));
        let mut c = cargo();
        c.env("CARGO_TARGET_DIR", &elsewhere);
        assert_eq!(target_dir_of(c).expect("cargo metadata"), elsewhere);
        // And escaped characters in the JSON are read back.
        let json = r#"{"packages":[],"target_directory":"/a/b \"c\"\\d","version":1}"#;
        assert_eq!(target_directory(json), Some(PathBuf::from("/a/b \"c\"\\d")));
        assert_eq!(target_directory("{}"), None);
    }
}
