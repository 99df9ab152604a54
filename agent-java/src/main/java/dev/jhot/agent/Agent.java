package dev.jhot.agent;

import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Entry point, loaded by -javaagent (premain) or by jhot's attach (agentmain). HotSpot calls
 * agentmain again on every load, on this same class, so all state is static and set up once:
 * later loads only count themselves, or retry a channel that failed to start.
 */
public final class Agent {
    private static Instrumentation inst;
    private static Ops ops;
    private static volatile Server server;
    private static Thread shutdownHook;

    private Agent() {
    }

    public static void premain(String args, Instrumentation i) {
        start(args, i, "premain");
    }

    public static void agentmain(String args, Instrumentation i) {
        start(args, i, "dynamic");
    }

    /** Never throws: a throwing agentmain makes the JVM print an assertion block on the
     *  application's stderr. */
    private static synchronized void start(String args, Instrumentation i, String mode) {
        try {
            if (inst == null) {
                History history = new History();
                Registry registry = new Registry(history);
                Registry.warmUp();
                ops = new Ops(i, registry, history);
                ops.mode = mode;
                i.addTransformer(registry, true);
                inst = i;
            }
            ops.loads.incrementAndGet();
            Path dir = dir(args);
            if (server != null) {
                if (!server.dir.equals(dir)) log("already serving in " + server.dir + "; ignoring dir=" + dir);
                return;
            }
            Server s = new Server(dir, new Dispatcher(ops));
            String problem = s.start(true);
            if (problem != null) {
                log(problem);
                return;
            }
            server = s;
            if (shutdownHook == null) {
                shutdownHook = new Thread(Agent::shutdown, "jhot-agent-shutdown");
                Runtime.getRuntime().addShutdownHook(shutdownHook);
            }
        } catch (Throwable t) {
            log("cannot start: " + Ops.describe(t));
        }
    }

    private static void shutdown() {
        Server s = server;
        if (s != null) s.removeFile();
    }

    /** Arguments are key=value pairs separated by ','; unknown keys are ignored so that a newer
     *  jhot can pass options an older agent does not know. */
    static Path dir(String args) throws Exception {
        if (args != null) {
            for (String kv : args.split(",")) {
                int eq = kv.indexOf('=');
                if (eq > 0 && kv.substring(0, eq).trim().equals("dir") && eq + 1 < kv.length()) {
                    return Paths.get(kv.substring(eq + 1));
                }
            }
        }
        return PrivateDir.defaultDir();
    }

    static void log(String message) {
        System.err.println("[jhot-agent] " + message);
    }
}
