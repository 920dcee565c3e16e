//! Two lanes of work: the verifier's passes are sequential, but inside a
//! pass (and between the resolve pass and the passes that only read the
//! type table) there is work that does not depend on each other. On a large
//! blob that work runs on two threads; the answer never depends on it, only
//! the time does.
//!
//! The caller runs the first half of every join; the second goes to one
//! worker thread per process (`Worker`, a one-thread rayon pool that
//! sleeps between joins), which a verification claims for its duration and
//! keeps off the caller's CPU. A verification that finds the worker claimed
//! by another starts a scoped thread per join instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// How many threads one verification may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Threads {
    /// Two for blobs of [`Lanes::PARALLEL_FROM`] bytes or more where the
    /// process may run on two CPUs or more, else one.
    #[default]
    Auto,
    /// Everything on the calling thread.
    One,
    /// Two, whatever the size (tests use it to run the split paths on small
    /// blobs).
    Two,
}

impl std::str::FromStr for Threads {
    type Err = String;
    fn from_str(s: &str) -> Result<Threads, String> {
        match s {
            "auto" => Ok(Threads::Auto),
            "1" => Ok(Threads::One),
            "2" => Ok(Threads::Two),
            _ => Err(format!("expected auto, 1 or 2, found {s:?}")),
        }
    }
}

/// The decision for one blob: split the work in two or not, and which
/// thread takes the second half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lanes {
    second: Second,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Second {
    /// No second lane: both halves on the calling thread, in order.
    None,
    /// A scoped thread per join (the worker was busy or could not start).
    Spawned,
    /// The process's [`Worker`], claimed for this verification.
    Worker,
}

impl Lanes {
    /// Below this size a thread costs more than it saves (a spawn and join
    /// is 35-60 µs here; verification runs at ~1.5 µs per KiB).
    pub const PARALLEL_FROM: usize = 256 * 1024;

    pub const ONE: Lanes = Lanes { second: Second::None };

    pub fn for_blob(threads: Threads, blob_len: usize) -> Lanes {
        let two = match threads {
            Threads::Auto => blob_len >= Lanes::PARALLEL_FROM && cpus() >= 2,
            Threads::One => false,
            Threads::Two => true,
        };
        Lanes {
            second: if two { Second::Spawned } else { Second::None },
        }
    }

    pub fn two(self) -> bool {
        self.second != Second::None
    }

    /// Runs one verification's `f` with these lanes: with two, the second
    /// half of each join goes to the process's worker thread when no other
    /// verification holds it (else to a thread of its own), and for the
    /// duration of `f` the two threads are kept on different CPUs.
    pub fn run<R>(self, f: impl FnOnce(Lanes) -> R) -> R {
        if self.second == Second::None {
            return f(self);
        }
        match Worker::claim() {
            Some(claim) => {
                let r = f(Lanes {
                    second: Second::Worker,
                });
                drop(claim);
                r
            }
            None => f(self),
        }
    }

    /// Runs `a` and `b`, `b` on the second lane when there is one: then the
    /// two run at the same time, and either may wait for the other. A panic
    /// in either is passed on to the caller.
    pub fn join<A, B>(self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B)
    where
        A: Send,
        B: Send,
    {
        match self.second {
            Second::None => {
                let ra = a();
                (ra, b())
            }
            Second::Spawned => std::thread::scope(|s| {
                let hb = s.spawn(b);
                let ra = a();
                let rb = hb.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                (ra, rb)
            }),
            Second::Worker => match Worker::get() {
                Some(worker) => {
                    let mut rb = None;
                    let b_done = AtomicBool::new(false);
                    let ra = worker.pool.in_place_scope(|s| {
                        s.spawn(|_| {
                            let _done = SetOnDrop(&b_done);
                            rb = Some(b());
                        });
                        let ra = a();
                        // Spin instead of sleeping in the scope's latch: a
                        // thread asleep there took 0.1-0.3 ms to wake here.
                        wait_until(|| b_done.load(Ordering::Acquire));
                        ra
                    });
                    (ra, rb.expect("a scope ends after its jobs"))
                }
                None => Lanes {
                    second: Second::Spawned,
                }
                .join(a, b),
            },
        }
    }
}

