//! The onboarding steps. Each is one Lambda binary's behaviour, also run in process by the CLI
//! and the tests. A step takes the [`State`] (the HR event plus the outputs of earlier steps, as
//! a state machine hands it over) and returns its own typed output.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{Action, AuditRecord, Ids, Outcome};
use crate::aws::Aws;
use crate::config::Config;
use crate::error::Error;
use crate::intent::Intent;

pub mod create_user;
pub mod join_groups;
pub mod notify;
#[cfg(feature = "secrets")]
pub mod store_password;
pub mod tag_user;

pub use create_user::CreateUserOutput;
pub use join_groups::JoinGroupsOutput;
pub use notify::NotifyOutput;
pub use tag_user::TagUserOutput;

/// A step of the onboarding pipeline. The name is the Lambda binary's and crate's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    CreateUser,
    JoinGroups,
    TagUser,
    StorePassword,
    Notify,
}

/// The one definition of the onboarding order. The CLI runs it; the state machine is to be
/// generated from it.
pub const ONBOARD: [Step; 5] = [Step::CreateUser, Step::JoinGroups, Step::TagUser, Step::StorePassword, Step::Notify];

impl Step {
    /// Binary, crate and Lambda name.
    pub const fn name(self) -> &'static str {
        match self {
            Step::CreateUser => "create-user",
            Step::JoinGroups => "join-groups",
            Step::TagUser => "tag-user",
            Step::StorePassword => "store-password",
            Step::Notify => "notify",
        }
    }

    /// Where the step's output lives in the [`State`] (a state machine's `ResultPath`).
    pub const fn state_key(self) -> &'static str {
        match self {
            Step::CreateUser => "createUser",
            Step::JoinGroups => "joinGroups",
            Step::TagUser => "tagUser",
            Step::StorePassword => "storePassword",
            Step::Notify => "notify",
        }
    }
}

/// What flows between steps: the event and every earlier step's output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub event: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_user: Option<CreateUserOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_groups: Option<JoinGroupsOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_user: Option<TagUserOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_password: Option<StorePasswordOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyOutput>,
}

impl State {
    pub fn new(event: Value) -> Self {
        Self { event, ..Self::default() }
    }

    /// Accepts either a state (`{"event": ..., "createUser": ...}`) or a bare HR event.
    pub fn from_input(input: Value) -> Result<Self, Error> {
        if input.get("detail-type").is_some() {
            return Ok(Self::new(input));
        }
        serde_json::from_value(input)
            .map_err(|e| Error::Input(format!("expected {{\"event\": ..}} with earlier step outputs: {e}")))
    }

    /// The created user, which every step after `create-user` needs.
    pub fn user(&self) -> Result<&CreateUserOutput, Error> {
        self.create_user.as_ref().ok_or_else(|| Error::Input("`createUser` is missing: run create-user first".into()))
    }

    /// Every action recorded so far, in step order.
    pub fn actions(&self) -> Vec<Action> {
        let mut all = Vec::new();
        if let Some(o) = &self.create_user {
            all.extend(o.actions.iter().cloned());
        }
        if let Some(o) = &self.join_groups {
            all.extend(o.actions.iter().cloned());
        }
        if let Some(o) = &self.tag_user {
            all.extend(o.actions.iter().cloned());
        }
        if let Some(o) = &self.store_password {
            all.extend(o.actions.iter().cloned());
        }
        if let Some(o) = &self.notify {
            all.extend(o.actions.iter().cloned());
        }
        all
    }
}

/// Output of `store-password`. Holds ARNs and names, never a secret value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorePasswordOutput {
    /// Secret holding the initial console password (console access).
    pub password_secret_arn: Option<String>,
    pub password_secret_name: Option<String>,
    /// Secret holding the initial access key (programmatic access).
    pub access_key_secret_arn: Option<String>,
    pub access_key_secret_name: Option<String>,
    pub actions: Vec<Action>,
}

/// Where names in the config point, resolved once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub notifications_topic_arn: String,
    pub audit_topic_arn: String,
    pub boundary_arn: String,
}

