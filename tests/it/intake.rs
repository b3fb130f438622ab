//! HR's front door, served locally: `onboarding serve` driven over real HTTP with signed
//! webhooks (Standard Webhooks v1), every answer code, hires that become users, a replay that
//! creates nothing, a shutdown that loses no accepted event, and a load of 1,000 requests from 16
//! concurrent clients.

use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::webhook::SigningSecret;
use tests::http::request;
use tests::{Account, binary, event, scratch, spawn_announcing, user_names};

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
        let mut serve = acct.command(binary("onboarding"));
        serve
            .arg("--config")
            .arg(&config)
            .args(["--format", "json", "serve", "--listen", "127.0.0.1:0"])
            .env("WORKDAY_SIGNING_SECRET", format!("{SECRET} {ROTATED}"))
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        let (child, said, out) = spawn_announcing(&mut serve, &["listening on http://"]).expect("onboarding serve");
        let addr = said[0].clone();
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
    // A record for each request whose signature verified (the accepted three, the invalid field);
    // the seven refused before that are counted in one record a minute (flushed at shutdown).
    let intake: Vec<&Value> =
        records.iter().filter(|r| r["step"] == "intake" && r["action"] == "webhook:Receive").collect();
    assert_eq!(intake.len(), 4, "one record per signed request: {intake:#?}");
    assert_eq!(intake.iter().filter(|r| r["outcome"] == "done").count(), 2);
    assert_eq!(intake.iter().filter(|r| r["outcome"] == "already-done").count(), 1);
    let refused: Vec<&Value> = records.iter().filter(|r| r["action"] == "webhook:Refused").collect();
    assert!((1..=2).contains(&refused.len()), "one a minute: {refused:#?}");
    assert_eq!(refused.iter().filter_map(|r| r["count"].as_u64()).sum::<u64>(), 7, "{refused:#?}");
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

/// A Function URL event (payload format 2.0) for a POST, the body plain or base64-encoded.
fn function_url_event(path: &str, headers: &[(&str, String)], body: &[u8], base64: bool) -> Value {
    use base64::Engine;
    let headers: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    json!({
        "version": "2.0",
        "rawPath": path,
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": path}},
        "body": if base64 { base64::engine::general_purpose::STANDARD.encode(body) } else { String::from_utf8_lossy(body).into_owned() },
        "isBase64Encoded": base64,
    })
}

