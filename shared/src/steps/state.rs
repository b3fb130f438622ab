//! What flows between steps (as a state machine hands it over): the HR event and every earlier
//! step's output. The outputs of `store-password` and `offboard` live here, not in their
//! modules, because those modules exist only with the `secrets` feature while every step reads
//! the state.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CreateUserOutput, JoinGroupsOutput, NotifyOutput, TagUserOutput};
use crate::audit::Action;
use crate::context::Ctx;
use crate::error::Error;
use crate::flow::Step;
use crate::intent::Request;
use crate::lifecycle::Status;
use crate::person::StorePasswordOutput;

/// What flows between steps: the event and every earlier step's output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The HR event (absent, null, in a sweep's execution).
    #[serde(default)]
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
    /// A deployed flow's caught failure (`{"Error", "Cause"}`, as Step Functions' `Catch` puts it),
    /// for the `record` step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// The delivery this is (a state machine execution's name), for every record it leaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// The request the event makes, once [`State::request`] parsed it in this process; never
    /// serialised, so a state handed to a Lambda carries none.
    #[serde(skip)]
    request: std::sync::OnceLock<Request>,
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

    /// The request the event makes ([`Ctx::request`]: validated, served here, not ahead of the
    /// clock), parsed once per state: the steps of a flow run in one process (the pipeline, the
    /// CLI) share it; a Lambda, handed the state as JSON, parses it once for its step.
    pub fn request(&self, ctx: &Ctx) -> Result<&Request, Error> {
        if let Some(parsed) = self.request.get() {
            return Ok(parsed);
        }
        let parsed = ctx.request(&self.event)?;
        Ok(self.request.get_or_init(|| parsed))
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

    /// The user as `create-user` read or made it in this process, while no step since has
    /// changed its tags (a `done` `iam:TagUser` or `iam:UntagUser`; on Identity Center, a later
    /// step's `dynamodb:UpdateItem` of the people record, where its lifecycle lives): what
    /// [`super::identity::Proof::Reuse`] starts from. Never present in a state that was deserialised.
    pub fn proven(&self) -> Option<&crate::aws::iam::User> {
        let retagged = |a: &Action| {
            a.outcome == crate::audit::Outcome::Done
                && (a.action == "iam:TagUser"
                    || a.action == "iam:UntagUser"
                    // create-user's own (binding the user it made) is in what it proved.
                    || (a.action == "dynamodb:UpdateItem" && a.step != Step::CreateUser.name()))
        };
        let create = self.create_user.as_ref()?;
        let tags_written = self.actions().iter().any(retagged);
        if tags_written { None } else { create.proven.as_ref() }
    }

    /// Whether `create-user` made the user in this delivery, in this process (never true in a
    /// deserialised state).
    pub fn made_here(&self) -> bool {
        self.create_user.as_ref().is_some_and(|c| c.made)
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
    /// When HR said access must end (RFC 3339), for the leaver SLA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_due_at: Option<String>,
    /// Why nothing was done (unknown employee, not managed, protected, stale). Absent (not
    /// null) otherwise: the state machine's Choice tests for its presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why the mass-departure guard held the disable for an operator (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    pub actions: Vec<Action>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;
    use crate::aws::iam::User;

    fn action(step: &str, action: &str, outcome: Outcome) -> Action {
        Action { step: step.into(), action: action.into(), target: "t".into(), outcome }
    }

    /// One parse per state in a process: the steps of an in-process flow share it; a state that
    /// crossed a process boundary carries none and parses again, to the same request.
    #[test]
    fn a_state_parses_its_event_once_and_never_carries_the_parse_across_a_process() {
        use crate::context::Targets;
        let cfg = crate::config::Config::shipped().expect("config");
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let aws = crate::aws::Aws::new(&sdk, cfg.retry_policy());
        let targets = Targets {
            notifications_topic_arn: "arn:aws:sns:us-east-1:1:n".into(),
            audit_topic_arn: "arn:aws:sns:us-east-1:1:a".into(),
            boundary_arn: "arn:aws:iam::1:policy/b".into(),
            role_sessions_boundary_arn: None,
            require_boundary: true,
        };
        let ctx = Ctx::new(cfg, aws, targets);
        let event = include_str!("../../../events/hire-engineering.json");
        let state = State::new(serde_json::from_str(event).expect("json"));
        let first: *const Request = state.request(&ctx).expect("a hire");
        let again: *const Request = state.request(&ctx).expect("a hire");
        assert!(std::ptr::eq(first, again), "the second step reads the first one's parse");
        let crossed = State::from_input(serde_json::to_value(&state).expect("json")).expect("state");
        assert!(crossed.request.get().is_none(), "a parse is not serialised");
        assert_eq!(crossed.request(&ctx).expect("a hire"), state.request(&ctx).expect("a hire"));
        let mut bad = serde_json::from_str::<Value>(event).expect("json");
        bad["detail"]["startDate"] = "2026-13-01".into();
        let e = State::new(bad).request(&ctx).expect_err("an invalid date");
        assert!(e.to_string().contains("detail.startDate"), "{e}");
    }

    /// The user `create-user` proved lives in this process only: a state that crossed a process
    /// boundary (a Lambda's input) carries none, so the next step reads IAM; and it lapses once a
    /// step wrote the user's tags.
    #[test]
    fn the_proven_user_never_crosses_a_process_and_lapses_on_a_tag_write() {
        let user = User {
            name: "jane.doe".into(),
            arn: "arn:aws:iam::1:user/employees/E1/jane.doe".into(),
            ..User::default()
        };
        let mut state = State::new(serde_json::json!({"detail-type": "Employee Hired"}));
        state.create_user = Some(CreateUserOutput {
            user_name: user.name.clone(),
            user_arn: user.arn.clone(),
            exists: true,
            actions: vec![action("create-user", "iam:CreateUser", Outcome::Done)],
            proven: Some(user.clone()),
            made: true,
            ..CreateUserOutput::default()
        });
        assert_eq!(state.proven(), Some(&user));
        assert!(state.made_here());

        let crossed = State::from_input(serde_json::to_value(&state).expect("json")).expect("state");
        assert_eq!(crossed.create_user.as_ref().map(|c| c.user_name.as_str()), Some("jane.doe"));
        assert_eq!(crossed.proven(), None);
        assert!(!crossed.made_here(), "a deserialised state cannot claim the user is new");

        state.tag_user = Some(TagUserOutput {
            actions: vec![action("tag-user", "iam:TagUser", Outcome::AlreadyDone)],
            ..TagUserOutput::default()
        });
        assert_eq!(state.proven(), Some(&user), "nothing written");
        state.notify = Some(NotifyOutput {
            actions: vec![action("notify", "iam:TagUser", Outcome::Done)],
            ..NotifyOutput::default()
        });
        assert_eq!(state.proven(), None, "its tags changed: read it again");
        // On Identity Center the lifecycle is the people record's: a later step's write of it
        // lapses the proof too; create-user's own (binding the user it made) does not.
        state.notify = None;
        state.create_user.as_mut().expect("create").actions.push(action(
            "create-user",
            "dynamodb:UpdateItem",
            Outcome::Done,
        ));
        assert_eq!(state.proven(), Some(&user));
        state.tag_user = Some(TagUserOutput {
            actions: vec![action("tag-user", "dynamodb:UpdateItem", Outcome::Done)],
            ..TagUserOutput::default()
        });
        assert_eq!(state.proven(), None, "the record's lifecycle changed: read it again");
    }
}
