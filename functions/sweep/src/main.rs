//! The `sweep` Lambda, run on a schedule: wiring only. Behaviour lives in
//! `shared::drivers::sweep`, shared with `onboarding sweep` and the tests.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")] // one invocation at a time: no worker threads to start
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber(); // honours AWS_LAMBDA_LOG_FORMAT=JSON
    let ctx = shared::lambda::init().await?; // config, SDK clients, ARNs: once per cold start
    run(service_fn(|ev| shared::lambda::handle_sweep(&ctx, ev))).await
}
