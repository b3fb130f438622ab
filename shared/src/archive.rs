//! The durable trail's layout, pure: a batch of audit records (as the archive queue delivers
//! them) becomes JSON Lines objects under `audit/YYYY/MM/DD/`, one per day the records are
//! from. An object's key is derived from the messages in it, so a redelivered batch writes the
//! same keys again: under Object Lock that adds a version with the same content, and readers
//! that list current versions see each record once.

use sha2::{Digest, Sha256};

/// The prefix every archived object lives under.
pub const PREFIX: &str = "audit/";

/// One object to write: its key and its JSON Lines body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub body: String,
}

/// The objects for a batch of `(message id, record JSON)`. A record whose `timestamp` is not an
/// RFC 3339 date (it cannot be: the system writes them) is kept under `unknown-date/`, never
/// dropped.
pub fn objects(batch: &[(String, String)]) -> Vec<Object> {
    let mut by_day: std::collections::BTreeMap<String, Vec<&(String, String)>> = Default::default();
    for m in batch {
        by_day.entry(day_of(&m.1)).or_default().push(m);
    }
    by_day
        .into_iter()
        .map(|(day, mut msgs)| {
            msgs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut h = Sha256::new();
            for (id, _) in &msgs {
                h.update(id.as_bytes());
                h.update(b"\n");
            }
            let digest = hex::encode(h.finalize());
            let body: String = msgs.iter().map(|(_, r)| format!("{}\n", r.trim_end())).collect();
            Object { key: format!("{PREFIX}{day}/{}.jsonl", &digest[..32]), body }
        })
        .collect()
}

/// `YYYY/MM/DD` of a record's `timestamp`, or `unknown-date`.
fn day_of(record: &str) -> String {
    let ts = serde_json::from_str::<serde_json::Value>(record)
        .ok()
        .and_then(|v| v["timestamp"].as_str().and_then(crate::lifecycle::parse_stamp));
    match ts {
        Some(t) => t.format("%Y/%m/%d").to_string(),
        None => "unknown-date".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ts: &str, n: u32) -> String {
        format!(
            r#"{{"schemaVersion":1,"step":"pipeline","action":"onboard","outcome":"succeeded","timestamp":"{ts}","n":{n}}}"#
        )
    }

    #[test]
    fn a_batch_becomes_one_object_per_day_with_keys_from_its_messages() {
        let batch = vec![
            ("m2".to_owned(), rec("2026-11-29T23:59:59.000Z", 2)),
            ("m1".to_owned(), rec("2026-11-29T10:00:00.000Z", 1)),
            ("m3".to_owned(), rec("2026-11-30T00:00:01.000+00:00", 3)),
            ("m4".to_owned(), "not json".to_owned()),
        ];
        let objects = objects(&batch);
        assert_eq!(objects.len(), 3);
        assert!(objects[0].key.starts_with("audit/2026/11/29/") && objects[0].key.ends_with(".jsonl"));
        assert_eq!(objects[0].body.lines().count(), 2, "both records of the day, none lost");
        assert!(objects[1].key.starts_with("audit/2026/11/30/"));
        assert!(objects[2].key.starts_with("audit/unknown-date/"), "kept, never dropped");
        // Redelivered in another order: the same keys and bodies.
        let mut again = batch.clone();
        again.reverse();
        assert_eq!(super::objects(&again), objects);
        // Another batch of the same day: another key.
        let other = super::objects(&[("m9".to_owned(), rec("2026-11-29T11:00:00Z", 9))]);
        assert_ne!(other[0].key, objects[0].key);
    }
}
