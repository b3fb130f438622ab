//! Reading events: a file holds one event, a JSON array of events, or JSON Lines; `-` is stdin.
//! A malformed entry becomes a failed entry (with the position), and the rest is still read.

use serde_json::Value;
use shared::ValidationError;

/// One entry of an input: an event, or why it could not be read as JSON.
pub type Entry = Result<Value, ValidationError>;

/// Splits a text into entries.
pub fn entries(origin: &str, text: &str) -> Vec<Entry> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    // One document: an event or an array of events (pretty-printed or not).
    let whole = serde_json::from_str::<Value>(text);
    match whole {
        Ok(Value::Array(items)) => return items.into_iter().map(Ok).collect(),
        Ok(v) => return vec![Ok(v)],
        Err(_) => {}
    }
    // JSON Lines: several lines, each a document of its own; a bad line fails alone.
    let lines: Vec<(usize, &str)> = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
    let parsed: Vec<Result<Value, serde_json::Error>> = lines.iter().map(|(_, l)| serde_json::from_str(l)).collect();
    if lines.len() > 1 && parsed.iter().any(Result::is_ok) {
        return lines
            .iter()
            .zip(parsed)
            .map(|((n, _), r)| r.map_err(|e| malformed(origin, n + 1, e.column(), &e)))
            .collect();
    }
    let e = whole.expect_err("checked above");
    vec![Err(malformed(origin, e.line(), e.column(), &e))]
}

fn malformed(origin: &str, line: usize, column: usize, e: &serde_json::Error) -> ValidationError {
    ValidationError::new("(event)", format!("malformed JSON in {origin} at line {line}, column {column}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_an_array_and_json_lines() {
        assert_eq!(entries("f", r#"{"a": 1}"#).len(), 1);
        assert_eq!(entries("f", "[{\"a\": 1}, {\"a\": 2}]").len(), 2);
        let lines = "{\"a\": 1}\n{\"a\": 2}\n\n{\"a\": 3}\n";
        assert_eq!(entries("f", lines).into_iter().filter(Result::is_ok).count(), 3);
        assert!(entries("f", "  \n").is_empty());
        let pretty = "{\n  \"a\": 1\n}\n";
        assert_eq!(entries("f", pretty).len(), 1);
        let bad = entries("f.json", "{\n  \"a\": \n");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].as_ref().is_err_and(|e| e.message.contains("f.json at line")));
    }

    #[test]
    fn a_malformed_line_fails_alone() {
        let e = entries("f.jsonl", "{\"a\": 1}\n{\"a\": \n{\"a\": 3}\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].is_ok() && e[2].is_ok());
        let err = e[1].as_ref().expect_err("malformed");
        assert!(err.message.contains("malformed JSON in f.jsonl at line 2"), "{err}");
    }

    /// The input reader splits any text (10,000 generated: JSON fragments, lines, garbage)
    /// without a panic, and every entry it cannot read says at which line.
    #[test]
    fn any_text_splits_and_every_bad_entry_names_its_line() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
        let piece = prop_oneof![
            Just("{\"a\": 1}".to_owned()),
            Just("[{\"a\": 1}, 2]".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("{".to_owned()),
            Just("]".to_owned()),
            Just("\"\\u202e\"".to_owned()),
            "\\PC{0,20}",
            "[\\x00-\\x7f]{0,20}",
        ];
        let config = Config {
            cases: 10_000,
            failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
            ..Config::default()
        };
        TestRunner::new(config)
            .run(&prop::collection::vec(piece, 0..12), |pieces| {
                let text = pieces.concat();
                for e in entries("input.jsonl", &text) {
                    if let Err(e) = e {
                        prop_assert!(e.message.contains("input.jsonl at line"), "{e}");
                    }
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
