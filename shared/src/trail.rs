//! A step's record of what it does, and the one idiom for "do it and record it" ([`Trail::apply`]).

use chrono::Utc;

use crate::audit::{Action, AuditRecord, Ids, Outcome};
use crate::context::Ctx;
use crate::error::Error;
use crate::event::EventMeta;
use crate::flow::Step;

/// A step's record of what it does: each action is recorded as it happens, and published at once
/// or, inside [`Ctx::batch`] (a Lambda's step, a whole delivery in process), with the other
/// records when that ends, failed or not; so the trail is complete even when a later call fails.
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

    /// Makes a change and records it: `done`, `already-done` when the call found it made (a
    /// concurrent delivery, a retry), or `would-do` without making it in a dry run.
    pub async fn apply<T: Changed>(
        &mut self,
        action: &str,
        target: &str,
        change: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<(), Error> {
        let outcome = match self.ctx.dry_run {
            true => Outcome::WouldDo,
            false if change.await?.changed() => Outcome::Done,
            false => Outcome::AlreadyDone,
        };
        self.record(action, target, outcome).await
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
                crate::audit::undelivered_record(&record, &e);
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

/// Whether a change call changed anything: `()` did; a `bool` is `false` when the call found
/// the work done (a delete answered `NoSuchEntity`, a deletion already scheduled).
pub trait Changed {
    fn changed(&self) -> bool;
}

impl Changed for () {
    fn changed(&self) -> bool {
        true
    }
}

impl Changed for bool {
    fn changed(&self) -> bool {
        *self
    }
}
