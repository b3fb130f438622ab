use super::*;
use serde_json::{Value, json};

const T0: &str = "2026-11-02T09:00:00Z";

fn at(offset_minutes: i64) -> String {
    stamp(time(T0).expect("t0") + TimeDelta::minutes(offset_minutes))
}

/// A record as the system writes it; `extra` overrides fields.
fn rec(event: &str, employee: &str, kind: &str, delivery: &str, minute: i64, extra: Value) -> String {
    let mut r = json!({
        "schemaVersion": 1, "eventId": event, "employeeId": employee, "detailType": kind,
        "step": "offboard", "action": "iam:DeleteLoginProfile", "target": format!("arn:aws:iam::1:user/employees/{employee}/u{employee}"),
        "outcome": "done", "terminal": false, "timestamp": at(minute), "delivery": delivery,
    });
    for (k, v) in extra.as_object().expect("object") {
        r[k] = v.clone();
    }
    r.to_string()
}

fn terminal(event: &str, employee: &str, kind: &str, delivery: &str, minute: i64, extra: Value) -> String {
    let mut base =
        json!({"step": "pipeline", "action": "offboard", "outcome": "succeeded", "terminal": true, "changed": true});
    for (k, v) in extra.as_object().expect("object") {
        base[k] = v.clone();
    }
    rec(event, employee, kind, delivery, minute, base)
}

fn trail(lines: &[String]) -> Trail {
    Trail::parse(&[("t.jsonl".into(), lines.join("\n"))])
}

fn departures() -> Vec<String> {
    let day = 24 * 60;
    vec![
        // E1: immediate, ended a minute after it was due; deleted 31 days later by the sweep.
        rec("d1", "E1", DEPARTED, "x1", 1, json!({})),
        terminal("d1", "E1", DEPARTED, "x1", 1, json!({"accessDueAt": at(0), "accessEndedAt": at(1)})),
        rec("sweep-delete-1", "E1", "Sweep", "s9", 31 * day, json!({"step": "sweep", "action": "iam:DeleteUser"})),
        terminal("sweep-delete-1", "E1", "Sweep", "s9", 31 * day, json!({"step": "sweep", "action": "delete"})),
        // E2: scheduled for day 10, ended by the sweep two days late.
        terminal("d2", "E2", DEPARTED, "x2", 2, json!({"accessDueAt": at(10 * day)})),
        terminal(
            "sweep-disable-1",
            "E2",
            "Sweep",
            "s1",
            12 * day,
            json!({"step": "sweep", "action": "disable", "accessDueAt": at(10 * day), "accessEndedAt": at(12 * day)}),
        ),
        // E3: held by the mass-departure guard.
        terminal(
            "d3",
            "E3",
            DEPARTED,
            "x3",
            3,
            json!({"outcome": "quarantined", "reason": "mass departure", "accessDueAt": at(3)}),
        ),
        // E4: nobody to offboard.
        terminal(
            "d4",
            "E4",
            DEPARTED,
            "x4",
            4,
            json!({"outcome": "ignored", "reason": "no user for employee `E4`", "changed": false}),
        ),
        // E5: due far outside the period.
        terminal("d5", "E5", DEPARTED, "x5", 5, json!({"accessDueAt": at(100 * day)})),
        // E6: due in five days, not yet.
        terminal("d6", "E6", DEPARTED, "x6", 6, json!({"accessDueAt": at(5 * day)})),
    ]
}

