//! 1,000 hires in one `onboarding run`, every call behind a proxy that delays and throttles.

use super::*;

/// Many hires in one run, as a company's first import would send them: `BENCH_HIRES` (1,000)
/// console hires in one JSON Lines file, `onboarding run --concurrency BENCH_CONCURRENCY` (16)
/// (release), every AWS call 40 ms behind a proxy that also answers 10 % of them with the
/// service's throttling error. Checked: every hire succeeded, output order = input order, one
/// user per person.
pub(crate) async fn scale(dir: &Path) -> Result<String, String> {
    let hires: usize = std::env::var("BENCH_HIRES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let concurrency = std::env::var("BENCH_CONCURRENCY").unwrap_or_else(|_| "16".into());
    let acct = Account::new().await;
    // Bootstrapped, with no subscriber on the topics: the emulator delivers to subscribers inside
    // the publish call (AWS does not), which would add its fan-out to every audit publish.
    let mut cfg = config();
    let aws = shared::aws::Aws::new(&acct.sdk, cfg.retry_policy());
    onboarding::bootstrap::bootstrap(&cfg, &aws).await.map_err(|e| e.to_string())?;
    let targets = shared::steps::Targets::resolve(&cfg, &aws).await.map_err(|e| e.to_string())?;
    cfg.topics.notifications = targets.notifications_topic_arn.clone();
    cfg.topics.audit = targets.audit_topic_arn.clone();
    cfg.iam.permissions_boundary = targets.boundary_arn.clone();
    cfg.iam.role_sessions_boundary = targets.role_sessions_boundary_arn.clone();
    let scratch = tests::scratch().join(format!("bench-scale-{}", acct.id));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let config = scratch.join("onboarding.toml");
    std::fs::write(&config, toml::to_string(&cfg).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let file = hires_file(&scratch, hires, "scale", "S")?;
    let proxy = tests::proxy::CallProxy::start(&tests::emulator().endpoint);
    let share: f64 = std::env::var("BENCH_THROTTLE").ok().and_then(|v| v.parse().ok()).unwrap_or(0.10);
    proxy.degrade(Duration::from_millis(40), share);
    let started = Instant::now();
    let out = acct
        .command(dir.join("onboarding"))
        .arg("--config")
        .arg(&config)
        .args(["--format", "json", "--concurrency", &concurrency, "run"])
        .arg(&file)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    let reports: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
        .collect::<Result<_, _>>()?;
    let in_order = reports.iter().enumerate().all(|(i, r)| r["eventId"] == format!("scale-{i}"));
    let succeeded = reports.iter().filter(|r| r["outcome"] == "succeeded").count();
    let users = tests::user_names(&acct).await.len();
    if !out.status.success() || !in_order || succeeded != hires || users != hires {
        return Err(format!(
            "exit {:?}, in order {in_order}, {succeeded} of {hires} succeeded, {users} users",
            out.status.code()
        ));
    }
    let calls = proxy.take_calls().len();
    Ok(format!(
        "{hires} console hires in one run, --concurrency {concurrency}, every call 40 ms behind a proxy that \
         throttles {:.0} %: {:.1} s ({:.1} hires/s); {calls} calls ({:.1} per hire), {} throttled and retried; \
         all succeeded, none doubled, output in input order",
        share * 100.0,
        took.as_secs_f64(),
        hires as f64 / took.as_secs_f64(),
        calls as f64 / hires as f64,
        proxy.throttled()
    ))
}
