//! Two lanes of work: the verifier's passes are sequential, but inside a
//! pass (and between the resolve pass and the passes that only read the
//! type table) there is work that does not depend on each other. On a large
//! blob that work runs on two threads; the answer never depends on it, only
//! the time does.

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

/// The decision for one blob: split the work in two or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lanes {
    two: bool,
}

impl Lanes {
    /// Below this size a thread costs more than it saves (a spawn and join
    /// is 35-60 µs here; verification runs at ~1.5 µs per KiB).
    pub const PARALLEL_FROM: usize = 256 * 1024;

    pub const ONE: Lanes = Lanes { two: false };

    pub fn for_blob(threads: Threads, blob_len: usize) -> Lanes {
        let two = match threads {
            Threads::Auto => blob_len >= Lanes::PARALLEL_FROM && cpus() >= 2,
            Threads::One => false,
            Threads::Two => true,
        };
        Lanes { two }
    }

    pub fn two(self) -> bool {
        self.two
    }

    /// Runs `a` and `b`, `b` on a second thread when there are two lanes.
    /// A panic in either is passed on to the caller.
    pub fn join<A, B>(self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B)
    where
        A: Send,
        B: Send,
    {
        if !self.two {
            let ra = a();
            return (ra, b());
        }
        std::thread::scope(|s| {
            let hb = s.spawn(b);
            let ra = a();
            let rb = hb.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (ra, rb)
        })
    }
}

/// CPUs this process may use (affinity and cgroup quota), asked once: the
/// first answer costs ~0.1 ms on Linux.
fn cpus() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
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
}
