//! The class names the shell completes from: fetched from the agent when the shell starts (which
//! also loads the agent, so the first command finds it resident), and again after a command when
//! the JVM's loaded-class counter has moved. The counter is read from the JVM's perf-data file, at
//! no cost to the JVM; without one (`-XX:-UsePerfData`) the names are fetched again when a Tab
//! finds nothing.

use std::sync::RwLock;
use std::time::Duration;

use jhot_attach::{AttachOptions, Target};
use jhot_engine::classes::{self, ClassCounts, ClassIndex, Listing, LoadCounter};
use rustyline::completion::Pair;

#[derive(Default)]
pub struct ClassNames {
    index: ClassIndex,
    /// The JVM's perf-data file, opened once (finding it scans the hsperfdata directories).
    counter: Option<LoadCounter>,
    /// The JVM's counters when the names were fetched.
    counts: Option<ClassCounts>,
    /// Set when a Tab found nothing and the JVM has no counter to say whether that is news.
    pub stale: bool,
    /// The agent's token for "no class defined since these names" (see `refresh`).
    defined: Option<String>,
}

impl ClassNames {
    #[cfg(test)]
    pub fn from_names(names: Vec<String>) -> ClassNames {
        ClassNames { index: ClassIndex::new(names), counter: None, counts: None, stale: false, defined: None }
    }

    pub fn complete(&mut self, typed: &str) -> Vec<Pair> {
        let mut candidates = self.index.complete(typed);
        // A bare simple name means the application's class when it has one: `Laz` is hello.Lazy,
        // not also the JDK's LazyLoggers. The JDK's classes still complete by their package.
        if !typed.contains('.') && candidates.iter().any(|c| !is_jdk(&c.replacement)) {
            candidates.retain(|c| !is_jdk(&c.replacement));
        }
        let found: Vec<Pair> = candidates
            .into_iter()
            .map(|c| {
                // A package segment continues (no space after it); a class is a whole word.
                let replacement = match c.kind {
                    classes::CandidateKind::Package => c.replacement,
                    classes::CandidateKind::Class => format!("{} ", c.replacement),
                };
                Pair { display: c.display, replacement }
            })
            .collect();
        if found.is_empty() && self.counts.is_none() {
            self.stale = true;
        }
        found
    }
}

fn is_jdk(name: &str) -> bool {
    ["java.", "javax.", "jdk.", "sun.", "com.sun.", "org.w3c.", "org.xml.", "org.ietf."]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Fetches the loaded class names into `into` (loading the agent the first time).
///
/// The JVM's loaded-class counter moves with every redefinition too (HotSpot counts the new
/// version as a class loaded), so after a `redefine` the names are asked for with the agent's
/// token of the last list: unless a class has been defined since, the agent answers "unchanged"
/// and sends no names. Unloaded classes it does not see, so when the unloaded counter moved the
/// whole list is fetched.
pub async fn refresh(target: &Target, timeout: Duration, into: &RwLock<ClassNames>) -> Result<(), jhot_engine::Error> {
    let (kept, then, since) = {
        let mut names = into.write().unwrap_or_else(|p| p.into_inner());
        (names.counter.take(), names.counts, names.defined.clone())
    };
    let counter = kept.or_else(|| LoadCounter::open(target));
    let before = counter.as_ref().and_then(LoadCounter::read);
    let since = match (then, before) {
        (Some(then), Some(now)) if then.unloaded == now.unloaded => since,
        _ => None,
    };
    let opts = AttachOptions { timeout, ..Default::default() };
    let listing = match classes::loaded_unless(target, &opts, timeout, since.as_deref()).await {
        Ok(l) => l,
        Err(e) => {
            // The names stay as they were; so does the counter that says when to try again.
            into.write().unwrap_or_else(|p| p.into_inner()).counter = counter;
            return Err(e.into());
        }
    };
    let mut names = into.write().unwrap_or_else(|p| p.into_inner());
    match listing {
        Listing::Unchanged => {
            tracing::debug!("class names unchanged");
            names.counter = counter;
            names.counts = before;
            names.stale = false;
        }
        Listing::Fresh { classes, defined } => {
            let index = classes.index();
            tracing::debug!(classes = index.len(), "class names for completion");
            *names = ClassNames { index, counter, counts: before, stale: false, defined };
        }
    }
    Ok(())
}

/// Whether the names should be fetched again: the JVM loaded or unloaded classes since (its
/// counter moved), or a Tab found nothing where no counter can tell.
pub fn moved(names: &RwLock<ClassNames>) -> bool {
    let names = names.read().unwrap_or_else(|p| p.into_inner());
    match (&names.counter, names.counts) {
        (Some(counter), Some(then)) => counter.read().is_some_and(|now| now != then),
        _ => names.stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simple_name_prefers_the_applications_classes() {
        let mut n = ClassNames::from_names(vec![
            "hello.Lazy".into(),
            "jdk.internal.logger.LazyLoggers".into(),
            "java.lang.String".into(),
        ]);
        let shown = |p: Vec<Pair>| p.into_iter().map(|p| p.replacement).collect::<Vec<_>>();
        assert_eq!(shown(n.complete("Laz")), vec!["hello.Lazy "]);
        assert_eq!(shown(n.complete("Stri")), vec!["java.lang.String "]);
        assert_eq!(shown(n.complete("jdk.internal.logger.La")), vec!["jdk.internal.logger.LazyLoggers "]);
    }
}
