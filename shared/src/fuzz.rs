//! Standing property tests of every parser of outside input: HR events (envelope and details)
//! and the configuration. 10,000 generated inputs each, built by mutating the real samples
//! (`events/`) and the shipped `onboarding.toml`: values replaced with wrong types, huge or
//! hostile strings (control, bidi, invisible characters, path-like ids), keys removed or added,
//! text truncated or spliced. Nothing may panic, and every rejection must name a field (a path
//! of the contract or a configuration key) or a line.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config as Runner, FileFailurePersistence};
use serde_json::{Map, Value};

use crate::config::{Config, ConfigError};
use crate::event;

const CASES: u32 = 10_000;

fn runner() -> Runner {
    // No regression files written into the source tree; a failure prints its minimal input.
    Runner { cases: CASES, failure_persistence: Some(Box::new(FileFailurePersistence::Off)), ..Runner::default() }
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The valid sample events, parsed.
fn samples() -> Vec<Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(repo().join("events")).expect("events/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("sample");
            out.push(serde_json::from_str(&text).expect("sample JSON"));
        }
    }
    assert!(out.len() >= 5, "the valid samples are read");
    out
}

/// Every field path the contract names (from the JSON Schemas), e.g. `detail.access.console`.
fn contract_fields() -> BTreeSet<String> {
    fn walk(schema: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        if let Some(props) = schema["properties"].as_object() {
            for (k, v) in props {
                let path = format!("{prefix}{k}");
                out.insert(path.clone());
                walk(v, &format!("{path}."), out);
            }
        }
    }
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("events/schema")).expect("schemas") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("schema");
        walk(&serde_json::from_str(&text).expect("schema JSON"), "", &mut out);
    }
    out
}

/// Every path of a JSON value's object members (`detail.access.console`).
fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(o) = v.as_object() {
        for (k, child) in o {
            let path = format!("{prefix}{k}");
            out.push(path.clone());
            paths(child, &format!("{path}."), out);
        }
    }
}

fn parent_mut<'a>(v: &'a mut Value, path: &str) -> Option<(&'a mut Map<String, Value>, String)> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop()?.to_owned();
    let mut cur = v;
    for p in parts {
        cur = cur.get_mut(p)?;
    }
    Some((cur.as_object_mut()?, last))
}

/// Hostile JSON values: wrong types, huge, control/bidi/invisible characters, path-like.
fn hostile() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        "\\PC{0,40}",
        "[\\x00-\\x1f\\x7f\u{202e}\u{200b}\u{2066}\u{feff}a-z]{1,20}",
        Just("../../etc/passwd".to_owned()),
        Just("E1001/../E1002".to_owned()),
        Just("".to_owned()),
        Just(" ".to_owned()),
        (1usize..300_000).prop_map(|n| "x".repeat(n)),
        Just("2026-02-30".to_owned()),
        Just("2026-11-20T09:01:00+99:00".to_owned()),
        Just("a@b@c".to_owned()),
    ];
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        text.prop_map(Value::from),
        Just(Value::Array(vec![Value::from("x")])),
        Just(serde_json::json!({"nested": {"deeper": [1, 2, 3]}})),
        (1usize..200).prop_map(|depth| (0..depth).fold(Value::from(1), |v, _| Value::Array(vec![v]))),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    Add(usize, String, Value),
    /// The serialised event, cut at a fraction of its length (per mille).
    Truncate(u16),
    /// Text spliced into the serialised event at a fraction of its length (per mille).
    Splice(u16, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), hostile()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), "[a-zA-Z-]{1,12}", hostile()).prop_map(|(i, k, v)| Mutation::Add(i, k, v)),
        1 => (0u16..1000).prop_map(Mutation::Truncate),
        1 => (0u16..1000, "[\\[\\]{}\",:\\\\0-9a-z\\x00]{1,6}").prop_map(|(at, s)| Mutation::Splice(at, s)),
    ]
}

