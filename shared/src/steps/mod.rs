//! The lifecycle steps. Each is one Lambda binary's behaviour, also run in process by the CLI
//! and the tests. A step takes the [`State`] (the HR event plus the outputs of earlier steps, as
//! a state machine hands it over) and returns its own typed output.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{Action, AuditRecord, Ids, Outcome};
use crate::aws::Aws;
use crate::config::Config;
use crate::error::Error;
use crate::event::EventMeta;
use crate::intent::Request;
use crate::lifecycle::Status;

pub mod create_user;
pub mod identity;
pub mod join_groups;
pub mod notify;
#[cfg(feature = "secrets")]
pub mod offboard;
#[cfg(feature = "secrets")]
pub mod quarantine;
#[cfg(feature = "secrets")]
pub mod store_password;
#[cfg(feature = "secrets")]
pub mod sweep;
pub mod tag_user;

pub use create_user::CreateUserOutput;
pub use join_groups::JoinGroupsOutput;
pub use notify::NotifyOutput;
pub use tag_user::TagUserOutput;

/// A step. The name is the Lambda binary's and crate's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    CreateUser,
    JoinGroups,
    TagUser,
    StorePassword,
    Notify,
    Offboard,
    /// Not part of an event's flow: runs on a schedule over every managed user.
    Sweep,
}

/// The one definition of each flow's order. The pipeline runs them; `shared::asl` generates the
/// state machines from them.
pub const ONBOARD: [Step; 5] = [Step::CreateUser, Step::JoinGroups, Step::TagUser, Step::StorePassword, Step::Notify];
/// `Employee Changed`: find the user (never create), regroup, retag, re-issue a console password
/// the sweep withdrew unused (nothing otherwise), notify.
pub const CHANGE: [Step; 5] = [Step::CreateUser, Step::JoinGroups, Step::TagUser, Step::StorePassword, Step::Notify];
/// `Employee Departed`: disable now or schedule it.
pub const OFFBOARD: [Step; 1] = [Step::Offboard];

/// The flow for a request.
pub fn flow(req: &Request) -> &'static [Step] {
    match req {
        Request::Hire(_) => &ONBOARD,
        Request::Change(_) => &CHANGE,
        Request::Depart(_) => &OFFBOARD,
    }
}

