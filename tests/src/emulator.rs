//! The emulator (moto's server through `tests/emulator.py`), shared by every test of a process,
//! its request recording, and starting a process that announces its address.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::*;

/// The emulator shared by all tests of this process; it stops when the process exits.
pub struct Emulator {
    pub endpoint: String,
    /// `tests/emulator.py`'s control port: what AWS does that no API call makes moto do.
    pub control: String,
    pub recording: PathBuf,
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

pub(crate) static EMULATOR: OnceLock<Emulator> = OnceLock::new();

pub fn emulator() -> &'static Emulator {
    EMULATOR.get_or_init(|| {
        let python = python();
        assert!(
            python.exists(),
            "no emulator: {} is missing; run `cargo xtask test` (it installs moto into .venv)",
            python.display()
        );
        // The recording holds request bodies (test passwords included): keep it under target/,
        // one file per run, and clear earlier runs' files.
        let dir = target_dir().join("moto-recordings");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("recording dir");
        let recording = dir.join(format!("{}.jsonl", std::process::id()));
        let mut start = Command::new(python);
        start
            .arg(root().join("tests").join("emulator.py"))
            .env("MOTO_ENABLE_RECORDING", "true")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::piped())
            .stderr(Stdio::inherit());
        let (mut child, ports, _) = spawn_announcing(&mut start, &["port=", "control="]).expect("start the emulator");
        let (port, control) = (&ports[0], &ports[1]);
        let stdin = child.stdin.take().expect("stdin");
        Emulator {
            endpoint: format!("http://127.0.0.1:{port}"),
            control: format!("127.0.0.1:{control}"),
            recording,
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }
    })
}

/// Starts `cmd` with its stdout piped and reads what it announces on its first lines: for each
/// of `prefixes` in turn, a line starting with it, whose rest is returned (`onboarding serve`
/// announces `listening on http://ADDR`; the emulator `port=N`, then `control=N`). The rest of
/// its stdout comes back to read or drain.
pub fn spawn_announcing(
    cmd: &mut Command,
    prefixes: &[&str],
) -> Result<(Child, Vec<String>, BufReader<ChildStdout>), String> {
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut values = Vec::new();
    for prefix in prefixes {
        let mut line = String::new();
        out.read_line(&mut line).map_err(|e| format!("{cmd:?}: {e}"))?;
        match line.trim().strip_prefix(prefix) {
            Some(value) => values.push(value.to_owned()),
            None => {
                let _ = child.kill();
                return Err(format!("{cmd:?} said {line:?}, not `{prefix}...`"));
            }
        }
    }
    Ok((child, values, out))
}

pub(crate) fn recorded_requests(file: &Path, access_key_id: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let text = std::fs::read_to_string(file).unwrap_or_default();
    // Every line is whole (tests/emulator.py writes one at a time), but for one another test's
    // request may be writing at the end of the file right now.
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("a broken recording line: {e}"))
        })
        .filter(|r| r["headers"]["Authorization"].as_str().is_some_and(|a| a.contains(access_key_id)))
        .map(|r| {
            let raw = r["body"].as_str().unwrap_or_default();
            let body = if r["body_encoded"].as_bool() == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default()
            } else {
                raw.to_owned()
            };
            let action = form_value(&body, "Action")
                .or_else(|| r["headers"]["X-Amz-Target"].as_str().map(str::to_owned))
                .unwrap_or_default();
            (action, body)
        })
        .collect()
}

/// A value of an `application/x-www-form-urlencoded` body.
pub fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| shared::aws::percent_decode(&v.replace('+', " ")))
    })
}
