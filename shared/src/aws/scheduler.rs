//! EventBridge Scheduler: one one-time schedule per scheduled departure, so access ends within a
//! minute of `disable-at` instead of at the next hourly sweep (which stays as the safety net).

use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use chrono::{DateTime, Utc};

use super::{aws_error, built, is_code};
use crate::error::Error;

#[derive(Clone, Debug)]
pub struct Scheduler {
    client: Client,
}

/// What a schedule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTarget<'a> {
    /// The offboard state machine (or any target that takes the departure event).
    pub arn: &'a str,
    /// The role EventBridge Scheduler assumes to start it.
    pub role_arn: &'a str,
    /// The departure event, as the target takes it.
    pub input: &'a str,
}

impl Scheduler {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Creates the schedule to fire once at `at` (UTC), replacing one of the same name that says
    /// something else; it deletes itself after firing. Returns whether anything changed (a
    /// resend finds it as it should be).
    pub async fn put_once(&self, name: &str, at: DateTime<Utc>, target: &ScheduleTarget<'_>) -> Result<bool, Error> {
        let expression = format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"));
        match self.client.get_schedule().name(name).send().await {
            Ok(found) => {
                let same = found.schedule_expression() == Some(expression.as_str())
                    && found.target().is_some_and(|t| {
                        t.arn() == target.arn && t.role_arn() == target.role_arn && t.input() == Some(target.input)
                    });
                if same {
                    return Ok(false);
                }
            }
            Err(e) => {
                let e = aws_error("scheduler:GetSchedule", e);
                if !is_code(&e, "ResourceNotFoundException") {
                    return Err(e);
                }
            }
        }
        let build = || -> Result<_, Error> {
            let window = built(FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build())?;
            let t = built(Target::builder().arn(target.arn).role_arn(target.role_arn).input(target.input).build())?;
            Ok((window, t))
        };
        for attempt in 0..2 {
            let (window, t) = build()?;
            let created = self
                .client
                .create_schedule()
                .name(name)
                .schedule_expression(&expression)
                .schedule_expression_timezone("UTC")
                .flexible_time_window(window)
                .target(t)
                .action_after_completion(ActionAfterCompletion::Delete)
                .send()
                .await
                .map_err(|e| aws_error("scheduler:CreateSchedule", e));
            match created {
                Ok(_) => return Ok(true),
                // A departure rescheduled: the new date replaces the old.
                Err(e) if is_code(&e, "ConflictException") && attempt == 0 => {
                    self.delete(name).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// When the one-time schedule fires (its `at(...)` expression, read as UTC), or `None` when
    /// there is no such schedule. An expression of another form is returned as written.
    pub async fn fires_at(&self, name: &str) -> Result<Option<String>, Error> {
        match self.client.get_schedule().name(name).send().await {
            Ok(found) => {
                let expression = found.schedule_expression().unwrap_or_default();
                let at = expression
                    .strip_prefix("at(")
                    .and_then(|e| e.strip_suffix(')'))
                    .map_or_else(|| expression.to_owned(), |t| format!("{t}Z"));
                Ok(Some(at))
            }
            Err(e) => {
                let e = aws_error("scheduler:GetSchedule", e);
                if is_code(&e, "ResourceNotFoundException") { Ok(None) } else { Err(e) }
            }
        }
    }

    /// Deletes the schedule; `false` when there was none.
    pub async fn delete(&self, name: &str) -> Result<bool, Error> {
        match self.client.delete_schedule().name(name).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = aws_error("scheduler:DeleteSchedule", e);
                if is_code(&e, "ResourceNotFoundException") { Ok(false) } else { Err(e) }
            }
        }
    }
}