fn cut(text: &str, per_mille: u16) -> usize {
    let mut at = text.len() * usize::from(per_mille) / 1000;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A rejection names a contract field, or says where the JSON broke (line and column), or that
/// the input is not an object.
fn names_a_field(e: &crate::ValidationError, fields: &BTreeSet<String>) -> bool {
    let known = fields.contains(&e.field) || e.field == "detail" || e.field.starts_with("detail.");
    let whole = e.field == "(event)" && (e.message.contains("line") || e.message.contains("JSON object"));
    !e.message.is_empty() && (known || whole)
}

#[test]
fn event_parser_survives_mutated_events_and_names_the_field() {
    let (samples, fields) = (samples(), contract_fields());
    let mut runner = proptest::test_runner::TestRunner::new(runner());
    let strategy = (0..samples.len(), prop::collection::vec(mutation(), 1..4));
    runner
        .run(&strategy, |(which, mutations)| {
            let mut v = samples[which].clone();
            let mut text = None;
            let mut replaced = Vec::new();
            for m in mutations {
                let mut all = Vec::new();
                paths(&v, "", &mut all);
                let pick = |i: usize| all.get(i % all.len().max(1)).cloned();
                match m {
                    Mutation::Replace(i, new) => {
                        if let Some(path) = pick(i)
                            && let Some((parent, key)) = parent_mut(&mut v, &path)
                        {
                            parent.insert(key, new);
                            replaced.push(path);
                        }
                    }
                    Mutation::Remove(i) => {
                        if let Some(path) = pick(i)
                            && let Some((parent, key)) = parent_mut(&mut v, &path)
                        {
                            parent.remove(&key);
                        }
                    }
                    Mutation::Add(i, key, new) => {
                        let at = pick(i).and_then(|p| p.rsplit_once('.').map(|(parent, _)| format!("{parent}.")));
                        if let Some((parent, _)) = parent_mut(&mut v, &format!("{}{key}", at.unwrap_or_default())) {
                            parent.insert(key, new);
                        }
                    }
                    Mutation::Truncate(per_mille) => {
                        let t = text.take().unwrap_or_else(|| v.to_string());
                        text = Some(t[..cut(&t, per_mille)].to_owned());
                    }
                    Mutation::Splice(per_mille, s) => {
                        let mut t = text.take().unwrap_or_else(|| v.to_string());
                        t.insert_str(cut(&t, per_mille), &s);
                        text = Some(t);
                    }
                }
            }
            let text = text.unwrap_or_else(|| v.to_string());
            if let Err(e) = event::parse_str(&text) {
                prop_assert!(names_a_field(&e, &fields), "rejection names no field: {e}");
                prop_assert!(
                    e.message.chars().count() < 1_000,
                    "an error quotes too much ({} chars): {}: {}",
                    e.message.len(),
                    e.field,
                    e.message.chars().take(300).collect::<String>()
                );
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The shipped configuration with one line's value replaced, a line dropped or duplicated, or
/// the text cut: parsed or refused naming a key or a line, never a panic.
#[test]
fn config_parser_survives_mutated_configs_and_names_the_key_or_line() {
    let shipped = crate::config::SHIPPED;
    let lines: Vec<&str> = shipped.lines().collect();
    let values = prop_oneof![
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("1e309".to_owned()),
        Just("true".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("[\"/\"]".to_owned()),
        Just("\"\"".to_owned()),
        Just("\"../../etc\"".to_owned()),
        Just("\"\u{202e}x\"".to_owned()),
        Just("\"arn:aws:iam::*:*\"".to_owned()),
        "\"[a-zA-Z0-9/:*._-]{0,30}\"",
        (1usize..100_000).prop_map(|n| format!("\"{}\"", "y".repeat(n))),
        "[\\PC]{0,12}",
    ];
    let edit = prop_oneof![
        4 => (any::<usize>(), values).prop_map(|(i, v)| (0u8, i, v)),
        1 => any::<usize>().prop_map(|i| (1u8, i, String::new())),
        1 => any::<usize>().prop_map(|i| (2u8, i, String::new())),
        1 => (0usize..1000).prop_map(|i| (3u8, i, String::new())),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(runner());
    runner
        .run(&prop::collection::vec(edit, 1..3), |edits| {
            let mut text: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            for (kind, i, value) in edits {
                let n = i % text.len().max(1);
                match kind {
                    0 => {
                        if let Some((key, _)) = text[n].split_once(" = ") {
                            text[n] = format!("{key} = {value}");
                        }
                    }
                    1 => {
                        text.remove(n);
                    }
                    2 => {
                        let line = text[n].clone();
                        text.insert(n, line);
                    }
                    _ => {
                        let joined = text.join("\n");
                        let at = cut(&joined, (i % 1000) as u16);
                        text = joined[..at].lines().map(str::to_owned).collect();
                    }
                }
                if text.is_empty() {
                    text.push(String::new());
                }
            }
            let parsed = Config::parse(&text.join("\n"), "fuzz.toml");
            if let Err(e) = &parsed {
                let len = e.to_string().chars().count();
                prop_assert!(
                    len < 1_000,
                    "an error quotes too much ({len} chars): {}",
                    e.to_string().chars().take(300).collect::<String>()
                );
            }
            match parsed {
                Ok(_) => {}
                Err(ConfigError::Syntax { message, .. }) => {
                    prop_assert!(
                        message.contains("line") || message.contains('`') || message.ends_with("] is required"),
                        "a syntax error names neither a line, a key nor a missing table: {message}"
                    );
                }
                Err(ConfigError::Invalid { error, .. }) => {
                    prop_assert!(!error.field.is_empty() && !error.message.is_empty(), "{error}");
                }
                Err(e) => prop_assert!(false, "unexpected error kind: {e}"),
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
