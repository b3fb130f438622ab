//! Reading events: a file holds one event, a JSON array of events, or JSON Lines; `-` is stdin.
//! A malformed entry becomes a failed entry (with the position), and the rest is still read.

use serde_json::Value;
use shared::ValidationError;

/// One entry of an input: an event, or why it could not be read as JSON.
pub type Entry = Result<Value, ValidationError>;

/// Splits a text into entries.
pub fn entries(origin: &str, text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut line_offset = 0usize;
    while !rest.trim().is_empty() {
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(Value::Array(items))) => out.extend(items.into_iter().map(Ok)),
            Some(Ok(v)) => out.push(Ok(v)),
            Some(Err(e)) => {
                out.push(Err(ValidationError::new(
                    "(event)",
                    format!("malformed JSON in {origin} at line {}, column {}: {e}", e.line() + line_offset, e.column()),
                )));
                // Resume at the next line: the other lines of a JSON Lines file still count.
                let consumed = stream.byte_offset();
                let skip = rest[consumed..].find('\n').map(|i| consumed + i + 1).unwrap_or(rest.len());
                line_offset += rest[..skip].matches('\n').count();
                rest = &rest[skip..];
                continue;
            }
            None => break,
        }
        let consumed = stream.byte_offset();
        line_offset += rest[..consumed].matches('\n').count();
        rest = &rest[consumed..];
    }
    out
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
    }

    #[test]
    fn a_malformed_line_fails_alone() {
        let e = entries("f.jsonl", "{\"a\": 1}\n{\"a\": \n{\"a\": 3}\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].is_ok() && e[2].is_ok());
        let err = e[1].as_ref().expect_err("malformed");
        assert!(err.message.contains("malformed JSON in f.jsonl at line 2"), "{err}");
    }
}
