//! The `record` Lambda: every deployed flow's last step, at every end (succeeded, ignored, held,
//! failed). Builds the event's terminal audit record from the state with the same code the
//! in-process pipeline uses (`shared::steps::record`) and publishes it. Wiring only.

use lambda_runtime::{Error, run, service_fn};
use shared::steps::Step;

#[tokio::main(flavor = "current_thread")] // one invocation at a time: no worker threads to start
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber(); // honours AWS_LAMBDA_LOG_FORMAT=JSON
    let ctx = shared::lambda::init().await?; // config, SDK clients, ARNs: once per cold start
    run(service_fn(|ev| shared::lambda::handle(&ctx, Step::Record, ev))).await
}