/// The second lane's thread, started once per process and woken for each
/// join: waking a waiting thread costs ~25 µs here against ~45 µs for
/// starting one.
///
/// It is also *placed*. The kernel of this project's VMs packs threads onto
/// busy vCPUs (`sched_vcpu_pack` on its command line): a thread started or
/// woken by a busy one is queued on that one's CPU, and in a fresh process
/// the two lanes then took turns on one CPU in most phases (verify took
/// 5-10 ms instead of 4.5). So while a verification holds the worker, the
/// caller stays on the CPU it is on and the worker on the others it may
/// use; the caller's own CPU set comes back when the claim ends.
struct Worker {
    pool: rayon::ThreadPool,
    /// Where the worker thread runs, reported when it started (`None`: it
    /// did not report in time, and is not placed).
    seat: Option<placement::Seat>,
    /// One verification at a time holds the worker.
    claimed: AtomicBool,
}

/// A verification's hold on the [`Worker`]; dropping it puts the caller's
/// CPU set back and frees the worker.
struct Claim {
    worker: &'static Worker,
    caller_cpus: Option<placement::CpuSet>,
}

impl Worker {
    /// The worker, started on first use (`None` if it could not start).
    fn get() -> Option<&'static Worker> {
        static WORKER: OnceLock<Option<Worker>> = OnceLock::new();
        WORKER.get_or_init(Worker::start).as_ref()
    }

    fn start() -> Option<Worker> {
        let (tx, rx) = std::sync::mpsc::channel();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "btfcheck-lane2".into())
            .start_handler(move |_| {
                let _ = tx.send(placement::Seat::current());
            })
            .build()
            .ok()?;
        // Waiting here also lets the new thread run once before the first
        // join, wherever it was queued.
        let seat = rx.recv_timeout(Duration::from_millis(100)).ok();
        Some(Worker {
            pool,
            seat,
            claimed: AtomicBool::new(false),
        })
    }

    /// Claims the worker for one verification and places the two threads,
    /// or `None` when it is held by another or could not start.
    fn claim() -> Option<Claim> {
        let worker = Worker::get()?;
        worker
            .claimed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        let caller_cpus = worker.seat.as_ref().and_then(placement::Seat::keep_apart);
        Some(Claim { worker, caller_cpus })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(cpus) = &self.caller_cpus {
            placement::restore_caller(cpus);
        }
        self.worker.claimed.store(false, Ordering::Release);
    }
}

/// Sets its flag when dropped, a panic included.
struct SetOnDrop<'f>(&'f AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Spins until `ready`, yielding now and then: one lane waiting for the
/// other, which may share this CPU.
pub(crate) fn wait_until(ready: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        spins += 1;
        if spins.is_multiple_of(64) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// CPU placement of the two lanes' threads (Linux; elsewhere nothing is
/// placed). Failures are ignored: placement only affects speed.
#[cfg(target_os = "linux")]
mod placement {
    pub use nix::sched::CpuSet;
    use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity};
    use nix::unistd::{gettid, Pid};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The worker thread, as the scheduler knows it.
    pub struct Seat {
        tid: Pid,
        /// The CPU it was last kept off (`usize::MAX`: none).
        kept_off: AtomicUsize,
    }

    impl Seat {
        /// The calling thread's seat.
        pub fn current() -> Seat {
            Seat {
                tid: gettid(),
                kept_off: AtomicUsize::new(usize::MAX),
            }
        }

        /// Keeps the calling thread on the CPU it is on and the worker on
        /// the caller's other CPUs; returns the caller's CPU set to restore
        /// (`None`: nothing changed, or there is no other CPU).
        pub fn keep_apart(&self) -> Option<CpuSet> {
            let here = sched_getcpu().ok()?;
            let caller_cpus = sched_getaffinity(Pid::from_raw(0)).ok()?;
            let mut others = caller_cpus;
            others.unset(here).ok()?;
            if !(0..CpuSet::count()).any(|cpu| others.is_set(cpu).unwrap_or(false)) {
                return None;
            }
            // The worker keeps its set between verifications: no call when
            // the caller is still on the same CPU.
            if self.kept_off.load(Ordering::Relaxed) != here {
                let placed = sched_setaffinity(self.tid, &others).is_ok();
                self.kept_off
                    .store(if placed { here } else { usize::MAX }, Ordering::Relaxed);
            }
            let mut only_here = CpuSet::new();
            only_here.set(here).ok()?;
            sched_setaffinity(Pid::from_raw(0), &only_here).ok()?;
            Some(caller_cpus)
        }
    }

    pub fn restore_caller(cpus: &CpuSet) {
        let _ = sched_setaffinity(Pid::from_raw(0), cpus);
    }
}

