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
    /// Every deployed flow's last step: the event's terminal audit record.
    Record,
}

/// The one definition of each flow's order. The pipeline runs them; the tests crate's `asl` generates the
/// state machines from them.
pub const ONBOARD: [Step; 5] = [Step::CreateUser, Step::JoinGroups, Step::TagUser, Step::StorePassword, Step::Notify];
/// `Employee Changed`: find the user (never create), regroup, retag, re-issue a console password
/// the sweep withdrew unused (nothing otherwise), notify.
pub const CHANGE: [Step; 5] = [Step::CreateUser, Step::JoinGroups, Step::TagUser, Step::StorePassword, Step::Notify];
/// After [`Step::Adopt`] (the CLI's `roster import` only; never deployed): the hire's groups and
/// tags. No password and no welcome: the person has their credentials.
pub const ADOPTED: [Step; 2] = [Step::JoinGroups, Step::TagUser];
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
            Step::Adopt => "adopt",
            Step::Record => "record",
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
            Step::Adopt => "adopt",
            Step::Record => "record",
        }
    }
}
