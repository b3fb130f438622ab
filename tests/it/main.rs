//! The integration tests: one binary, modules inside (each test binary relinks the AWS SDK).

mod cli;
mod crash;
mod events;
mod faults;
mod identity_center;
mod infra;
mod intake;
mod lambda_binaries;
mod lifecycle;
mod pipeline;
mod reviews;
mod secrets;
mod trail;
mod trust;
