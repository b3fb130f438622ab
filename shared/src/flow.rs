//! The steps and the one definition of each flow's order.

use crate::intent::Request;

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
    /// Not part of an event's flow: an operator's `roster import --apply` adopting a user made by
    /// hand (`drivers::adopt`), before [`ADOPTED`].
    Adopt,
    /// Not part of an event's flow: closing an access review (`drivers::review`), whose
    /// revocations go through the same audited calls as a departure's.
    Review,
    /// Every deployed flow's last step: the event's terminal audit record.
    Record,
}

/// A flow: what an HR event (or the schedule) starts, with its steps in order. The one
/// definition read by the pipeline ([`Flow::of`]), the terminal record's `action` ([`Flow::name`])
/// and the tests crate's `asl`, which generates the deployed state machines from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// `Employee Hired`.
    Onboard,
    /// `Employee Changed`: find the user (never create), regroup, retag, re-issue a console
    /// password the sweep withdrew unused (nothing otherwise), notify.
    Change,
    /// `Employee Departed`: disable now or schedule it.
    Offboard,
    /// The schedule's run over every managed user.
    Sweep,
}

/// After [`Step::Adopt`] (the CLI's `roster import` only; never deployed, so not a [`Flow`]): the
/// hire's groups and tags. No password and no welcome: the person has their credentials. Its
/// terminal record is the hire's ([`Flow::Onboard`]).
pub const ADOPTED: [Step; 2] = [Step::JoinGroups, Step::TagUser];

impl Flow {
    pub const ALL: [Flow; 4] = [Flow::Onboard, Flow::Change, Flow::Offboard, Flow::Sweep];

    /// The flow a request starts.
    pub fn of(req: &Request) -> Flow {
        match req {
            Request::Hire(_) => Flow::Onboard,
            Request::Change(_) => Flow::Change,
            Request::Depart(_) => Flow::Offboard,
        }
    }

    /// The flow an event's detail-type starts (`None`: a sweep's record, which carries none of
    /// an HR event's). An unknown one is a hire's: the contract's default, so a record exists
    /// for an event that did not parse.
    pub fn of_detail_type(detail_type: Option<&str>) -> Flow {
        match detail_type {
            Some(crate::event::CHANGED) => Flow::Change,
            Some(crate::event::DEPARTED) => Flow::Offboard,
            Some(SWEEP) => Flow::Sweep,
            _ => Flow::Onboard,
        }
    }

    /// The state machine's file name stem and the `action` of its terminal audit records.
    pub const fn name(self) -> &'static str {
        match self {
            Flow::Onboard => "onboard",
            Flow::Change => "change",
            Flow::Offboard => "offboard",
            Flow::Sweep => "sweep",
        }
    }

    /// The steps, in order.
    pub const fn steps(self) -> &'static [Step] {
        const ONBOARD: [Step; 5] =
            [Step::CreateUser, Step::JoinGroups, Step::TagUser, Step::StorePassword, Step::Notify];
        match self {
            Flow::Onboard | Flow::Change => &ONBOARD,
            Flow::Offboard => &[Step::Offboard],
            Flow::Sweep => &[Step::Sweep],
        }
    }

    /// The HR event that starts it (the sweep is started by the schedule).
    pub const fn detail_type(self) -> Option<&'static str> {
        match self {
            Flow::Onboard => Some(crate::event::HIRED),
            Flow::Change => Some(crate::event::CHANGED),
            Flow::Offboard => Some(crate::event::DEPARTED),
            Flow::Sweep => None,
        }
    }
}

/// The detail-type of a sweep's record (a scheduled run carries no event).
pub const SWEEP: &str = "Sweep";

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
            Step::Adopt => "adopt",
            Step::Review => "review",
            Step::Record => "record",
        }
    }

    /// Whether the step may decide the event changes nothing (its output then has `skipped`, and
    /// the flow goes straight to its record).
    pub const fn may_skip(self) -> bool {
        matches!(self, Step::CreateUser | Step::Offboard)
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
            Step::Adopt => "adopt",
            Step::Review => "review",
            Step::Record => "record",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_is_found_again_from_what_starts_it() {
        for flow in Flow::ALL {
            assert_eq!(Flow::of_detail_type(Some(flow.detail_type().unwrap_or(SWEEP))), flow, "{}", flow.name());
        }
        assert_eq!(Flow::of_detail_type(None), Flow::Onboard, "an unreadable event's record is a hire's");
        let steps: Vec<_> = Flow::ALL.iter().flat_map(|f| f.steps()).filter(|s| s.may_skip()).collect();
        assert_eq!(
            steps,
            [&Step::CreateUser, &Step::CreateUser, &Step::Offboard],
            "each HR flow's first step may end it"
        );
    }
}
