//! Running one piece of work over many items on a few threads, the results
//! kept in the items' order: the scan, the re-parse checks of the rewrites,
//! and the writes use it.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The most threads that do CPU work (reading and parsing files, checking
/// rewrites) at once.
pub const MAX_CPU_THREADS: usize = 8;

/// How many threads do CPU work: one per CPU, at most [`MAX_CPU_THREADS`].
pub fn cpu_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(MAX_CPU_THREADS)
}

/// Runs `work` on every item with at most `threads` threads (none for one
/// item or one thread); the results in the order of the items.
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, work(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<usize> = (0..1000).collect();
        for threads in [1, 2, 7, 64] {
            let squares = map(&items, threads, |i| i * i);
            assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(map(&[] as &[usize], 4, |i| *i).is_empty());
    }
}
