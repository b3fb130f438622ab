//! HR's front door, served locally: `onboarding serve` driven over real HTTP with signed
//! webhooks (Standard Webhooks v1), every answer code, hires that become users, a replay that
//! creates nothing, a shutdown that loses no accepted event, and a load of 1,000 requests from 16
//! concurrent clients.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::webhook::SigningSecret;
use tests::http::request;
use tests::{Account, binary, event, scratch, user_names};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const ROTATED: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJtD3bMCAtJOx";

/// `onboarding serve` on a free port, its stdout lines collected as they come.
struct Served {
    child: Child,
    addr: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Starts it for `acct` with source `workday`, whose secrets (two: a rotation) are in an
    /// environment variable.
    fn start(acct: &Account) -> Self {
        let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config");
        let config = scratch().join(format!("serve-{}.toml", acct.id));
        let fast = shipped.replace("base_delay_ms = 200\nmax_delay_ms = 5000", "base_delay_ms = 5\nmax_delay_ms = 50");
        let source = "\n[[intake.sources]]\nname = \"workday\"\nsecret_env = \"WORKDAY_SIGNING_SECRET\"\n";
        std::fs::write(&config, format!("{fast}{source}")).expect("config file");
        let mut child = acct
            .command(binary("onboarding"))
            .arg("--config")
            .arg(&config)
            .args(["--output", "json", "serve", "--listen", "127.0.0.1:0"])
            .env("WORKDAY_SIGNING_SECRET", format!("{SECRET} {ROTATED}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("onboarding serve");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first).expect("first line");
        let addr = first.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{first}")).to_owned();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().expect("lines").push(line);
            }
        });
        Self { child, addr, lines }
    }

    fn post(&self, source: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
        let (status, body) = request(&self.addr, "POST", &format!("/hooks/{source}"), headers, body);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// SIGTERM, then waits for the exit; returns the exit code and the reports printed.
    fn stop(mut self) -> (Option<i32>, Vec<Value>) {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().is_ok_and(|s| s.success()));
        let started = Instant::now();
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status.code();
            }
            assert!(started.elapsed() < Duration::from_secs(300), "serve did not stop");
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        let lines = self.lines.lock().expect("lines").clone();
        (code, lines.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect())
    }
}

/// A webhook body from a sample event: `data` is its `detail`.
fn body(file: &str, overrides: Value) -> Vec<u8> {
    let e = event(file, overrides);
    let kind = match e["detail-type"].as_str() {
        Some("Employee Hired") => "employee.hired",
        Some("Employee Changed") => "employee.changed",
        _ => "employee.departed",
    };
    json!({"type": kind, "timestamp": e["time"], "data": e["detail"]}).to_string().into_bytes()
}

