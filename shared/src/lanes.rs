//! Concurrency with order: entries that must run one after the other (the same person's events,
//! or hires whose user names could collide) form a lane; lanes run side by side, up to a bound.
//! Within a lane, input order is kept; results come back in input order whatever the lanes did.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// The lanes for entries with these keys: entries sharing any key are in one lane (transitively),
/// each lane in input order, lanes ordered by their first entry. An entry without keys is a lane
/// of its own.
pub fn lanes(keys: &[Vec<String>]) -> Vec<Vec<usize>> {
    // Union-find over entries, joined through the keys they share.
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, ks) in keys.iter().enumerate() {
        for k in ks {
            match owner.get(k.as_str()) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    owner.insert(k, i);
                }
            }
        }
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..keys.len() {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    let mut lanes: Vec<Vec<usize>> = by_root.into_values().collect();
    lanes.sort_by_key(|l| l[0]);
    lanes
}

/// Runs `work(i)` for every entry of every lane, a lane's entries in order, up to `concurrency`
/// lanes at once (at least one), on the calling task (no spawning: `work` may borrow). Calls
/// `done(finished, total)` after each entry. Results are in input order.
pub async fn run<T, F, Fut>(lanes: Vec<Vec<usize>>, concurrency: usize, work: F, done: &dyn Fn(usize, usize)) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T>,
{
    let total: usize = lanes.iter().map(Vec::len).sum();
    let queue = RefCell::new(VecDeque::from(lanes));
    let results: RefCell<Vec<Option<T>>> = RefCell::new((0..total).map(|_| None).collect());
    let finished = Cell::new(0usize);
    let worker = || async {
        loop {
            let Some(lane) = queue.borrow_mut().pop_front() else { return };
            for i in lane {
                let r = Box::pin(work(i)).await;
                if let Some(slot) = results.borrow_mut().get_mut(i) {
                    *slot = Some(r);
                }
                finished.set(finished.get() + 1);
                done(finished.get(), total);
            }
        }
    };
    join_all((0..concurrency.max(1)).map(|_| worker()).collect()).await;
    results.into_inner().into_iter().flatten().collect()
}

/// Polls every future until all are done (a small join for a handful of workers).
async fn join_all<F: Future<Output = ()>>(futures: Vec<F>) {
    let mut futures: Vec<Option<Pin<Box<F>>>> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut futures {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&[&str]]) -> Vec<Vec<String>> {
        k.iter().map(|ks| ks.iter().map(|s| (*s).to_owned()).collect()).collect()
    }

    #[test]
    fn entries_sharing_a_key_share_a_lane_in_input_order() {
        let k = keys(&[&["E1", "jane.doe"], &["E2", "bob.smith"], &["E1"], &["E3", "jane.doe"], &[], &["E3"], &["E4"]]);
        assert_eq!(lanes(&k), vec![vec![0, 2, 3, 5], vec![1], vec![4], vec![6]]);
        assert_eq!(lanes(&[]), Vec::<Vec<usize>>::new());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn lanes_run_side_by_side_in_order_and_results_keep_input_order() {
        // Lanes [0, 2] and [1]: 0 waits until 1 has run, which only lanes side by side allow;
        // 2 runs after 0, its lane's earlier entry.
        let log = RefCell::new(Vec::new());
        let work = |i: usize| {
            let log = &log;
            async move {
                while i == 0 && !log.borrow().contains(&1) {
                    tokio::task::yield_now().await;
                }
                log.borrow_mut().push(i);
                i * 10
            }
        };
        let seen = Cell::new(0);
        let out = run(vec![vec![0, 2], vec![1]], 2, work, &|n, total| {
            assert_eq!(total, 3);
            seen.set(n);
        })
        .await;
        assert_eq!(out, vec![0, 10, 20], "results in input order");
        assert_eq!(*log.borrow(), vec![1, 0, 2]);
        assert_eq!(seen.get(), 3);
        // One lane at a time: lane order, then input order within.
        let log = RefCell::new(Vec::new());
        let plain = |i: usize| {
            let log = &log;
            async move { log.borrow_mut().push(i) }
        };
        run(vec![vec![0, 2], vec![1]], 1, plain, &|_, _| {}).await;
        assert_eq!(*log.borrow(), vec![0, 2, 1]);
    }
}
