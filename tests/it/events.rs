//! Every file in `events/` against the contract: samples parse, survive a serialise/parse round
//! trip, and the JSON Schema lists exactly the fields the parser accepts.

use std::collections::BTreeSet;

use serde_json::Value;
use shared::event;
use shared::intent::Request;
use tests::{config, root};

/// Every `.json` file of `dir` with its text, in name order; at least eight of them.
fn samples(dir: &str) -> Vec<(String, String)> {
    let mut v: Vec<_> = std::fs::read_dir(root().join(dir))
        .expect("events dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("read")))
        .collect();
    v.sort();
    assert!(v.len() >= 8, "{dir}: {} samples", v.len());
    v
}

#[test]
fn every_sample_parses_and_round_trips() {
    for (path, text) in samples("events") {
        let first = event::parse_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let value: Value = serde_json::from_str(&text).expect("json");
        let again = event::parse_str(&serde_json::to_string_pretty(&value).expect("serialise")).expect("re-parse");
        assert_eq!(first, again, "{path}");
        assert!(!first.meta().employee_id.is_empty());
    }
}

#[test]
fn every_invalid_sample_is_rejected() {
    for (path, text) in samples("events/invalid") {
        // Some problems show only with the configuration (a name with nothing usable).
        let e = serde_json::from_str::<Value>(&text)
            .map_err(|e| shared::ValidationError::new("(event)", e.to_string()))
            .and_then(|v| Request::from_event(&config(), &v))
            .expect_err(&path);
        assert!(!e.field.is_empty() && !e.message.is_empty(), "{path}");
    }
}

#[test]
fn each_schema_matches_what_the_parser_accepts() {
    for (schema, sample) in [
        ("employee-hired.schema.json", "hire-engineering.json"),
        ("employee-changed.schema.json", "change-transfer.json"),
        ("employee-departed.schema.json", "depart-scheduled.json"),
    ] {
        schema_matches(schema, sample);
    }
}

/// `sample` must carry every field the schema knows.
fn schema_matches(schema: &str, sample: &str) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("events/schema").join(schema)).expect("schema"))
            .expect("json");
    let sample_type = schema["properties"]["detail-type"]["const"].as_str().expect("detail-type const");
    let detail = &schema["properties"]["detail"];
    let properties: BTreeSet<String> = detail["properties"].as_object().expect("properties").keys().cloned().collect();
    let required: BTreeSet<String> =
        detail["required"].as_array().expect("required").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();

    // The parser's own list of accepted fields, from its error for an unknown one.
    let mut probe: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("events").join(sample)).expect("sample"))
            .expect("json");
    assert_eq!(probe["detail-type"], sample_type);
    probe["detail"]["zzz"] = Value::Bool(true);
    let e = event::parse(&probe).expect_err("unknown field");
    let accepted: BTreeSet<String> = e.message.split('`').skip(1).step_by(2).map(str::to_owned).collect();
    assert_eq!(properties, accepted, "schema properties vs parser");

    // Each required field: removing it is an error naming it.
    for field in &required {
        let mut v = probe.clone();
        v["detail"].as_object_mut().expect("detail").remove("zzz");
        v["detail"].as_object_mut().expect("detail").remove(field);
        let e = event::parse(&v).expect_err(field);
        assert_eq!(e.field, format!("detail.{field}"));
    }
    // And nothing else is required.
    for optional in properties.difference(&required) {
        let mut v = probe.clone();
        v["detail"].as_object_mut().expect("detail").remove("zzz");
        v["detail"].as_object_mut().expect("detail").remove(optional);
        event::parse(&v).unwrap_or_else(|e| panic!("{optional} should be optional: {e}"));
    }
}

/// The sample roster (the demo's day one) reads with every row a valid hire, one with `userName`.
#[test]
fn the_sample_roster_is_valid() {
    let path = root().join("events/roster/day-one.csv");
    let text = std::fs::read_to_string(&path).expect("roster");
    let rows = onboarding::roster::rows("day-one.csv", &text).expect("rows");
    let (people, bad) = onboarding::roster::people(&config(), &rows, "2026-11-29T00:00:00Z");
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(people.len(), 3);
    assert_eq!(people.iter().filter(|p| p.user_name.is_some()).count(), 1);
}
