//! A log-linear latency histogram: exact below 256 µs, then 128 sub-buckets per power of two,
//! so a reported value is at most 0.8 % above the true one (never below). Memory is bounded by
//! the number of distinct buckets hit (a few hundred in practice), whatever the request count.

use std::collections::BTreeMap;

const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS; // 128
const EXACT: u64 = 2 * SUB; // values below this get their own bucket

/// The bucket of a value (in µs).
pub fn index(v: u64) -> u16 {
    if v < EXACT {
        return v as u16;
    }
    let m = 63 - v.leading_zeros(); // >= SUB_BITS + 1
    let shift = m - SUB_BITS;
    (u64::from(shift) * SUB + (v >> shift)) as u16
}

/// The highest value that falls in bucket `i`.
pub fn highest(i: u16) -> u64 {
    let i = u64::from(i);
    if i < EXACT {
        return i;
    }
    let shift = i / SUB - 1;
    let sub = i % SUB + SUB;
    ((sub + 1) << shift) - 1
}

/// The lowest value that falls in bucket `i`.
pub fn lowest(i: u16) -> u64 {
    let i = u64::from(i);
    if i < EXACT {
        return i;
    }
    let shift = i / SUB - 1;
    let sub = i % SUB + SUB;
    sub << shift
}

#[derive(Debug, Clone, Default)]
pub struct Histogram {
    buckets: BTreeMap<u16, u64>,
    count: u64,
    max: u64,
    sum: u128,
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        *self.buckets.entry(index(v)).or_insert(0) += 1;
        self.count += 1;
        self.max = self.max.max(v);
        self.sum += u128::from(v);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (&i, &n) in &other.buckets {
            *self.buckets.entry(i).or_insert(0) += n;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact maximum.
    pub fn max(&self) -> u64 {
        self.max
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum as f64 / self.count as f64 }
    }

    /// The value at quantile `q` (0..=1): the smallest recorded bucket whose cumulative count
    /// reaches `ceil(q * count)`, reported as that bucket's highest value, capped by the exact
    /// maximum. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (&i, &n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return highest(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_precise() {
        let mut prev_high = None;
        for i in 0..=index(u64::from(u32::MAX)) {
            let (lo, hi) = (lowest(i), highest(i));
            assert!(lo <= hi);
            if let Some(p) = prev_high {
                assert_eq!(lo, p + 1, "gap before bucket {i}");
            }
            prev_high = Some(hi);
            assert_eq!(index(lo), i);
            assert_eq!(index(hi), i);
            // relative width below 1/128
            assert!((hi - lo) as f64 <= lo as f64 / 128.0 + 1e-9, "bucket {i}: {lo}..{hi}");
        }
    }

    #[test]
    fn quantiles_of_known_data() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), 0);
        for v in 1..=1000u64 {
            h.record(v);
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.max(), 1000);
        assert_eq!(h.quantile(0.0), 1);
        let p50 = h.quantile(0.5);
        assert!((500..=501).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99);
        assert!((990..=997).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), 1000);
        assert!((h.mean() - 500.5).abs() < 1e-9);

        let mut a = Histogram::default();
        let mut b = Histogram::default();
        for v in 1..=500u64 {
            a.record(v);
        }
        for v in 501..=1000u64 {
            b.record(v);
        }
        a.merge(&b);
        assert_eq!(a.quantile(0.5), h.quantile(0.5));
        assert_eq!(a.quantile(0.99), h.quantile(0.99));
        assert_eq!(a.max(), 1000);
    }

    #[test]
    fn single_large_value() {
        let mut h = Histogram::default();
        h.record(5_000_000);
        assert_eq!(h.quantile(0.5), 5_000_000);
        assert_eq!(h.quantile(0.999), 5_000_000);
    }
}
