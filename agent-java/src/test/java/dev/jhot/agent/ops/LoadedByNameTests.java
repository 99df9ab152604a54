package dev.jhot.agent.ops;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.jhot.agent.TestKit.*;

/** LoadedByName: when a walk of every loaded class may be skipped, and when it may not. */
public final class LoadedByNameTests {
    private LoadedByNameTests() {
    }

    /** Definitions whose count and time the test sets. */
    static final class Defs implements LoadedByName.Definitions {
        long count;
        long lastAt = System.nanoTime() - 2 * LoadedByName.SETTLE_NANOS;

        @Override
        public long count() {
            return count;
        }

        @Override
        public long lastAt() {
            return lastAt;
        }

        void define() {
            count++;
            lastAt = System.nanoTime();
        }
    }

    /** The "loaded classes": whatever the test puts in. */
    static final class Loaded implements LoadedByName.Walk {
        Class<?>[] classes;

        Loaded(Class<?>... classes) {
            this.classes = classes;
        }

        @Override
        public Class<?>[] all() {
            return classes.clone();
        }
    }

    static Set<String> names(String... n) {
        return new LinkedHashSet<>(Arrays.asList(n));
    }

    static void testAQuietJvmIsWalkedOnce() {
        Defs defs = new Defs();
        LoadedByName index = new LoadedByName(defs);
        Loaded loaded = new Loaded(String.class, Integer.class, Long.class);
        Map<String, List<Class<?>>> first = index.find(names("java.lang.Long", "java.lang.String"), null, loaded);
        eq(List.of("java.lang.Long", "java.lang.String"), List.copyOf(first.keySet()));
        eq(List.of(Long.class), first.get("java.lang.Long"));
        Map<String, List<Class<?>>> again = index.find(names("java.lang.Long", "java.lang.String"), null, loaded);
        eq(first, again);
        eq(1, index.walks);
        // A subset is known too; a name never asked about needs a walk.
        eq(List.of(String.class), index.find(names("java.lang.String"), null, loaded).get("java.lang.String"));
        eq(1, index.walks);
        eq(List.of(Integer.class), index.find(names("java.lang.Integer"), null, loaded).get("java.lang.Integer"));
        eq(2, index.walks);
    }

    static void testAbsenceIsRememberedToo() {
        Defs defs = new Defs();
        LoadedByName index = new LoadedByName(defs);
        Loaded loaded = new Loaded(String.class);
        check(index.find(names("a.Missing"), null, loaded).isEmpty(), "not loaded");
        check(index.find(names("a.Missing"), null, loaded).isEmpty(), "still not loaded");
        eq(1, index.walks);
    }

    /** The case it exists for: a copy of a class defined by another loader after a walk. */
    static void testADefinitionSinceTheWalkMeansAnotherWalk() throws Exception {
        Defs defs = new Defs();
        LoadedByName index = new LoadedByName(defs);
        Loaded loaded = new Loaded(LoadedByNameTests.class);
        String name = LoadedByNameTests.class.getName();
        eq(1, index.find(names(name), null, loaded).get(name).size());
        URL here = LoadedByNameTests.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader other = new URLClassLoader(new URL[] {here}, null)) {
            defs.define();
            Class<?> copy = other.loadClass(name);
            check(copy != LoadedByNameTests.class, "a second copy");
            loaded.classes = new Class<?>[] {LoadedByNameTests.class, copy};
            eq(List.of(LoadedByNameTests.class, copy), index.find(names(name), null, loaded).get(name));
            eq(2, index.walks);
        }
    }

    /** A walk right after a definition began may miss that class: it is not kept. */
    static void testAWalkSoonAfterADefinitionIsNotKept() {
        Defs defs = new Defs();
        defs.define();
        LoadedByName index = new LoadedByName(defs);
        Loaded loaded = new Loaded(String.class);
        index.find(names("java.lang.String"), null, loaded);
        index.find(names("java.lang.String"), null, loaded);
        eq(2, index.walks);
        defs.lastAt -= 2 * LoadedByName.SETTLE_NANOS;
        index.find(names("java.lang.String"), null, loaded);
        index.find(names("java.lang.String"), null, loaded);
        eq(3, index.walks);
    }

    /** A definition that begins during the walk: the walk answers, and is not kept. */
    static void testADefinitionDuringTheWalkIsNotKept() {
        Defs defs = new Defs();
        LoadedByName index = new LoadedByName(defs);
        LoadedByName.Walk racing = new LoadedByName.Walk() {
            @Override
            public Class<?>[] all() {
                defs.count++;
                return new Class<?>[] {String.class};
            }
        };
        eq(List.of(String.class), index.find(names("java.lang.String"), null, racing).get("java.lang.String"));
        index.find(names("java.lang.String"), null, racing);
        eq(2, index.walks);
    }

    static void testTheLoaderSelectorFiltersRememberedClasses() {
        Defs defs = new Defs();
        LoadedByName index = new LoadedByName(defs);
        Loaded loaded = new Loaded(String.class, LoadedByNameTests.class);
        Set<String> both = names("java.lang.String", LoadedByNameTests.class.getName());
        eq(2, index.find(both, null, loaded).size());
        Map<String, List<Class<?>>> boot = index.find(both, "bootstrap", loaded);
        eq(List.of("java.lang.String"), List.copyOf(boot.keySet()));
        eq(1, index.walks);
    }
}
