//! [`Stats`]: what one worker counted, and the merge of all of them.

use std::collections::BTreeMap;

use crate::hist::Histogram;
use crate::report::{Counts, RawBucket};

pub(crate) const MAX_ERROR_SAMPLES: usize = 20;
const MAX_HEADER_KEYS: usize = 1000;

#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) counts: Counts,
    pub(crate) hist: Histogram,
    pub(crate) gens: BTreeMap<String, u64>,
    pub(crate) pids: BTreeMap<String, u64>,
    pub(crate) statuses: BTreeMap<u16, u64>,
    pub(crate) buckets: Vec<RawBucket>,
    pub(crate) errors: Vec<String>,
}

pub(crate) fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    if let Some(v) = map.get_mut(key) {
        *v += n;
    } else if map.len() < MAX_HEADER_KEYS {
        map.insert(key.to_string(), n);
    } else {
        *map.entry("(other)".to_string()).or_insert(0) += n;
    }
}

impl Stats {
    pub(crate) fn merge(&mut self, o: Stats) {
        self.counts.merge(&o.counts);
        self.hist.merge(&o.hist);
        for (k, v) in o.gens {
            bump(&mut self.gens, &k, v);
        }
        for (k, v) in o.pids {
            bump(&mut self.pids, &k, v);
        }
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_insert(0) += v;
        }
        if self.buckets.len() < o.buckets.len() {
            self.buckets.resize_with(o.buckets.len(), RawBucket::default);
        }
        for (i, b) in o.buckets.into_iter().enumerate() {
            self.buckets[i].counts.merge(&b.counts);
            self.buckets[i].hist.merge(&b.hist);
        }
        for e in o.errors {
            self.note_error(e);
        }
    }

    pub(crate) fn note_error(&mut self, e: String) {
        if self.errors.len() < MAX_ERROR_SAMPLES && !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }
}
