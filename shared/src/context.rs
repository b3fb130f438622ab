//! What every step runs with, built once per process: the config, the clients, the resolved
//! targets, and the run's options (dry run, clock, the guard's override).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::audit::AuditRecord;
use crate::aws::Aws;
use crate::config::Config;
use crate::error::Error;
use crate::intent::Request;

/// Where names in the config point, resolved once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub notifications_topic_arn: String,
    pub audit_topic_arn: String,
    pub boundary_arn: String,
    /// The roles' boundary a departure writes leavers into (`iam.role_sessions_boundary`).
    pub role_sessions_boundary_arn: Option<String>,
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
        let policy = |name: String, kind| async move {
            if name.starts_with("arn:") {
                return Ok(name);
            }
            aws.iam.find_local_policy(&name).await?.ok_or(Error::Missing {
                kind,
                name,
                hint: "create it (`onboarding bootstrap`) or give its ARN",
            })
        };
        if cfg.identity_center_target().is_some() {
            // Identity Store users carry no boundary; their access is the permission sets'.
            return Ok(Self {
                notifications_topic_arn: topic(cfg.topics.notifications.clone()).await?,
                audit_topic_arn: topic(cfg.topics.audit.clone()).await?,
                boundary_arn: String::new(),
                role_sessions_boundary_arn: None,
                require_boundary: false,
            });
        }
        let boundary_arn = policy(cfg.iam.permissions_boundary.clone(), "permissions boundary policy").await?;
        let role_sessions_boundary_arn = match &cfg.iam.role_sessions_boundary {
            Some(name) => Some(policy(name.clone(), "role sessions boundary policy").await?),
            None => None,
        };
        let require_boundary = cfg.iam.require_boundary.unwrap_or(!aws.custom_endpoint);
        if !require_boundary {
            tracing::warn!("users are recognised without checking their permissions boundary (iam.require_boundary)");
        }
        Ok(Self {
            notifications_topic_arn: topic(cfg.topics.notifications.clone()).await?,
            audit_topic_arn: topic(cfg.topics.audit.clone()).await?,
            boundary_arn,
            role_sessions_boundary_arn,
            require_boundary,
        })
    }
}

/// The Identity Center a context's flows act on (`target.kind = "identity-center"`): the
/// clients, paced, and the instance and identity store, resolved once.
#[cfg(feature = "identity-center")]
#[derive(Debug, Clone)]
pub struct IdentityCenterTarget {
    pub ic: crate::aws::identity_center::IdentityCenter,
    pub instance: crate::aws::identity_center::Instance,
    pub people_table: String,
    pub portal_url: String,
    /// `identity_center.skip_user_updates`.
    pub skip_user_updates: Option<bool>,
    /// How long a leaver's revocation stays in the permission sets' deny list: the longest
    /// session a managed permission set gives, plus an hour (`IdentityCenterConfig::session_window_hours`).
    pub session_window_hours: i64,
    /// Group ids by display name, read once per process (a group's id never changes; one that
    /// is gone makes a join fail, which forgets them all).
    pub group_ids: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
}

#[cfg(feature = "identity-center")]
impl IdentityCenterTarget {
    /// The id of the group with this display name (one `GetGroupId` per process and group).
    pub async fn group_id(&self, display_name: &str) -> Result<String, Error> {
        let known = self.group_ids.lock().ok().and_then(|m| m.get(display_name).cloned());
        if let Some(id) = known {
            return Ok(id);
        }
        let id =
            self.ic.group_id(&self.instance.identity_store_id, display_name).await?.ok_or_else(|| Error::Missing {
                kind: "Identity Store group",
                name: display_name.to_owned(),
                hint: "create it (`onboarding bootstrap`) or remove it from the config",
            })?;
        if let Ok(mut m) = self.group_ids.lock() {
            m.insert(display_name.to_owned(), id.clone());
        }
        Ok(id)
    }

    /// Whether a change leaves the Identity Store user's own attributes alone (see the config key).
    pub fn skip_user_updates(&self, aws: &crate::aws::Aws) -> bool {
        self.skip_user_updates.unwrap_or(aws.custom_endpoint)
    }

    /// Forgets the group ids read so far.
    pub fn forget_group_ids(&self) {
        if let Ok(mut m) = self.group_ids.lock() {
            m.clear();
        }
    }
}

/// What a flow is asked to do, for [`Ctx::serves`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    Hire,
    Change,
    Departure,
    Sweep,
}

/// Everything a step needs, built once per process.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub cfg: Config,
    pub aws: Aws,
    pub targets: Targets,
    /// Plan only: read, never write, publish nothing.
    pub dry_run: bool,
    /// This context's clock: what actions are stamped with (tags, tombstones, secrets) and,
    /// unless `due_at` says otherwise, what due dates are compared with. The real clock when
    /// `None` (always, in a Lambda and in the CLI); tests set it to live at another instant.
    pub now: Option<DateTime<Utc>>,
    /// The instant due dates are compared with, when it is not the clock: the CLI's `--now`.
    /// Never stamped anywhere, so no record says something happened at that instant.
    pub due_at: Option<DateTime<Utc>>,
    /// Lets this run pass the mass-departure guard (the operator's explicit override).
    pub allow_mass_offboarding: bool,
    /// How many people a run or a sweep works on at once (each person's events stay in order;
    /// `shared::lanes`). One in a Lambda: each invocation is one event.
    pub concurrency: usize,
    /// The Identity Center the flows act on, when it is the target ([`Ctx::with_identity_center`]).
    #[cfg(feature = "identity-center")]
    pub identity_center: Option<std::sync::Arc<IdentityCenterTarget>>,
}

