//! The deployment: the state machines match the code's flows, the template passes cfn-lint, and
//! its permissions are least privilege (checked here, and the checker is shown to catch each
//! escalation path by feeding it one).

mod deploy;
mod docs;
mod flows;
mod template;
mod zips;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use shared::config::Config;
use shared::steps::Step;
use tests::asl::{self, Flow};
use tests::infra::{rendered, template};
use tests::root;

/// The template's resources of a type.
fn resources<'a>(t: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"].as_object().expect("resources").iter().filter(|(_, r)| r["Type"] == kind).collect()
}
