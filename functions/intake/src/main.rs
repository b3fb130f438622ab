//! The `intake` Lambda, behind a Function URL (auth by signature): HR's signed webhooks in,
//! events onto the HR bus. Wiring only: the answers are `shared::intake`'s, the same as
//! `onboarding serve`. Reads its signing secrets at the cold start and again every
//! `intake.secrets_ttl_seconds` (`shared::aws::intake::Door`); never calls IAM.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use shared::intake::{Request, from_function_url, to_function_url};

#[tokio::main(flavor = "current_thread")] // one invocation at a time: no worker threads to start
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber(); // honours AWS_LAMBDA_LOG_FORMAT=JSON
    let cfg = shared::config::Config::from_env()?;
    let sdk = shared::aws::load_sdk_config(&cfg, shared::aws::Trust::AmazonRoots).await;
    let door = shared::aws::intake::init(&cfg, &sdk).await?;
    run(service_fn(|ev: LambdaEvent<Value>| {
        let door = &door;
        async move {
            let (method, path, headers, body) = from_function_url(&ev.payload);
            let request = Request { method: &method, path: &path, headers: &headers, body: &body };
            let answer = door.handle(&request, chrono::Utc::now()).await;
            Ok::<Value, Error>(to_function_url(&answer))
        }
    }))
    .await
}