/// The `intake` binary under the Runtime API host, with its signing secret in Secrets Manager,
/// its dedupe table in DynamoDB and the HR bus in EventBridge: a signed hire is accepted (plain
/// body), its replay (base64 body) answered 200 from the table, a forgery 401; the one event it
/// put on the bus is read back through an SQS target of a rule, with the body's `data` as detail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intake_function_puts_verified_webhooks_on_the_bus_once() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(tests::config()).await;
    let secret_arn = acct.intake_world(SECRET, "employee-lifecycle-webhooks", "hr-events").await;
    let events = aws_sdk_eventbridge::Client::new(&acct.sdk);
    let queue = acct.sqs().create_queue().queue_name("hr-events-target").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_owned();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{}:hr-events-target", acct.id);
    events
        .put_rule()
        .name("hires")
        .event_bus_name("hr-events")
        .event_pattern(json!({"source": ["hr.workday"], "detail-type": ["Employee Hired"]}).to_string())
        .send()
        .await
        .expect("rule");
    events
        .put_targets()
        .rule("hires")
        .event_bus_name("hr-events")
        .targets(aws_sdk_eventbridge::types::Target::builder().id("q").arn(&queue_arn).build().expect("target"))
        .send()
        .await
        .expect("target");

    let shipped = std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config");
    let toml = format!(
        "{}\n[[intake.sources]]\nname = \"workday\"\nsecrets = [\"{secret_arn}\"]\n",
        shipped
            .replace("audit = \"onboarding-audit\"", &format!("audit = \"{}\"", ctx.targets.audit_topic_arn))
            .replace(
                "[intake]\n",
                // Signing secrets read again before every request: a revocation shows at once.
                "[intake]\ndedupe_table = \"employee-lifecycle-webhooks\"\nevent_bus = \"hr-events\"\nsecrets_ttl_seconds = 0\n"
            )
    );
    assert!(toml.contains("dedupe_table") && toml.contains(&ctx.targets.audit_topic_arn), "the config was edited");
    let intake = tests::runtime_api::Function::start("intake", acct.env(), &toml);

    let now = chrono::Utc::now().timestamp();
    let hire = body("hire-engineering.json", json!({}));
    let invoke = |ev: Value| match intake.api.invoke(ev, Duration::from_secs(30)) {
        Some(tests::runtime_api::Answer::Response(v)) => (
            v["statusCode"].as_u64().unwrap_or(0),
            serde_json::from_str::<Value>(v["body"].as_str().unwrap_or("")).unwrap_or(Value::Null),
        ),
        other => panic!("{other:?}\n{}", intake.log_text()),
    };
    let (first, again, forged) = tokio::task::block_in_place(|| {
        let h = signed(SECRET, "msg_1", now, &hire);
        let first = invoke(function_url_event("/hooks/workday", &h, &hire, false));
        let again = invoke(function_url_event("/hooks/workday", &h, &hire, true));
        let forged = invoke(function_url_event("/hooks/workday", &signed(ROTATED, "msg_2", now, &hire), &hire, false));
        (first, again, forged)
    });
    assert_eq!((first.0, first.1["outcome"].as_str()), (202, Some("accepted")), "{first:?}");
    assert_eq!((again.0, &again.1), (200, &first.1), "the replay gets the first answer");
    assert_eq!((forged.0, forged.1["field"].as_str()), (401, Some("webhook-signature")));

    let got =
        acct.sqs().receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.expect("receive");
    let put: Vec<Value> = got.messages().iter().filter_map(|m| serde_json::from_str(m.body()?).ok()).collect();
    assert_eq!(put.len(), 1, "one event on the bus: {put:#?}");
    let sent: Value = serde_json::from_slice(&hire).expect("json");
    assert_eq!(
        (put[0]["source"].as_str(), put[0]["detail-type"].as_str()),
        (Some("hr.workday"), Some("Employee Hired"))
    );
    assert_eq!(put[0]["detail"], sent["data"]);
    assert!(user_names(&acct).await.is_empty(), "the intake makes no user itself");
    let records: Vec<Value> =
        inboxes.audit.drain().await.iter().map(|m| m.json()).filter(|r| r["step"] == "intake").collect();
    // The forgery is counted, not recorded on its own (the function's next request in a later
    // minute would record the count; `serve` does the same and flushes at shutdown).
    let received: Vec<&Value> = records.iter().filter(|r| r["action"] == "webhook:Receive").collect();
    let outcomes: Vec<&str> = received.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["done", "already-done"]);
    // HR's secret leaked: the operator replaces it in Secrets Manager. The warm function reads
    // it again (here before every request; deployed, within `intake.secrets_ttl_seconds`), so
    // the old secret signs nothing more, and the new one does.
    acct.secrets().put_secret_value().secret_id(&secret_arn).secret_string(ROTATED).send().await.expect("rotate");
    let (revoked, renewed) = tokio::task::block_in_place(|| {
        let late = body("hire-finance-programmatic.json", json!({}));
        let old = invoke(function_url_event("/hooks/workday", &signed(SECRET, "msg_3", now, &late), &late, false));
        let new = invoke(function_url_event("/hooks/workday", &signed(ROTATED, "msg_4", now, &late), &late, false));
        (old, new)
    });
    assert_eq!((revoked.0, revoked.1["field"].as_str()), (401, Some("webhook-signature")), "{revoked:?}");
    assert_eq!(renewed.0, 202, "{renewed:?}");
    let logs = intake.log_text();
    assert!(logs.contains("webhook answered"), "the function's logs were captured");
    assert!(!logs.contains(SECRET.trim_start_matches("whsec_")), "the signing secret is never logged");
}
