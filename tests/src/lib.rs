//! Test harness: the AWS emulator (moto's server, pinned, from the project venv), one fresh AWS
//! account per test, SQS inboxes subscribed to SNS topics, the emulator's request recording,
//! and log capture. Everything checks results through the AWS API with the real SDK clients.

use shared::config::Config;

mod account;
pub mod asl;
pub mod browser;
pub mod elf;
mod emulator;
pub mod http;
pub mod inbox;
pub mod infra;
mod logs;
mod paths;
pub mod policy;
pub mod proxy;
pub mod runtime_api;
pub mod simulator;
pub mod stack;

pub use account::*;
pub use emulator::*;
pub use inbox::Inbox;
pub use logs::*;
pub use paths::*;

pub const REGION: &str = "us-east-1";

/// The shipped configuration, with retry delays shortened for tests.
pub fn config() -> Config {
    let mut cfg = Config::load(&root().join("onboarding.toml")).expect("shipped config");
    cfg.retry.base_delay_ms = 5;
    cfg.retry.max_delay_ms = 50;
    cfg
}

/// A sample event from `events/`, with `detail` fields overridden.
pub fn event(file: &str, overrides: serde_json::Value) -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("events").join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("sample event is JSON");
    if let (Some(d), Some(o)) = (v["detail"].as_object_mut(), overrides.as_object()) {
        for (k, val) in o {
            d.insert(k.clone(), val.clone());
        }
    }
    v
}
