package dev.jhot.agent;

import dev.jhot.agent.ops.ClassFilesTests;
import dev.jhot.agent.ops.ClassesTests;
import dev.jhot.agent.ops.DeployTests;
import dev.jhot.agent.ops.DrainTests;
import dev.jhot.agent.ops.FdsTests;
import dev.jhot.agent.ops.LoadedByNameTests;
import dev.jhot.agent.ops.RegistryTests;
import dev.jhot.agent.ops.VmTests;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Self-running tests (no JUnit, so they run with nothing but a JDK):
 * javac --release 11 -d /tmp/x $(find agent-java/src -name '*.java') && java -cp /tmp/x dev.jhot.agent.AgentTests
 * Every static method whose name starts with "test", of every class in AREAS, runs (by name within
 * its class); a test fails by throwing, and skips by throwing TestKit.Skip. A new test class goes
 * into AREAS.
 */
public final class AgentTests {
    static final Class<?>[] AREAS = {
        JsonTests.class, FrameTests.class, ReqTests.class, DispatcherTests.class, InboxTests.class, PrivateDirTests.class, ServerTests.class,
        RegistryTests.class, DrainTests.class, DeployTests.class, FdsTests.class, StreamTests.class, VmTests.class,
        ClassFilesTests.class, BootTests.class, LoadedByNameTests.class, LeftoversTests.class, ClassesTests.class,
    };

    private AgentTests() {
    }

    public static void main(String[] args) throws Exception {
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        for (Class<?> area : AREAS) {
            Method[] methods = area.getDeclaredMethods();
            Arrays.sort(methods, Comparator.comparing(Method::getName));
            for (Method m : methods) {
                if (!m.getName().startsWith("test") || !Modifier.isStatic(m.getModifiers())) continue;
                String name = area.getSimpleName() + "." + m.getName();
                m.setAccessible(true);
                long t0 = System.nanoTime();
                try {
                    m.invoke(null);
                    passed++;
                    System.out.printf("ok    %s (%d ms)%n", name, (System.nanoTime() - t0) / 1_000_000);
                } catch (java.lang.reflect.InvocationTargetException e) {
                    if (e.getCause() instanceof TestKit.Skip) {
                        skipped++;
                        System.out.printf("skip  %s: %s%n", name, e.getCause().getMessage());
                        continue;
                    }
                    failed++;
                    System.out.printf("FAIL  %s: %s%n", name, e.getCause());
                    e.getCause().printStackTrace(System.out);
                }
            }
        }
        TestKit.cleanUp();
        // The runner looks for a last line that ends in " 0 failed".
        System.out.println(passed + " passed, " + skipped + " skipped, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