#[cfg(not(target_os = "linux"))]
mod placement {
    pub struct Seat;
    pub struct CpuSet;

    impl Seat {
        pub fn current() -> Seat {
            Seat
        }
        pub fn keep_apart(&self) -> Option<CpuSet> {
            None
        }
    }

    pub fn restore_caller(_: &CpuSet) {}
}

/// CPUs this process may use (affinity and cgroup quota), asked once: the
/// first answer costs ~0.1 ms on Linux.
fn cpus() -> usize {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_splits_large_blobs_only() {
        assert!(!Lanes::for_blob(Threads::Auto, 1000).two());
        assert_eq!(
            Lanes::for_blob(Threads::Auto, Lanes::PARALLEL_FROM).two(),
            cpus() >= 2
        );
        assert!(!Lanes::for_blob(Threads::One, usize::MAX).two());
        assert!(Lanes::for_blob(Threads::Two, 0).two());
    }

    #[test]
    fn join_returns_both_in_order_on_either_lane_count() {
        for lanes in [Lanes::ONE, Lanes::for_blob(Threads::Two, 0)] {
            assert_eq!(lanes.join(|| 1, || "b"), (1, "b"));
        }
    }

    /// Which thread ran each half of a join.
    fn threads_of(lanes: Lanes) -> (std::thread::ThreadId, std::thread::ThreadId) {
        lanes.join(|| std::thread::current().id(), || std::thread::current().id())
    }

    #[test]
    fn one_verification_at_a_time_holds_the_worker() {
        let two = Lanes::for_blob(Threads::Two, 0);
        two.run(|outer| {
            let (a, b) = threads_of(outer);
            assert_eq!(a, std::thread::current().id(), "the caller runs the first half");
            assert_ne!(a, b, "the second half runs on another thread");
            // Tests run side by side, so another may hold the worker now;
            // a verification inside one that holds it gets a thread of its
            // own.
            two.run(|inner| {
                if outer.second == Second::Worker {
                    assert_eq!(inner.second, Second::Spawned);
                }
                let (a, b) = threads_of(inner);
                assert_ne!(a, b);
            });
        });
        assert_eq!(Lanes::ONE.run(threads_of).0, Lanes::ONE.run(threads_of).1);
    }

    #[test]
    fn a_panic_on_the_worker_reaches_the_caller_and_frees_the_worker() {
        let two = Lanes::for_blob(Threads::Two, 0);
        let caught = std::panic::catch_unwind(|| {
            two.run(|lanes| lanes.join(|| 1, || -> u32 { panic!("second half") }))
        });
        assert!(caught.is_err());
        // The claim was dropped on the way out: the worker serves again
        // (unless another test holds it), and joins still return both.
        assert_eq!(two.run(|lanes| lanes.join(|| 1, || 2)), (1, 2));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_callers_cpus_come_back_after_a_verification() {
        use nix::sched::sched_getaffinity;
        use nix::unistd::Pid;
        let before = sched_getaffinity(Pid::from_raw(0)).expect("affinity");
        let many = (0..placement::CpuSet::count())
            .filter(|&c| before.is_set(c).unwrap_or(false))
            .count()
            > 1;
        Lanes::for_blob(Threads::Two, 0).run(|lanes| {
            let during = sched_getaffinity(Pid::from_raw(0)).expect("affinity");
            let held = (0..placement::CpuSet::count())
                .filter(|&c| during.is_set(c).unwrap_or(false))
                .count();
            if lanes.second == Second::Worker && many {
                assert_eq!(held, 1, "the caller stays on its CPU while it holds the worker");
            }
        });
        assert_eq!(sched_getaffinity(Pid::from_raw(0)).expect("affinity"), before);
    }
}
