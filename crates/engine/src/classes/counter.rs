//! "Did classes load since?": the JVM's own class-loading counters in its perf data
//! (`hsperfdata_<user>/<pid>`, the shared memory `jstat -class` reads). Reading them is one
//! `pread` of a file jhot keeps open; nothing runs in the JVM, no agent, no safepoint. The shell
//! asks before each completion and rebuilds its [`ClassIndex`](super::ClassIndex) when the counts
//! moved.

use jhot_attach::Target;
use jhot_attach::hsperf::{self, PerfData, PerfFile};
use serde::Serialize;

/// HotSpot's counters (`ClassLoadingService`): classes loaded and unloaded so far, CDS-shared
/// ones counted apart by the JVM and added here. Equal counts mean no class loaded or unloaded
/// in between (hidden classes and lambdas included, which the index leaves out: a lambda spun up
/// moves them too, a harmless refresh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    pub loaded: i64,
    pub unloaded: i64,
}

impl ClassCounts {
    pub fn from_perf(d: &PerfData) -> Option<ClassCounts> {
        let loaded = d.long("java.cls.loadedClasses")?;
        let unloaded = d.long("java.cls.unloadedClasses").unwrap_or(0);
        let shared_loaded = d.long("java.cls.sharedLoadedClasses").unwrap_or(0);
        let shared_unloaded = d.long("java.cls.sharedUnloadedClasses").unwrap_or(0);
        Some(ClassCounts { loaded: loaded + shared_loaded, unloaded: unloaded + shared_unloaded })
    }
}

/// A JVM's perf-data file, kept open for [`LoadCounter::read`].
#[derive(Debug)]
pub struct LoadCounter {
    file: PerfFile,
}

impl LoadCounter {
    /// `None` when the JVM publishes no perf data (`-XX:-UsePerfData`), its file is not readable
    /// as jhot checks it (see `hsperf::find`), or it has no class counters: then the index is
    /// refreshed only on demand.
    pub fn open(target: &Target) -> Option<LoadCounter> {
        let file = hsperf::find(target.pid, target.nspid, target.euid, target.user.as_deref())?;
        let data = file.reread().ok()?;
        if !file.is_of_process(&data, target.start_time) || ClassCounts::from_perf(&data).is_none() {
            return None;
        }
        Some(LoadCounter { file })
    }

    /// The counts now; `None` if the file cannot be read any more (the JVM exited).
    pub fn read(&self) -> Option<ClassCounts> {
        ClassCounts::from_perf(&self.file.reread().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_shared_classes_and_need_the_loaded_counter() {
        assert_eq!(ClassCounts::from_perf(&PerfData::default()), None);
        let d = PerfData::with_longs(&[
            ("java.cls.loadedClasses", 100),
            ("java.cls.sharedLoadedClasses", 400),
            ("java.cls.unloadedClasses", 2),
        ]);
        assert_eq!(ClassCounts::from_perf(&d), Some(ClassCounts { loaded: 500, unloaded: 2 }));
    }
}
