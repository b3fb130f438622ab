//! What remains of a deleted person (`aws::tombstones`), who has no user to hold it: left before
//! their user goes ([`leave`]), and what keeps a replayed or late hire from bringing them back
//! ([`refusal`]).

use crate::context::Ctx;
use crate::error::Error;

/// Why a hire for someone this system deleted must create nothing: the event is not newer than
/// the last one applied to them (a replay of the bus archive, a late resend). A genuinely newer
/// hire is a rehire and goes ahead.
pub(crate) async fn refusal(ctx: &Ctx, meta: &crate::event::EventMeta) -> Result<Option<String>, Error> {
    let table = &ctx.cfg.lifecycle.tombstones_table;
    let Some(t) = ctx.aws.tombstones.get(table, &meta.employee_id).await? else { return Ok(None) };
    let last = t.last_event_time.unwrap_or(t.deleted_at);
    Ok((meta.time <= last).then(|| {
        format!(
            "employee `{}` (user `{}`) was deleted on {}; this event ({}) is not newer than the last one applied \
             to them ({}): a replay or a late resend, so nothing is created",
            meta.employee_id,
            t.user_name,
            crate::lifecycle::stamp(t.deleted_at),
            crate::lifecycle::stamp(meta.time),
            crate::lifecycle::stamp(last)
        )
    }))
}

/// What remains of a deleted person (`aws::tombstones`): written before their user goes, so a
/// replayed or late hire cannot bring them back ([`refusal`]).
#[cfg(feature = "secrets")]
pub(crate) async fn leave(
    ctx: &Ctx,
    trail: &mut crate::trail::Trail<'_>,
    user: &crate::aws::iam::User,
) -> Result<(), Error> {
    use crate::aws::tombstones::Tombstone;
    use crate::tags::{EMPLOYEE_ID, LAST_EVENT_TIME};
    let l = &ctx.cfg.lifecycle;
    let tombstone = Tombstone {
        employee_id: user.tags.get(EMPLOYEE_ID).cloned().unwrap_or_default(),
        user_name: user.name.clone(),
        last_event_time: user.tags.get(LAST_EVENT_TIME).and_then(|t| crate::lifecycle::parse_stamp(t)),
        deleted_at: ctx.now(),
    };
    let expires = ctx.now() + chrono::TimeDelta::days(i64::from(l.tombstone_days));
    let target = format!("{}/{}", l.tombstones_table, tombstone.employee_id);
    trail.apply("dynamodb:PutItem", &target, ctx.aws.tombstones.put(&l.tombstones_table, &tombstone, expires)).await
}
