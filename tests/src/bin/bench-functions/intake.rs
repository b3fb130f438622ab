//! HR's front door: the intake function's signed request, and `onboarding serve` under load.

use super::*;

pub(crate) const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The intake's world, as the stack makes it: its signing secret, its dedupe table, the HR bus.
/// Returns its configuration.
pub(crate) async fn intake_setup(acct: &Account, cfg: &shared::config::Config) -> String {
    let secret_arn = acct.intake_world(SECRET, "bench-webhooks", "bench-hr").await;
    let mut cfg = cfg.clone();
    cfg.intake = shared::config::IntakeConfig {
        sources: vec![shared::config::IntakeSource {
            name: "workday".into(),
            secrets: vec![secret_arn],
            secret_env: None,
            secret_file: None,
        }],
        dedupe_table: Some("bench-webhooks".into()),
        event_bus: Some("bench-hr".into()),
        ..Default::default()
    };
    toml::to_string(&cfg).expect("config as TOML")
}

pub(crate) fn webhook_body(id: &str) -> Vec<u8> {
    let e = event("depart-immediate.json", json!({"eventId": id, "employeeId": format!("X{id}")}));
    json!({"type": "employee.departed", "timestamp": e["time"], "data": e["detail"]}).to_string().into_bytes()
}

pub(crate) fn signature_headers(id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let now = chrono::Utc::now().timestamp();
    let sig = shared::webhook::SigningSecret::parse(SECRET).expect("secret").sign(id, now, body);
    vec![("webhook-id", id.to_owned()), ("webhook-timestamp", now.to_string()), ("webhook-signature", sig)]
}

/// A Function URL event: a signed departure of nobody (accepted, handed on).
pub(crate) fn signed_request(id: &str) -> Value {
    let body = webhook_body(id);
    let headers: serde_json::Map<String, Value> =
        signature_headers(id, &body).into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
    json!({
        "rawPath": "/hooks/workday",
        "headers": headers,
        "requestContext": {"http": {"method": "POST"}},
        "body": String::from_utf8_lossy(&body),
        "isBase64Encoded": false,
    })
}

/// `onboarding serve` (release) under 1,000 signed requests from 16 clients: requests per second
/// and answer latency, then the time to finish the accepted events after SIGTERM.
pub(crate) fn serve_load(acct: &Account, dir: &Path, toml: &str) -> Result<String, String> {
    use std::io::BufRead;
    const REQUESTS: usize = 1_000;
    const CLIENTS: usize = 16;
    let config = tests::scratch().join("bench-serve.toml");
    let mut cfg: shared::config::Config = shared::config::Config::parse(toml, "bench").map_err(|e| e.to_string())?;
    cfg.intake.sources = vec![shared::config::IntakeSource {
        name: "workday".into(),
        secrets: Vec::new(),
        secret_env: Some("BENCH_SIGNING_SECRET".into()),
        secret_file: None,
    }];
    std::fs::write(&config, toml::to_string(&cfg).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let mut serve = acct.command(dir.join("onboarding"));
    serve
        .arg("--config")
        .arg(&config)
        .args(["--format", "json", "serve", "--listen", "127.0.0.1:0", "--queue", "2000"])
        .env("BENCH_SIGNING_SECRET", SECRET)
        .stderr(Stdio::inherit());
    let (mut child, said, out) = tests::spawn_announcing(&mut serve, &["listening on http://"])?;
    let addr = said[0].clone();
    let drain = std::thread::spawn(move || out.lines().count());
    let started = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let addr = &addr;
                scope.spawn(move || {
                    let mut lat = Vec::new();
                    for i in (c..REQUESTS).step_by(CLIENTS) {
                        let id = format!("load-{i}");
                        let body = webhook_body(&id);
                        let t = Instant::now();
                        let (status, _) =
                            tests::http::request(addr, "POST", "/hooks/workday", &signature_headers(&id, &body), &body);
                        lat.push(t.elapsed());
                        assert_eq!(status, 202, "{id}");
                    }
                    lat
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("client")).collect()
    });
    let answered = started.elapsed();
    let stop = Instant::now();
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let processed = drain.join().map_err(|_| "drain")?;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)].as_secs_f64() * 1e3;
    Ok(format!(
        "onboarding serve: {REQUESTS} signed requests from {CLIENTS} clients answered in {:.1} s ({:.0} requests/s; \
         answer p50 {:.1} ms, p99 {:.1} ms); after SIGTERM it finished the {processed} accepted events in {:.1} s \
         (exit {:?})",
        answered.as_secs_f64(),
        REQUESTS as f64 / answered.as_secs_f64(),
        at(0.5),
        at(0.99),
        stop.elapsed().as_secs_f64(),
        status.code()
    ))
}
