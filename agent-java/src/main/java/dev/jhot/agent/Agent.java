package dev.jhot.agent;

import dev.jhot.agent.ops.Ops;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Entry point, called through Boot (which defines the agent's classes) for -javaagent (premain)
 * or jhot's attach (agentmain). HotSpot calls agentmain again on every load, and Boot calls this
 * same class, so all state is static and set up once:
 * later loads only count themselves, or retry a channel that failed to start.
 */
public final class Agent {
    private static Instrumentation inst;
    private static Ops ops;
    private static volatile Server server;
    /** The directory this agent serves in, from the load that started it until the channel fails
     *  to open (a later load then tries again). */
    private static volatile Path serving;
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
                ops = Ops.install(i, mode);
                inst = i;
            }
            ops.loaded();
            Path dir = dir(args);
            if (serving != null) {
                if (!serving.equals(dir)) {
                    log("already serving in " + serving + "; ignoring dir=" + dir);
                } else if (arg(args, "req") != null) {
                    // jhot could not reach the channel (yet) and loaded again: still answer it.
                    Dispatcher d = new Dispatcher(ops);
                    Inbox.answer(dir, arg(args, "req"), d);
                    if ("1".equals(arg(args, "more"))) Inbox.followUp(dir, arg(args, "req"), d);
                }
                return;
            }
            ops.setPrivateDir(dir.toAbsolutePath().normalize());
            Dispatcher dispatcher = new Dispatcher(ops);
            String request = arg(args, "req");
            if (request == null) {
                Server s = new Server(dir, dispatcher);
                String problem = s.start(true);
                if (problem != null) {
                    log(problem);
                    return;
                }
                server = s;
                serving = dir;
                addShutdownHook();
                return;
            }
            // Neither the channel nor the request may use a directory another user can touch.
            int euid = PrivateDir.euid();
            String unsafe = PrivateDir.check(dir, euid);
            if (unsafe != null) {
                log("not answering " + request + ": " + unsafe);
                return;
            }
            // open=late: jhot will not use the channel for this command, so it opens only once the
            // request is answered: on a busy JVM the channel's start-up (the JDK's security
            // providers, 10-30 ms of CPU) would compete with the answer for the one core the
            // application leaves free, and so would anything else not needed for the answer.
            // The marker goes up before the answer all the same: jhot exits as soon as it has
            // the answer, and a command run right after it must find the marker (and wait for
            // the channel), not an agent that looks absent, which it would load a second time.
            boolean late = "late".equals(arg(args, "open"));
            serving = dir;
            Path marker = Opening.mark(dir, request);
            if (!late) open(dir, dispatcher, marker, null);
            try {
                // The directory was checked above, for this request.
                Inbox.answerChecked(dir, request, dispatcher, euid);
                if ("1".equals(arg(args, "more"))) Inbox.followUp(dir, request, dispatcher);
            } finally {
                // After the answer: once jhot has taken it (see Opener).
                if (late) open(dir, dispatcher, marker, Inbox.requestName(request) ? Inbox.answerFile(dir, request) : null);
                addShutdownHook();
            }
        } catch (Throwable t) {
            log("cannot start: " + Failure.describe(t));
        }
    }

    /** Opens the channel on a thread of its own, beside answering the request carried with this
     *  load (Inbox). Until it is open, {@code <pid>.opening} tells other jhot commands to wait for
     *  it rather than conclude that no agent is here (and load it a second time). The Server is made
     *  here, on the opener's path only: a cold answer does not need its class. */
    private static void open(Path dir, Dispatcher dispatcher, Path marker, Path answer) {
        Thread opener = new Thread(new Opener(new Server(dir, dispatcher), marker, answer), "jhot-agent-start");
        opener.setDaemon(true);
        opener.setPriority(Thread.NORM_PRIORITY);
        opener.start();
    }

    /** A class, not a lambda: a cold agent would pay a lambda's interpreted bootstrap. */
    private static final class Opener implements Runnable {
        private final Server s;
        private final Path opening;
        /** With open=late: the answer file, which jhot removes once it has read it. */
        private final Path answer;

        Opener(Server s, Path opening, Path answer) {
            this.answer = answer;
            this.s = s;
            this.opening = opening;
        }

        @Override
        public void run() {
            String problem = "not started";
            if (answer != null) afterTheCommand(answer);
            try {
                problem = s.start(true);
                if (problem != null) {
                    log(problem);
                    serving = null;
                } else {
                    server = s;
                }
            } finally {
                // The channel listens now (or never will): commands waiting for it go on.
                Opening.clear(opening);
            }
            if (problem == null) {
                s.warmUp();
                ops.startMs();
                Leftovers.sweep(s.dir, ProcessHandle.current().pid());
            }
        }
    }

    /**
     * Waits until jhot has taken the answer (at most 200 ms), then 10 ms more for it to print and
     * exit. The channel's start-up costs 10-30 ms of CPU; begun at once, on a machine with few
     * cores it took the CPU from the command that had just been answered (which then read its
     * answer up to 10 ms late and exited up to 9 ms late). Paired runs, JDK 17, 2 cores, idle:
     * cold redefine 42 -> 39 ms with a fixed delay, 49 -> 46 ms with this wait; busy runs did not
     * separate from their spread. A command meanwhile waits for the marker.
     */
    private static void afterTheCommand(Path answer) {
        try {
            java.io.File f = answer.toFile();
            long deadline = System.nanoTime() + 200_000_000L;
            while (f.exists() && System.nanoTime() < deadline) Thread.sleep(1);
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void addShutdownHook() {
        if (shutdownHook != null) return;
        shutdownHook = new Thread(new Runnable() {
            @Override
            public void run() {
                shutdown();
            }
        }, "jhot-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private static void shutdown() {
        // Bounded: the JVM's exit waits at most a second for an answer jhot is waiting for.
        Connection.awaitReplies(1_000);
        Server s = server;
        if (s != null) s.removeFile();
    }

    /** Arguments are key=value pairs separated by ','; unknown keys are ignored so that a newer
     *  jhot can pass options an older agent does not know. */
    static Path dir(String args) throws Exception {
        String dir = arg(args, "dir");
        return dir != null ? Paths.get(dir) : PrivateDir.defaultDir();
    }

    static String arg(String args, String key) {
        if (args != null) {
            for (String kv : args.split(",")) {
                int eq = kv.indexOf('=');
                if (eq > 0 && kv.substring(0, eq).trim().equals(key) && eq + 1 < kv.length()) {
                    return kv.substring(eq + 1);
                }
            }
        }
        return null;
    }

    static void log(String message) {
        System.err.println("[jhot-agent] " + message);
    }
}
