//! Time slices for a shard's background work: polls, applying observations, replicas.
//!
//! A shard is one thread running one task at a time, so a long synchronous loop delays every
//! request on the shard. Yielding with `yield_now` (or `glommio::yield_if_needed`) is not
//! enough here: glommio looks at its rings, where a request's bytes arrive, only when its
//! preempt timer fires (`set.rs`: 50 ms) or when no task is runnable, and a task that yields
//! that way stays runnable. So a poll that "yields" after each chunk still held the shard from
//! its first chunk to its last (2–3 ms per demo poll, 22 polls a second).
//!
//! [`Slice::yield_if_spent`] counts how long the work has run since its last pause and, past
//! [`BUDGET`], sleeps on a timer for [`PAUSE`]: the task is then not runnable, the executor
//! polls its rings, and the requests that arrived meanwhile run before the work goes on. Work
//! calls it between units of at most a few hundred microseconds, so no poll holds the shard for
//! much more than a millisecond.

use std::time::{Duration, Instant};

/// How long background work runs before it lets requests in.
pub(crate) const BUDGET: Duration = Duration::from_micros(500);

/// The timer a pause sleeps on. Short: it only has to outlast one turn of the executor (when
/// nothing else is waiting, the pause costs about this much idle time).
const PAUSE: Duration = Duration::from_micros(20);

/// The running time of one piece of background work since it last paused.
#[derive(Debug)]
pub(crate) struct Slice {
    started_at: Instant,
}

// === impl Slice ===

impl Slice {
    /// A slice starting now.
    pub fn start() -> Self {
        Self {
            started_at: Instant::now(),
        }
    }

    /// Whether the work has run for [`BUDGET`] since the slice started or last paused.
    pub fn spent(&self) -> bool {
        self.started_at.elapsed() >= BUDGET
    }

    /// Pauses (lets the shard serve what arrived) if the budget is spent; then starts anew.
    pub async fn yield_if_spent(&mut self) {
        if self.spent() {
            self.pause().await;
        }
    }

    /// Pauses now: the executor polls its rings and runs whatever became ready before this
    /// task goes on.
    pub async fn pause(&mut self) {
        glommio::timer::sleep(PAUSE).await;
        self.started_at = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use std::{cell::Cell, rc::Rc};

    use glommio::{spawn_local, timer::sleep, LocalExecutorBuilder, Placement};

    use super::*;

    /// Spins for `d` (a unit of synchronous work).
    fn busy(d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }

    /// How often a 1 ms timer fired while another task did 40 ms of work in 100 µs units,
    /// pausing with `pause_each` after each unit. Counted, not timed: a loaded machine changes
    /// how late a timer is, not whether it gets to fire at all during the work.
    fn timer_fires_during_work(sliced: bool) -> u32 {
        let ex = LocalExecutorBuilder::new(Placement::Unbound)
            .preempt_timer(Duration::from_millis(50)) // as the shards run
            .spawn(move || async move {
                let done = Rc::new(Cell::new(false));
                let fires = Rc::new(Cell::new(0u32));
                let (d, f) = (done.clone(), fires.clone());
                let ticker = spawn_local(async move {
                    loop {
                        sleep(Duration::from_millis(1)).await;
                        if d.get() {
                            break;
                        }
                        f.set(f.get() + 1);
                    }
                });
                sleep(Duration::from_millis(2)).await; // the ticker is waiting on its timer
                let mut slice = Slice::start();
                for _ in 0..400 {
                    busy(Duration::from_micros(100));
                    if sliced {
                        slice.yield_if_spent().await;
                    } else {
                        futures_lite::future::yield_now().await;
                    }
                }
                done.set(true);
                ticker.await;
                fires.get()
            })
            .expect("an executor starts (RLIMIT_MEMLOCK >= 512 KiB: source scripts/memlock.sh)");
        ex.join().expect("the executor ran")
    }

    #[test]
    fn sliced_work_lets_timers_and_io_in() {
        // 40 ms of sliced work leaves room for the 1 ms timer many times over (~20-40); the
        // bound is loose because a busy CI machine stretches every pause.
        let sliced = timer_fires_during_work(true);
        assert!(
            sliced >= 3,
            "sliced: the timer fired {sliced} times during the work"
        );
        // The reason this module exists: yield_now alone leaves the timer (and sockets)
        // waiting for the whole 40 ms of work.
        let unsliced = timer_fires_during_work(false);
        assert!(
            unsliced < sliced,
            "yield_now: {unsliced} fires, sliced: {sliced}"
        );
    }
}
