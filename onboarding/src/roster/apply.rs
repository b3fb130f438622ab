//! Applying a plan: `create` through the hire's pipeline, `adopt` through `pipeline::adopt`.

use serde_json::Value;
use shared::lanes;
use shared::pipeline;
use shared::steps::Ctx;

use super::*;

/// Applies the plan's creates (the hire's flow) and adoptions ([`pipeline::adopt`]), people side
/// by side as `run` does (one lane per employee, user-name base and user), and writes each
/// person's outcome into their row: the event's for those applied, `unchanged` for `managed`,
/// `skipped` for `ambiguous` and `refused`.
pub async fn apply(ctx: &Ctx, plan: &mut [Planned], progress: &dyn Fn(usize, usize)) {
    /// One person to apply, owned, so the rows can take the outcomes afterwards.
    struct Work {
        row: usize,
        verdict: Verdict,
        event: Value,
        user: String,
        lanes: Vec<String>,
    }
    let work: Vec<Work> = plan
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.row.plan, Verdict::Create | Verdict::Adopt))
        .filter_map(|(row, p)| {
            let person = p.person.as_ref()?;
            let user = p.row.user_name.clone();
            let lanes = vec![
                format!("employee:{}", p.row.employee_id),
                format!("name:{}", person.intent.base_name),
                format!("user:{}", user.to_lowercase()),
            ];
            Some(Work { row, verdict: p.row.plan, event: person.event.clone(), user, lanes })
        })
        .collect();
    let keys: Vec<Vec<String>> = work.iter().map(|w| w.lanes.clone()).collect();
    let work = &work;
    let one = |i: usize| async move {
        let w = &work[i];
        match w.verdict {
            Verdict::Adopt => Box::pin(pipeline::adopt(ctx, &w.event, &w.user)).await,
            _ => Box::pin(pipeline::process(ctx, &w.event)).await,
        }
    };
    let reports = lanes::run(lanes::lanes(&keys), ctx.concurrency, one, progress).await;
    for (w, r) in work.iter().zip(reports) {
        let row = &mut plan[w.row].row;
        row.outcome = r.outcome.as_str().to_owned();
        row.user_name = r.user_name.unwrap_or(std::mem::take(&mut row.user_name));
        if let Some(e) = r.error {
            row.detail = e;
        }
    }
    for p in plan.iter_mut() {
        match p.row.plan {
            Verdict::Managed => p.row.outcome = "unchanged".into(),
            Verdict::Ambiguous | Verdict::Refused => p.row.outcome = "skipped".into(),
            Verdict::Create | Verdict::Adopt => {}
        }
    }
}
