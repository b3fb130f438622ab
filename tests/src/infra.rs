//! The deployment artefacts as the tests and `gen-infra` see them.

use crate::asl::{self, Flow};
use serde_json::Value;

/// A flow's state machine as committed: pretty JSON with a final newline.
pub fn rendered(flow: Flow) -> String {
    let mut text = serde_json::to_string_pretty(&asl::definition(flow)).unwrap_or_default();
    text.push('\n');
    text
}

/// The SAM template, parsed (through the project venv's PyYAML, which the template's long-form
/// intrinsics keep plain YAML).
pub fn template() -> Value {
    let python = std::env::var("ONBOARDING_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(python)
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"])
        .arg(crate::root().join("infra").join("template.yaml"))
        .output()
        .expect("python");
    assert!(out.status.success(), "template.yaml does not parse: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}