impl Targets {
    /// Resolves topic and policy names to ARNs (no call where the config already gives ARNs).
    pub async fn resolve(cfg: &Config, aws: &Aws) -> Result<Self, Error> {
        let topic = |name: String| async move {
            if name.starts_with("arn:") {
                return Ok(name);
            }
            aws.sns.find_topic(&name).await?.ok_or(Error::Missing {
                kind: "SNS topic",
                name,
                hint: "create it (`onboarding bootstrap`) or give its ARN",
            })
        };
        let boundary = &cfg.iam.permissions_boundary;
        let boundary_arn = if boundary.starts_with("arn:") {
            boundary.clone()
        } else {
            aws.iam.find_local_policy(boundary).await?.ok_or(Error::Missing {
                kind: "permissions boundary policy",
                name: boundary.clone(),
                hint: "create it (`onboarding bootstrap`) or give its ARN",
            })?
        };
        Ok(Self {
            notifications_topic_arn: topic(cfg.topics.notifications.clone()).await?,
            audit_topic_arn: topic(cfg.topics.audit.clone()).await?,
            boundary_arn,
        })
    }
}

/// Everything a step needs, built once per process.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub cfg: Config,
    pub aws: Aws,
    pub targets: Targets,
    /// Plan only: read, never write, publish nothing.
    pub dry_run: bool,
}

impl Ctx {
    /// Publishes an audit record (not in a dry run).
    pub async fn audit(&self, record: &AuditRecord) -> Result<(), Error> {
        if self.dry_run {
            return Ok(());
        }
        let body = serde_json::to_string(record).map_err(|e| Error::Input(e.to_string()))?;
        let mut attrs =
            vec![("step", record.step.as_str()), ("outcome", record.outcome.as_str()), ("event-type", "audit")];
        if let Some(e) = &record.employee_id {
            attrs.push(("employee-id", e));
        }
        self.aws.sns.publish(&self.targets.audit_topic_arn, None, &body, &attrs).await?;
        Ok(())
    }
}

/// A step's record of what it does: each action is audited as it happens, so the trail is
/// complete even when a later call fails.
pub(crate) struct Trail<'a> {
    ctx: &'a Ctx,
    ids: Ids,
    step: Step,
    pub actions: Vec<Action>,
}

impl<'a> Trail<'a> {
    pub fn new(ctx: &'a Ctx, intent: &Intent, step: Step) -> Self {
        let m = &intent.hire.meta;
        Self {
            ctx,
            ids: Ids {
                event_id: Some(m.event_id.clone()),
                employee_id: Some(m.employee_id.clone()),
                detail_type: Some(m.detail_type.clone()),
            },
            step,
            actions: Vec::new(),
        }
    }

    pub fn dry_run(&self) -> bool {
        self.ctx.dry_run
    }

    /// The outcome for a change about to be made: `would-do` in a dry run, else `done`.
    pub fn change(&self) -> Outcome {
        if self.ctx.dry_run { Outcome::WouldDo } else { Outcome::Done }
    }

    pub async fn record(&mut self, action: &str, target: &str, outcome: Outcome) -> Result<(), Error> {
        let a = Action { step: self.step.name().into(), action: action.into(), target: target.into(), outcome };
        tracing::info!(step = self.step.name(), action, target, outcome = ?outcome, "action");
        self.ctx.audit(&AuditRecord::for_action(&self.ids, &a, Utc::now())).await?;
        self.actions.push(a);
        Ok(())
    }
}

/// Runs one step against the state and stores its output there; returns the output as JSON.
pub async fn run(step: Step, ctx: &Ctx, state: &mut State) -> Result<Value, Error> {
    fn json<T: Serialize>(o: &T) -> Result<Value, Error> {
        serde_json::to_value(o).map_err(|e| Error::Input(format!("step output: {e}")))
    }
    match step {
        Step::CreateUser => {
            let o = create_user::run(ctx, state).await?;
            json(state.create_user.insert(o))
        }
        Step::JoinGroups => {
            let o = join_groups::run(ctx, state).await?;
            json(state.join_groups.insert(o))
        }
        Step::TagUser => {
            let o = tag_user::run(ctx, state).await?;
            json(state.tag_user.insert(o))
        }
        #[cfg(feature = "secrets")]
        Step::StorePassword => {
            let o = store_password::run(ctx, state).await?;
            json(state.store_password.insert(o))
        }
        #[cfg(not(feature = "secrets"))]
        Step::StorePassword => {
            Err(Error::Input("store-password needs the `secrets` feature of the shared crate".into()))
        }
        Step::Notify => {
            let o = notify::run(ctx, state).await?;
            json(state.notify.insert(o))
        }
    }
}
