//! The `reviews` Lambda, behind a Function URL (auth by the reviewer's signed link): the access
//! reviews' page and JSON API, and the reviewers' links, signed and sent when the reviews table's
//! stream says a campaign asked for them. Wiring only: the answers are
//! `shared::drivers::review::api`'s, the same as `onboarding serve`'s. Reads the review key once
//! per cold start; it is the only principal that may (the secret's resource policy). Never calls IAM.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use shared::aws::{Aws, Trust};
use shared::context::{Ctx, Targets};
use shared::review::token::Key;

#[tokio::main(flavor = "current_thread")] // one invocation at a time: no worker threads to start
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber(); // honours AWS_LAMBDA_LOG_FORMAT=JSON
    let cfg = shared::config::Config::from_env()?;
    let sdk = shared::aws::load_sdk_config(&cfg, Trust::AmazonRoots).await;
    let aws = Aws::new(&sdk, cfg.retry_policy());
    let secret = cfg.review.key_secret.clone().ok_or("review.key_secret: the stack names the review key's secret")?;
    let key = Key::new(aws.secrets.value(&secret).await?.expose().as_bytes(), "review.key_secret")?;
    let targets = Targets::resolve(&cfg, &aws).await?;
    let ctx = Ctx::new(cfg, aws, targets);
    run(service_fn(|ev: LambdaEvent<Value>| {
        let (ctx, key) = (&ctx, &key);
        async move {
            let answer = shared::drivers::review::api::function(ctx, key, &ev.payload, chrono::Utc::now()).await;
            answer.map_err(|e| Error::from(e.to_string()))
        }
    }))
    .await
}