impl Step {
    /// Binary, crate and Lambda name.
    pub const fn name(self) -> &'static str {
        match self {
            Step::CreateUser => "create-user",
            Step::JoinGroups => "join-groups",
            Step::TagUser => "tag-user",
            Step::StorePassword => "store-password",
            Step::Notify => "notify",
            Step::Offboard => "offboard",
            Step::Sweep => "sweep",
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
            Step::Offboard => "offboard",
            Step::Sweep => "sweep",
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offboard: Option<OffboardOutput>,
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

    /// The user to work on, or `None` when `create-user` decided the event changes nothing
    /// (an unknown employee, a stale event, a leaver): the later steps then do nothing.
    pub fn target(&self) -> Result<Option<&CreateUserOutput>, Error> {
        let u = self.user()?;
        Ok(if u.skipped.is_some() { None } else { Some(u) })
    }

    /// Why the event changes nothing, if a step decided so.
    pub fn skipped(&self) -> Option<&str> {
        self.create_user
            .as_ref()
            .and_then(|u| u.skipped.as_deref())
            .or_else(|| self.offboard.as_ref().and_then(|o| o.skipped.as_deref()))
    }

    /// The user's lifecycle status after the steps so far.
    pub fn status(&self) -> Option<Status> {
        self.offboard
            .as_ref()
            .and_then(|o| o.status)
            .or_else(|| self.tag_user.as_ref().and_then(|t| t.status))
            .or_else(|| self.create_user.as_ref().and_then(|u| u.status))
    }

    /// Every action recorded so far, in step order.
    pub fn actions(&self) -> Vec<Action> {
        [
            self.create_user.as_ref().map(|o| &o.actions),
            self.join_groups.as_ref().map(|o| &o.actions),
            self.tag_user.as_ref().map(|o| &o.actions),
            self.store_password.as_ref().map(|o| &o.actions),
            self.notify.as_ref().map(|o| &o.actions),
            self.offboard.as_ref().map(|o| &o.actions),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .cloned()
        .collect()
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

/// Output of `offboard`. `status` is the user's after the step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OffboardOutput {
    pub user_name: Option<String>,
    pub user_arn: Option<String>,
    pub status: Option<Status>,
    /// When access ends (RFC 3339), for a departure scheduled ahead.
    pub disable_at: Option<String>,
    /// When access ended (RFC 3339), once the user is disabled. Always present (null while
    /// none): the state machine's terminal record reads it.
    #[serde(default)]
    pub access_ended_at: Option<String>,
    /// Why nothing was done (unknown employee, not managed, protected, stale). Absent (not
    /// null) otherwise: the state machine's Choice tests for its presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why the mass-departure guard held the disable for an operator (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    pub actions: Vec<Action>,
}

/// Who a step works for, as the messages and credentials need it: from a hire event, or from
/// the user's tags when the sweep activates a pre-hire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub employee_id: String,
    pub first_name: String,
    pub full_name: String,
    pub email: String,
    pub manager_email: Option<String>,
    pub access: crate::event::Access,
    /// Seeds request tokens and marks the welcome: the hire's event id, or the sweep's.
    pub seed: String,
}

impl Person {
    pub fn from_hire(h: &crate::event::Hire) -> Self {
        Self {
            employee_id: h.meta.employee_id.clone(),
            first_name: h.first_name().to_owned(),
            full_name: format!("{} {}", h.first_name(), h.family_name),
            email: h.email.clone(),
            manager_email: h.manager_email.clone(),
            access: h.access,
            seed: h.meta.event_id.clone(),
        }
    }

    /// From the tags `tag-user` wrote; `None` when a tag the messages need is missing.
    pub fn from_tags(tags: &std::collections::BTreeMap<String, String>, seed: String) -> Option<Self> {
        use crate::tags::{ACCESS, DISPLAY_NAME, EMAIL, EMPLOYEE_ID, GIVEN_NAME, MANAGER_EMAIL};
        let access = tags.get(ACCESS).map(String::as_str).unwrap_or("console");
        Some(Self {
            employee_id: tags.get(EMPLOYEE_ID)?.clone(),
            first_name: tags.get(GIVEN_NAME)?.clone(),
            full_name: tags.get(DISPLAY_NAME).or(tags.get(GIVEN_NAME))?.clone(),
            email: tags.get(EMAIL)?.clone(),
            manager_email: tags.get(MANAGER_EMAIL).cloned(),
            access: crate::event::Access {
                console: access.contains("console"),
                programmatic: access.contains("programmatic"),
            },
            seed,
        })
    }
}

/// The user a step acts on.
#[derive(Debug, Clone, Copy)]
pub struct UserRef<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    /// False only in a dry run for a user not created yet.
    pub exists: bool,
}

/// Where names in the config point, resolved once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub notifications_topic_arn: String,
    pub audit_topic_arn: String,
    pub boundary_arn: String,
    /// Whether a user must carry `boundary_arn` to be this system's (`iam.require_boundary`;
    /// when unset, true unless the SDK talks to an emulator).
    pub require_boundary: bool,
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
        let require_boundary = cfg.iam.require_boundary.unwrap_or(!aws.custom_endpoint);
        if !require_boundary {
            tracing::warn!("users are recognised without checking their permissions boundary (iam.require_boundary)");
        }
        Ok(Self {
            notifications_topic_arn: topic(cfg.topics.notifications.clone()).await?,
            audit_topic_arn: topic(cfg.topics.audit.clone()).await?,
            boundary_arn,
            require_boundary,
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
    /// The instant due dates are compared with; the clock when `None` (always, in a Lambda).
    pub now: Option<DateTime<Utc>>,
    /// Lets this run pass the mass-departure guard (the operator's explicit override).
    pub allow_mass_offboarding: bool,
}

impl Ctx {
    pub fn new(cfg: Config, aws: Aws, targets: Targets) -> Self {
        Self { cfg, aws, targets, dry_run: false, now: None, allow_mass_offboarding: false }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// Whether service-specific credentials are left alone (see the config key).
    pub fn skip_service_specific_credentials(&self) -> bool {
        self.cfg.lifecycle.skip_service_specific_credentials.unwrap_or(self.aws.custom_endpoint)
    }

    /// The request an event makes, validated, including that its `time` is not ahead of this
    /// context's clock (see [`crate::event::check_time`]). Every step and the pipeline read
    /// events through here.
    pub fn request(&self, raw: &Value) -> Result<Request, Error> {
        let req = Request::from_event(&self.cfg, raw)?;
        crate::event::check_time(req.meta(), self.now())?;
        Ok(req)
    }

    /// Publishes an audit record (not in a dry run).
    pub async fn audit(&self, record: &AuditRecord) -> Result<(), Error> {
        if self.dry_run {
            return Ok(());
        }
        let body = serde_json::to_string(record).map_err(|e| Error::Input(e.to_string()))?;
        let kind = if record.outcome == Outcome::Quarantined && !record.terminal { "alert" } else { "audit" };
        let mut attrs =
            vec![("step", record.step.as_str()), ("outcome", record.outcome.as_str()), ("event-type", kind)];
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
    /// While revoking access, records wait here: a failing audit topic must not stop a
    /// revocation half-way ([`Trail::hold`], [`Trail::release`]).
    held: Option<Vec<AuditRecord>>,
}

impl<'a> Trail<'a> {
    pub fn new(ctx: &'a Ctx, meta: &EventMeta, step: Step) -> Self {
        Self::with_ids(ctx, Ids::of(meta), step)
    }

    /// The step whose trail this is.
    #[cfg(feature = "secrets")]
    pub fn step(&self) -> Step {
        self.step
    }

    pub fn with_ids(ctx: &'a Ctx, ids: Ids, step: Step) -> Self {
        Self { ctx, ids, step, actions: Vec::new(), held: None }
    }

    pub fn dry_run(&self) -> bool {
        self.ctx.dry_run
    }

    /// The outcome for a change about to be made: `would-do` in a dry run, else `done`.
    pub fn change(&self) -> Outcome {
        if self.ctx.dry_run { Outcome::WouldDo } else { Outcome::Done }
    }

    /// Makes a change and records it: `done`, or `would-do` without making it in a dry run.
    pub async fn apply<T>(
        &mut self,
        action: &str,
        target: &str,
        change: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<(), Error> {
        if !self.ctx.dry_run {
            change.await?;
        }
        self.record(action, target, self.change()).await
    }

    pub async fn record(&mut self, action: &str, target: &str, outcome: Outcome) -> Result<(), Error> {
        let a = Action { step: self.step.name().into(), action: action.into(), target: target.into(), outcome };
        tracing::info!(step = self.step.name(), action, target, outcome = ?outcome, "action");
        let record = AuditRecord::for_action(&self.ids, &a, Utc::now());
        match &mut self.held {
            Some(held) => held.push(record),
            None => self.ctx.audit(&record).await?,
        }
        self.actions.push(a);
        Ok(())
    }

    /// From now on, records are kept until [`Trail::release`] instead of published one by one.
    #[cfg(feature = "secrets")]
    pub fn hold(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// Publishes every held record (each with the SDK's retries) and stops holding. A record
    /// that cannot be published is logged in full at error level (`audit record undelivered`,
    /// which the stack's metric filter alarms on) and the step fails after all were tried.
    #[cfg(feature = "secrets")]
    pub async fn release(&mut self) -> Result<(), Error> {
        let mut undelivered = 0usize;
        let mut first: Option<Error> = None;
        for record in self.held.take().unwrap_or_default() {
            if let Err(e) = self.ctx.audit(&record).await {
                let json = serde_json::to_string(&record).unwrap_or_default();
                tracing::error!(record = %json, error = %e, "audit record undelivered");
                undelivered += 1;
                first.get_or_insert(e);
            }
        }
        match first {
            None => Ok(()),
            Some(e) => Err(Error::AuditUndelivered { count: undelivered, cause: e.to_string() }),
        }
    }
}

/// Runs one step against the state and stores its output there; returns the output as JSON.
pub async fn run(step: Step, ctx: &Ctx, state: &mut State) -> Result<Value, Error> {
    fn json<T: Serialize>(o: &T) -> Result<Value, Error> {
        serde_json::to_value(o).map_err(|e| Error::Input(format!("step output: {e}")))
    }
    match step {
        Step::CreateUser => {
            let o = Box::pin(create_user::run(ctx, state)).await?;
            json(state.create_user.insert(o))
        }
        Step::JoinGroups => {
            let o = Box::pin(join_groups::run(ctx, state)).await?;
            json(state.join_groups.insert(o))
        }
        Step::TagUser => {
            let o = Box::pin(tag_user::run(ctx, state)).await?;
            json(state.tag_user.insert(o))
        }
        #[cfg(feature = "secrets")]
        Step::StorePassword => {
            let o = Box::pin(store_password::run(ctx, state)).await?;
            json(state.store_password.insert(o))
        }
        #[cfg(not(feature = "secrets"))]
        Step::StorePassword => {
            Err(Error::Input("store-password needs the `secrets` feature of the shared crate".into()))
        }
        Step::Notify => {
            let o = Box::pin(notify::run(ctx, state)).await?;
            json(state.notify.insert(o))
        }
        #[cfg(feature = "secrets")]
        Step::Offboard => {
            let o = Box::pin(offboard::run(ctx, state)).await?;
            json(state.offboard.insert(o))
        }
        #[cfg(not(feature = "secrets"))]
        Step::Offboard => Err(Error::Input("offboard needs the `secrets` feature of the shared crate".into())),
        Step::Sweep => Err(Error::Input("the sweep is not an event step: run `onboarding sweep` or its Lambda".into())),
    }
}
