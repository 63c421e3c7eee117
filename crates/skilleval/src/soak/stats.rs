//! The soak's arithmetic, apart from the network so that it can be tested: when the k-th request
//! of an open-model run is due, which operation a draw picks, percentiles, per-minute figures and
//! the RSS change between two minutes.

use std::collections::BTreeMap;
use std::time::Duration;

/// When the `k`-th request (from 0) of a run at `rate` requests per second is due, counted from
/// the start of the run. Open model: the schedule never waits for answers.
pub fn send_offset(k: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(k as f64 / rate)
}

/// How many requests are due `elapsed` after the start at `rate` (the ones at offsets ≤ elapsed).
pub fn due_count(elapsed: Duration, rate: f64) -> u64 {
    // The small epsilon keeps a request exactly on time due despite float rounding.
    (elapsed.as_secs_f64() * rate + 1e-9).floor() as u64 + 1
}

/// The index of the weighted entry that `draw` (in `0..sum of weights`) falls into.
pub fn pick_weighted(weights: &[u32], draw: u32) -> usize {
    let mut acc = 0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if draw < acc {
            return i;
        }
    }
    weights.len() - 1
}

/// Nearest-rank percentile of sorted values (`p` in 0–100); 0 for no values.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What happened to one request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The expected status.
    Ok,
    /// Another status than the one expected.
    Status(u16),
    /// No answer: connection refused or reset, timeout, …
    Transport(String),
    /// Not sent: too many requests in flight (the server fell behind the schedule).
    Overload,
}

/// One minute (or one phase) of results.
#[derive(Debug, Default, Clone)]
pub struct Bucket {
    /// Latencies in microseconds, measured from the time the request was due.
    pub latencies_us: Vec<u32>,
    pub errors: u64,
}

impl Bucket {
    pub fn requests(&self) -> u64 {
        self.latencies_us.len() as u64 + self.errors
    }
}

/// Everything a phase recorded: per-minute buckets, and per route the count of each outcome.
#[derive(Debug, Default)]
pub struct Recorder {
    pub minutes: Vec<Bucket>,
    pub routes: BTreeMap<&'static str, BTreeMap<Outcome, u64>>,
    /// Latencies of the answered requests, per route.
    pub route_latencies: BTreeMap<&'static str, Bucket>,
}

impl Recorder {
    /// Record a request due in minute `minute` (from 0). Only answered requests with the
    /// expected status count towards latencies; every other outcome is an error.
    pub fn record(&mut self, minute: usize, route: &'static str, latency_us: u32, o: Outcome) {
        if self.minutes.len() <= minute {
            self.minutes.resize_with(minute + 1, Bucket::default);
        }
        let b = &mut self.minutes[minute];
        let r = self.route_latencies.entry(route).or_default();
        if o == Outcome::Ok {
            b.latencies_us.push(latency_us);
            r.latencies_us.push(latency_us);
        } else {
            b.errors += 1;
            r.errors += 1;
        }
        *self.routes.entry(route).or_default().entry(o).or_default() += 1;
    }

    pub fn total(&self) -> Bucket {
        let mut all = Bucket::default();
        for b in &self.minutes {
            all.latencies_us.extend_from_slice(&b.latencies_us);
            all.errors += b.errors;
        }
        all
    }

    /// Errors by route: (route, outcome, count), outcomes other than `Ok` only.
    pub fn errors(&self) -> Vec<(&'static str, Outcome, u64)> {
        let mut out = vec![];
        for (route, outcomes) in &self.routes {
            for (o, n) in outcomes {
                if *o != Outcome::Ok {
                    out.push((*route, o.clone(), *n));
                }
            }
        }
        out
    }
}

/// The summary line of a bucket: requests, p50 and p99 in milliseconds, errors.
#[derive(Debug, PartialEq)]
pub struct Figures {
    pub requests: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

pub fn figures(b: &Bucket) -> Figures {
    let mut l = b.latencies_us.clone();
    l.sort_unstable();
    Figures {
        requests: b.requests(),
        p50_ms: percentile(&l, 50.0) as f64 / 1000.0,
        p99_ms: percentile(&l, 99.0) as f64 / 1000.0,
        errors: b.errors,
    }
}

/// The mean RSS (kB) of the samples taken during minute `m` (from 1: the samples at seconds
/// in `((m-1)·60, m·60]`).
pub fn minute_rss(samples: &[(f64, u64)], m: u32) -> Option<f64> {
    let (lo, hi) = ((m - 1) as f64 * 60.0, m as f64 * 60.0);
    let in_minute: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t > lo && *t <= hi)
        .map(|(_, kb)| *kb)
        .collect();
    if in_minute.is_empty() {
        None
    } else {
        Some(in_minute.iter().sum::<u64>() as f64 / in_minute.len() as f64)
    }
}