#[test]
fn each_departure_in_the_period_gets_its_row_with_the_sla_verdict() {
    let t = trail(&departures());
    let period = Period { from: time("2026-11-01T00:00:00Z"), to: time("2026-12-01T00:00:00Z") };
    let now = time(T0).expect("t0") + TimeDelta::days(2);
    let rows = leavers(&t, period, TimeDelta::hours(24), "24h", now);
    type Got<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a str, Option<bool>, &'a str);
    let got: Vec<Got> = rows
        .iter()
        .map(|r| {
            (
                r.employee_id.as_str(),
                r.access_ended_at.as_deref(),
                r.deleted_at.as_deref(),
                r.elapsed.as_deref().unwrap_or_default(),
                r.breached,
                r.status.as_str(),
            )
        })
        .collect();
    let (m1, day12, day31) = (at(1), at(12 * 24 * 60), at(31 * 24 * 60));
    assert_eq!(
        got,
        vec![
            ("E4", None, None, "", None, "ignored"),
            ("E1", Some(m1.as_str()), Some(day31.as_str()), "1m 00s", Some(false), "ended"),
            ("E3", None, None, "1d 23h 57m", Some(true), "quarantined"),
            ("E6", None, None, "0s", Some(false), "pending"),
            ("E2", Some(day12.as_str()), None, "2d 00h 00m", Some(true), "ended"),
        ]
    );
    // Ignored has no due time: it is placed by when it arrived, first (no due sorts first).
    assert_eq!(rows[0].due_at, None);
    assert_eq!(rows[0].reason.as_deref(), Some("no user for employee `E4`"));
    assert_eq!(rows[1].user_name.as_deref(), Some("uE1"));
    assert_eq!(rows[1].received_at, at(1));
    assert_eq!(rows[4].elapsed_seconds, Some(2 * 86_400));
    assert!(rows.iter().all(|r| r.employee_id != "E5"), "due outside the period");
}

#[test]
fn completeness_finds_missing_duplicated_and_failed_terminals() {
    let mut lines = departures();
    let complete = |lines: &[String]| completeness(&trail(lines), Period::default());
    let (rows, verdict) = complete(&lines);
    assert!(verdict.complete, "{rows:?}");
    // An access review's records (a decision; a revocation at close) are not an event's.
    let mut reviewed = lines.clone();
    let review = json!({"eventId": null, "detailType": null, "step": "review"});
    let mut decided = review.clone();
    decided["action"] = json!("review:Decide");
    reviewed.push(rec("-", "E1", "-", "r1", 40, decided));
    let mut revoked = review;
    revoked["action"] = json!("iam:RemoveUserFromGroup");
    reviewed.push(rec("-", "E1", "-", "r2", 41, revoked));
    let (rows, verdict) = complete(&reviewed);
    assert!(verdict.complete && rows.len() == complete(&lines).0.len(), "{rows:?}");
    // An exact copy (at-least-once delivery) is one record.
    lines.push(lines[1].clone());
    let t = trail(&lines);
    assert_eq!(t.copies, 1);
    assert!(completeness(&t, Period::default()).1.complete);
    // A removed terminal record.
    let mut removed = departures();
    removed.remove(1);
    let (rows, verdict) = complete(&removed);
    assert!(!verdict.complete);
    let d1 = rows.iter().find(|r| r.event_id == "d1").expect("d1");
    assert_eq!((d1.status.as_str(), d1.terminals), ("no-terminal", 0));
    // A second, different terminal record in the same delivery.
    let mut doubled = lines.clone();
    doubled.push(terminal("d1", "E1", DEPARTED, "x1", 2, json!({"accessDueAt": at(0), "accessEndedAt": at(1)})));
    let (rows, _) = complete(&doubled);
    let d1 = rows.iter().find(|r| r.event_id == "d1").expect("d1");
    assert_eq!((d1.status.as_str(), d1.terminals, d1.deliveries), ("duplicate-terminal", 2, 1));
    // A resend is another delivery with its own terminal: complete.
    let mut resent = lines.clone();
    resent.push(terminal("d1", "E1", DEPARTED, "x1b", 9, json!({"changed": false})));
    let (rows, verdict) = complete(&resent);
    assert!(verdict.complete, "{rows:?}");
    // A failed last delivery; then retried successfully.
    let mut failed = lines.clone();
    failed.push(rec("h1", "E7", HIRED, "y1", 20, json!({"step": "create-user", "action": "iam:CreateUser"})));
    failed.push(terminal(
        "h1",
        "E7",
        HIRED,
        "y1",
        21,
        json!({"outcome": "failed", "error": "iam:CreateUser failed: Throttling"}),
    ));
    let (rows, verdict) = complete(&failed);
    let h1 = rows.iter().find(|r| r.event_id == "h1").expect("h1");
    assert_eq!((h1.status.as_str(), verdict.incomplete), ("failed-not-retried", 1));
    // A delivery killed half-way, then a new one that finished: complete, and said so.
    failed.push(rec("h1", "E7", HIRED, "y2", 30, json!({"step": "create-user"})));
    failed.push(rec("h1", "E7", HIRED, "y3", 31, json!({"step": "create-user"})));
    failed.push(terminal("h1", "E7", HIRED, "y3", 32, json!({"action": "onboard"})));
    let (rows, verdict) = complete(&failed);
    let h1 = rows.iter().find(|r| r.event_id == "h1").expect("h1");
    assert!(verdict.complete, "{rows:?}");
    assert_eq!((h1.deliveries, h1.terminals), (3, 2));
    assert_eq!(h1.detail, "1 interrupted deliveries finished by a later one");
    // An unreadable line makes the trail incomplete, whatever the events say.
    let mut damaged = lines.clone();
    damaged.push("forged".into());
    let t = trail(&damaged);
    assert_eq!(t.unreadable, vec!["t.jsonl:12: not an audit record: expected ident at line 1 column 2".to_owned()]);
    assert!(!completeness(&t, Period::default()).1.complete);
}