fn signed(secret: &str, id: &str, ts: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let s = SigningSecret::parse(secret).expect("secret");
    vec![
        ("content-type", "application/json".into()),
        ("webhook-id", id.into()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", s.sign(id, ts, body)),
    ]
}

/// A case: its name, the status, outcome and field expected, and the answer got.
type Case = (&'static str, u16, &'static str, Option<&'static str>, (u16, Value));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_every_case_and_accepted_hires_become_users() {
    let acct = Account::new().await;
    let (_ctx, inboxes) = acct.ready(tests::config()).await;
    let served = Served::start(&acct);
    let now = chrono::Utc::now().timestamp();
    let hire = body("hire-engineering.json", json!({}));
    let hire2 = body("hire-finance-programmatic.json", json!({}));

    let cases: Vec<Case> = tokio::task::block_in_place(|| {
        vec![
            ("accepted", 202, "accepted", None, served.post("workday", &signed(SECRET, "msg_1", now, &hire), &hire)),
            ("replayed", 200, "accepted", None, served.post("workday", &signed(SECRET, "msg_1", now, &hire), &hire)),
            // The rotated secret signs too.
            ("rotated", 202, "accepted", None, served.post("workday", &signed(ROTATED, "msg_2", now, &hire2), &hire2)),
            ("tampered", 401, "unauthorized", Some("webhook-signature"), {
                let mut h = signed(SECRET, "msg_3", now, &hire);
                h[3].1 = SigningSecret::parse(SECRET).expect("s").sign("msg_3", now, b"{}");
                served.post("workday", &h, &hire)
            }),
            (
                "unknown source",
                401,
                "unauthorized",
                Some("source"),
                served.post("adp", &signed(SECRET, "msg_4", now, &hire), &hire),
            ),
            (
                "no signature",
                401,
                "unauthorized",
                Some("webhook-signature"),
                served.post("workday", &signed(SECRET, "msg_5", now, &hire)[..3], &hire),
            ),
            (
                "stale",
                400,
                "rejected",
                Some("webhook-timestamp"),
                served.post("workday", &signed(SECRET, "msg_6", now - 600, &hire), &hire),
            ),
            ("invalid field", 400, "rejected", Some("data.startDate"), {
                let bad = body("hire-engineering.json", json!({"startDate": "2026-13-01"}));
                served.post("workday", &signed(SECRET, "msg_7", now, &bad), &bad)
            }),
            ("too large", 413, "too-large", None, {
                let big = vec![b' '; 300 * 1024];
                served.post("workday", &signed(SECRET, "msg_8", now, &big), &big)
            }),
            ("get", 405, "method-not-allowed", None, {
                let (s, b) = request(&served.addr, "GET", "/hooks/workday", &[], b"");
                (s, serde_json::from_str(&b).unwrap_or(Value::Null))
            }),
            ("other path", 404, "not-found", None, {
                let (s, b) = request(&served.addr, "POST", "/events", &[], b"{}");
                (s, serde_json::from_str(&b).unwrap_or(Value::Null))
            }),
        ]
    });
    let first = cases[0].4.1.clone();
    for (name, status, outcome, field, (got_status, got)) in &cases {
        assert_eq!((got_status, got["outcome"].as_str()), (status, Some(*outcome)), "{name}: {got}");
        assert_eq!(got["field"].as_str(), *field, "{name}: {got}");
        let text = got.to_string();
        assert!(!text.contains(SECRET) && !text.contains("v1,"), "{name}: an answer quotes a secret or signature");
    }
    assert_eq!(cases[1].4.1, first, "a replay gets the first answer");

    let (code, reports) = tokio::task::block_in_place(|| served.stop());
    assert_eq!(code, Some(0), "{reports:?}");
    assert_eq!(reports.len(), 2, "the two accepted hires ran once each (the replay did not): {reports:#?}");
    assert!(reports.iter().all(|r| r["outcome"] == "succeeded"), "{reports:#?}");
    assert_eq!(user_names(&acct).await, ["jane.doe", "zoe.obrien-nunez"]);

    let records: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    let intake: Vec<&Value> = records.iter().filter(|r| r["step"] == "intake").collect();
    assert_eq!(intake.len(), cases.len(), "one audit record per request: {intake:#?}");
    assert_eq!(intake.iter().filter(|r| r["outcome"] == "done").count(), 2);
    assert_eq!(intake.iter().filter(|r| r["outcome"] == "already-done").count(), 1);
    let all = records.iter().map(Value::to_string).collect::<String>();
    assert!(!all.contains(SECRET) && !all.contains("Controller"), "no secret and no body in the audit trail");
}

/// 1,000 signed requests from 16 concurrent clients (one in ten repeats another's webhook-id):
/// every answer right, and every accepted event processed exactly once, the last ones after the
/// shutdown signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_under_load_loses_and_doubles_nothing() {
    const REQUESTS: usize = 1_000;
    const CLIENTS: usize = 16;
    let acct = Account::new().await;
    let (_ctx, _inboxes) = acct.ready(tests::config()).await;
    let served = Served::start(&acct);
    let now = chrono::Utc::now().timestamp();
    // Departures of people never hired: each is answered, handed on, and ignored by the pipeline.
    let request_of = |i: usize| {
        let n = if i % 10 == 9 { i - 9 } else { i };
        let b =
            body("depart-immediate.json", json!({"eventId": format!("evt-{n}"), "employeeId": format!("E9{n:04}")}));
        // Ids ending in 0 are sent twice; either request may come first.
        (format!("msg_{n}"), b, n % 10 == 0)
    };
    let started = Instant::now();
    let wrong: Vec<String> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let served = &served;
            let workers: Vec<_> = (0..CLIENTS)
                .map(|c| {
                    scope.spawn(move || {
                        let mut wrong = Vec::new();
                        for i in (c..REQUESTS).step_by(CLIENTS) {
                            let (id, b, twice) = request_of(i);
                            // The other request with the id may be in flight in another client.
                            let (status, answer) = loop {
                                let got = served.post("workday", &signed(SECRET, &id, now, &b), &b);
                                if got.0 != 503 || !twice {
                                    break got;
                                }
                                std::thread::sleep(Duration::from_millis(20));
                            };
                            let want = if twice { [200, 202] } else { [202, 202] };
                            if !want.contains(&status) || answer["eventId"] != id.as_str() {
                                wrong.push(format!("{id}: {status} {answer}"));
                            }
                        }
                        wrong
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("client")).collect()
        })
    });
    let answered_in = started.elapsed();
    assert!(wrong.is_empty(), "{} wrong answers: {:?}", wrong.len(), &wrong[..wrong.len().min(5)]);
    let (code, reports) = tokio::task::block_in_place(|| served.stop());
    assert_eq!(code, Some(0));
    let mut ids: Vec<&str> = reports.iter().filter_map(|r| r["eventId"].as_str()).collect();
    ids.sort_unstable();
    let distinct = REQUESTS - REQUESTS / 10;
    assert_eq!(ids.len(), distinct, "every accepted event processed, none twice");
    ids.dedup();
    assert_eq!(ids.len(), distinct, "none twice");
    assert!(
        reports.iter().all(|r| r["outcome"] == "ignored"),
        "{:?}",
        reports.iter().find(|r| r["outcome"] != "ignored")
    );
    eprintln!("{REQUESTS} requests from {CLIENTS} clients answered in {answered_in:?}");
}