impl Ctx {
    pub fn new(cfg: Config, aws: Aws, targets: Targets) -> Self {
        Self {
            cfg,
            aws,
            targets,
            dry_run: false,
            now: None,
            due_at: None,
            allow_mass_offboarding: false,
            concurrency: 1,
            #[cfg(feature = "identity-center")]
            identity_center: None,
        }
    }

    /// Connects the context to the configured Identity Center, when it is the target: its
    /// clients (one pace, `identity_center.max_tps`) and its instance, discovered when the config
    /// does not name it. No call for the IAM target.
    #[cfg(feature = "identity-center")]
    pub async fn with_identity_center(mut self, sdk: &aws_config::SdkConfig) -> Result<Self, Error> {
        let Some(ic_cfg) = self.cfg.identity_center_target() else { return Ok(self) };
        let ic = crate::aws::identity_center::IdentityCenter::new(sdk, ic_cfg.max_tps, self.cfg.retry_policy());
        let instance = ic.instance(ic_cfg).await?;
        let target = IdentityCenterTarget {
            ic,
            instance,
            people_table: ic_cfg.people_table.clone(),
            portal_url: ic_cfg.portal_url.clone(),
            skip_user_updates: ic_cfg.skip_user_updates,
            session_window_hours: ic_cfg.session_window_hours(),
            group_ids: Default::default(),
        };
        self.identity_center = Some(std::sync::Arc::new(target));
        Ok(self)
    }

    /// Refuses work the configured target's flows cannot do here. IAM: every flow, everywhere.
    /// Identity Center: every flow in a process connected to it ([`Ctx::with_identity_center`]:
    /// the operator CLI and the step functions); a binary built without it refuses everything.
    pub fn serves(&self, work: Work) -> Result<(), Error> {
        if self.cfg.identity_center_target().is_none() {
            return Ok(());
        }
        #[cfg(feature = "identity-center")]
        let connected = self.identity_center.is_some();
        #[cfg(not(feature = "identity-center"))]
        let connected = false;
        if connected {
            return Ok(());
        }
        Err(Error::Conflict(format!(
            "target.kind = \"identity-center\": this binary is built without the `identity-center` feature, so it \
             cannot do {}; build it with that feature (the shipped functions and `onboarding` are), or set \
             target.kind = \"iam\"",
            match work {
                Work::Hire => "a hire",
                Work::Change => "a change",
                Work::Departure => "a departure",
                Work::Sweep => "the sweep",
            }
        )))
    }

    /// The clock: the time an action is stamped with.
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// The instant due dates are compared with: `due_at`, else the clock.
    pub fn due_now(&self) -> DateTime<Utc> {
        self.due_at.unwrap_or_else(|| self.now())
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
        self.serves(match req {
            Request::Hire(_) => Work::Hire,
            Request::Change(_) => Work::Change,
            Request::Depart(_) => Work::Departure,
        })?;
        crate::event::check_time(req.meta(), self.now())?;
        Ok(req)
    }

    /// Publishes an audit record (not in a dry run); inside [`Ctx::batched`], keeps it for the
    /// batch.
    pub async fn audit(&self, record: &AuditRecord) -> Result<(), Error> {
        if self.dry_run {
            return Ok(());
        }
        if BATCH.try_with(|b| b.borrow_mut().push(record.clone())).is_ok() {
            return Ok(());
        }
        self.aws.sns.audit(&self.targets.audit_topic_arn, record).await
    }

    /// Publishes an alert (the guard's, a changed boundary's): one that cannot go out is logged in
    /// full (`audit record undelivered`, alarmed in the stack) and returned, so work that must not
    /// wait for the trail (a sweep's disables) can go on.
    pub async fn alert(&self, record: &AuditRecord) -> Result<(), Error> {
        self.audit(record).await.inspect_err(|e| crate::audit::undelivered_record(record, e))
    }

    /// Runs `work` with the audit records it makes published together when it ends, ten to an
    /// SNS `PublishBatch`, whatever its result: a Lambda batches one step, the in-process
    /// pipeline one whole delivery (every step's records and the terminal one), so records reach
    /// the topic in a call or two instead of one each. A record SNS does not take is logged in
    /// full (`audit record undelivered`, alarmed) and the second value is `AuditUndelivered`.
    /// The cost: a process that dies inside `work` loses its records (the rerun records the same
    /// actions as `already-done`).
    pub async fn batch<T>(&self, work: impl std::future::Future<Output = T>) -> (T, Result<(), Error>) {
        let run = async {
            let out = Box::pin(work).await;
            (out, BATCH.with(|b| b.take()))
        };
        let (out, records) = BATCH.scope(std::cell::RefCell::new(Vec::new()), run).await;
        if records.is_empty() {
            return (out, Ok(()));
        }
        let undelivered = self.aws.sns.audit_batch(&self.targets.audit_topic_arn, &records).await;
        for (record, e) in &undelivered {
            crate::audit::undelivered_record(record, e);
        }
        let delivered = match undelivered.first() {
            Some((_, e)) => Err(Error::AuditUndelivered { count: undelivered.len(), cause: e.to_string() }),
            None => Ok(()),
        };
        (out, delivered)
    }

    /// [`Ctx::batch`] for a step: one that succeeded fails with `AuditUndelivered` when its
    /// records were not taken, as a revocation's held records do.
    pub async fn batched<T>(&self, step: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.batch(step).await {
            (Ok(_), Err(e)) => Err(e),
            (result, _) => result,
        }
    }
}

impl crate::intake::Audit for Ctx {
    async fn audit(&self, record: &AuditRecord) -> Result<(), Error> {
        Ctx::audit(self, record).await
    }
}

tokio::task_local! {
    /// The audit records of the step running in this task, when it runs in [`Ctx::batched`].
    static BATCH: std::cell::RefCell<Vec<AuditRecord>>;
}