#[test]
fn joiners_and_movers_are_counted_once_per_event() {
    let lines = vec![
        terminal("h1", "E1", HIRED, "a", 1, json!({"action": "onboard"})),
        terminal("h1", "E1", HIRED, "b", 2, json!({"action": "onboard", "changed": false})),
        terminal("c1", "E1", CHANGED, "c", 3, json!({"action": "change"})),
    ];
    let rows = movements(&trail(&lines), Period::default());
    let got: Vec<(&str, &str, bool)> = rows.iter().map(|m| (m.kind.as_str(), m.event_id.as_str(), m.changed)).collect();
    assert_eq!(got, vec![("joiner", "h1", true), ("mover", "c1", true)]);
}

#[test]
fn the_credential_report_is_read_by_header_even_with_commas_in_names() {
    let csv = "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date\n\
               a,b,arn:aws:iam::1:user/a,b,2026-01-01T00:00:00+00:00,true,false,true,2026-11-01T00:00:00+00:00,N/A\n\
               plain,arn:aws:iam::1:user/plain,2026-01-01T00:00:00+00:00,false,true,false,N/A,N/A\n";
    let r = credential_report(csv);
    assert_eq!(r["a,b"]["arn"], "arn:aws:iam::1:user/a,b");
    assert_eq!(r["a,b"]["password_enabled"], "true");
    assert_eq!(r["plain"]["mfa_active"], "true");
    let user = |name: &str| shared::aws::iam::UserDetail {
        user: shared::aws::iam::User {
            name: name.into(),
            arn: format!("arn:aws:iam::1:user/{name}"),
            path: "/".into(),
            tags: Default::default(),
            boundary: None,
            password_last_used: None,
        },
        groups: vec!["engineering".into()],
        attached_policies: vec![],
        inline_policies: vec!["extra".into()],
        created: None,
    };
    let now = time("2026-11-29T00:00:00Z").expect("now");
    let rows = access(&[(user("a,b"), true), (user("plain"), false)], &r, now);
    assert_eq!(rows[0].access_keys, vec![KeyUse { slot: 1, active: true, age_days: Some(28), last_used: None }]);
    assert!(rows[0].console_access && !rows[0].mfa);
    assert!(rows[1].access_keys.is_empty() && rows[1].mfa && !rows[1].managed);
    assert_eq!(rows[1].direct_policies, vec!["extra".to_owned()]);
}

#[test]
fn durations_read_and_print() {
    assert_eq!(parse_sla("24h"), Ok(TimeDelta::hours(24)));
    assert_eq!(parse_sla("90m"), Ok(TimeDelta::minutes(90)));
    assert_eq!(parse_sla("2d"), Ok(TimeDelta::days(2)));
    for bad in ["", "h", "24", "0h", "24x", "-1h", "99999999999999999999d"] {
        assert!(parse_sla(bad).is_err_and(|e| e.contains("e.g. 24h")), "{bad}");
    }
    assert_eq!(human(TimeDelta::seconds(7)), "7s");
    assert_eq!(human(TimeDelta::seconds(306)), "5m 06s");
    assert_eq!(human(TimeDelta::seconds(7384)), "2h 03m 04s");
    assert_eq!(human(TimeDelta::seconds(3 * 86_400 + 4 * 3600 + 5 * 60 + 6)), "3d 04h 05m");
    assert_eq!(human(TimeDelta::seconds(-5)), "0s");
}
