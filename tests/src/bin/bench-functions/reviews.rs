//! The `reviews` function: its cold start reads the review key from Secrets Manager, as deployed
//! (so it is compared with the intake's, which reads its signing secret, not with the steps'), and
//! its first invocation answers a reviewer's page through a Function URL event.

use super::*;

/// The bench's review key; the stack generates the real one.
const KEY: &str = "bench-review-key-not-a-real-one-0123456789";
const CAMPAIGN: &str = "bench";
/// The manager in `events/hire-engineering.json`: the reviewer of that hire's access.
const REVIEWER: &str = "ada.lovelace@example.com";

/// A campaign over the account's people (one more hire, reviewed by its manager), started by the
/// release `onboarding` with the links asked of the function (the CLI holds no key, as deployed),
/// then [`RUNS`] cold starts of `reviews`, each answering the reviewer's page for a link signed
/// with the key it read at start. A page that is not a 200 naming the hire fails the bench.
pub(crate) async fn reviews_function(
    acct: &Account,
    ctx: &shared::steps::Ctx,
    dir: &Path,
    cfg: &shared::config::Config,
) -> Result<Vec<Sample>, String> {
    let hire = event("hire-engineering.json", json!({"eventId": "bench-review", "employeeId": "R1"}));
    if let Some(e) = shared::pipeline::process(ctx, &hire).await.error {
        return Err(format!("the reviewed hire: {e}"));
    }
    let secret = acct.secrets().create_secret().name("bench-reviews-key").secret_string(KEY).send().await;
    let secret = secret.map_err(|e| format!("the review key's secret: {e}"))?;
    let mut cfg = cfg.clone();
    cfg.review.key_secret = secret.arn().map(str::to_owned);
    cfg.review.links = shared::config::Links::Function;
    cfg.review.fallback_reviewer = Some("security@example.com".into());
    cfg.review.base_url = Some("https://reviews.example.com".into());
    let toml = toml::to_string(&cfg).map_err(|e| e.to_string())?;
    let file = tests::scratch().join(format!("bench-reviews-{}.toml", acct.id));
    std::fs::write(&file, &toml).map_err(|e| e.to_string())?;
    let out = acct
        .command(dir.join("onboarding"))
        .arg("--config")
        .arg(&file)
        .args(["review", "start", "--campaign", CAMPAIGN])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("onboarding review start: {e}"))?;
    if !out.status.success() {
        return Err(format!("onboarding review start: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let key = shared::review::token::Key::new(KEY.as_bytes(), "bench").map_err(|e| e.to_string())?;
    let token = key.issue(CAMPAIGN, REVIEWER, chrono::Utc::now() + chrono::TimeDelta::days(1));
    let path = format!("/reviews/{CAMPAIGN}");
    let page = json!({"version": "2.0", "rawPath": path, "rawQueryString": format!("token={token}"),
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
        "requestContext": {"http": {"method": "GET", "path": path}}, "body": "", "isBase64Encoded": false});
    let mut samples = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let (sample, output) = measure(acct, dir, "reviews", &toml, &page)?;
        let body = output["body"].as_str().unwrap_or_default();
        if output["statusCode"] != 200 || !body.contains("Jane Doe") {
            return Err(format!("run {run}: the page answered {} without the hire", output["statusCode"]));
        }
        samples.push(sample);
    }
    Ok(samples)
}
