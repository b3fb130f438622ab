//! Every file in `events/` against the contract: samples parse, survive a serialise/parse round
//! trip, and the JSON Schema lists exactly the fields the parser accepts.

use std::collections::BTreeSet;

use serde_json::Value;
use shared::event;
use shared::intent::Request;
use tests::{config, root};

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join(dir))
        .expect("events dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_sample_parses_and_round_trips() {
    let samples = files("events");
    assert!(samples.len() >= 8);
    for path in samples {
        let text = std::fs::read_to_string(&path).expect("read");
        let first = event::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: Value = serde_json::from_str(&text).expect("json");
        let again = event::parse_str(&serde_json::to_string_pretty(&value).expect("serialise")).expect("re-parse");
        assert_eq!(first, again, "{}", path.display());
        assert!(!first.meta().employee_id.is_empty());
    }
}

#[test]
fn every_invalid_sample_is_rejected() {
    let bad = files("events/invalid");
    assert!(bad.len() >= 8);
    for path in bad {
        let text = std::fs::read_to_string(&path).expect("read");
        // Some problems show only with the configuration (a name with nothing usable).
        let e = serde_json::from_str::<Value>(&text)
            .map_err(|e| shared::ValidationError::new("(event)", e.to_string()))
            .and_then(|v| Request::from_event(&config(), &v))
            .expect_err(&path.display().to_string());
        assert!(!e.field.is_empty() && !e.message.is_empty(), "{}", path.display());
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