/// The RSS of minute `from`, of minute `to`, and the change between them in percent.
pub fn rss_change(samples: &[(f64, u64)], from: u32, to: u32) -> Option<(f64, f64, f64)> {
    let a = minute_rss(samples, from)?;
    let b = minute_rss(samples, to)?;
    Some((a, b, (b - a) / a * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_sends_at_the_rate_and_never_early() {
        let rate = 250.0;
        // Each request is due exactly at its offset, not one sooner.
        for k in [0u64, 1, 7, 249, 250, 1_000, 149_999] {
            let at = send_offset(k, rate);
            assert_eq!(due_count(at, rate), k + 1, "request {k}");
            if k > 0 {
                // (Request 0 is due at the start: there is no "before" for it.)
                assert_eq!(
                    due_count(at - Duration::from_micros(10), rate),
                    k,
                    "request {k} is not due before its time"
                );
            }
        }
        // Ten minutes at 250/s: 150,000 requests, plus the one at t = 0.
        assert_eq!(due_count(Duration::from_secs(600), rate), 150_001);
        assert_eq!(send_offset(500, rate), Duration::from_secs(2));
    }

    #[test]
    fn weighted_pick_gives_each_entry_its_share() {
        let weights = [15, 0, 3, 82];
        let mut counts = [0u32; 4];
        for draw in 0..100 {
            counts[pick_weighted(&weights, draw)] += 1;
        }
        assert_eq!(counts, [15, 0, 3, 82]);
        assert_eq!(pick_weighted(&weights, 14), 0);
        assert_eq!(pick_weighted(&weights, 15), 2);
        assert_eq!(pick_weighted(&weights, 18), 3);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn errors_are_counted_per_minute_and_per_route_without_latency() {
        let mut r = Recorder::default();
        for i in 0..98u32 {
            r.record(0, "GET /a", 1_000 + i, Outcome::Ok);
        }
        r.record(0, "GET /a", 0, Outcome::Status(500));
        r.record(2, "POST /b", 0, Outcome::Transport("reset".into()));
        r.record(2, "POST /b", 2_000, Outcome::Ok);
        r.record(2, "POST /b", 0, Outcome::Status(409));
        assert_eq!(r.minutes.len(), 3);
        assert_eq!(r.minutes[1].requests(), 0);
        let m0 = figures(&r.minutes[0]);
        assert_eq!((m0.requests, m0.errors), (99, 1));
        assert_eq!(m0.p50_ms, 1.048);
        let b = figures(&r.route_latencies["POST /b"]);
        assert_eq!((b.requests, b.errors, b.p99_ms), (3, 2, 2.0));
        let all = figures(&r.total());
        assert_eq!((all.requests, all.errors), (102, 3));
        assert_eq!(
            r.errors(),
            vec![
                ("GET /a", Outcome::Status(500), 1),
                ("POST /b", Outcome::Status(409), 1),
                ("POST /b", Outcome::Transport("reset".into()), 1),
            ]
        );
    }

    #[test]
    fn rss_change_compares_the_means_of_two_minutes() {
        // A sample every 10 s for 10 minutes: 100 MB until 2:00, then +1 MB a minute.
        let samples: Vec<(f64, u64)> = (1..=60)
            .map(|i| {
                let t = i as f64 * 10.0;
                let extra = ((t - 120.0).max(0.0) / 60.0 * 1024.0) as u64;
                (t, 100 * 1024 + extra)
            })
            .collect();
        // Minute 2 holds the samples at 70…120 s (all 100 MB); minute 10 those at 550…600 s.
        assert_eq!(minute_rss(&samples, 2), Some(102_400.0));
        let (a, b, pct) = rss_change(&samples, 2, 10).unwrap();
        assert_eq!(a, 102_400.0);
        // (430 + 440 + … + 480) / 6 = 455 s of growth at 1 MB a minute (rounded down per sample).
        assert!((b - (102_400.0 + 455.0 / 60.0 * 1024.0)).abs() < 1.0, "{b}");
        assert!(pct > 7.0 && pct < 8.0, "{pct}");
        assert_eq!(rss_change(&samples, 2, 11), None);
    }
}
