package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Graceful stop for servers that have none of their own: the JDK's com.sun.net.httpserver dies
 * with its in-flight requests on SIGTERM unless the application registered a hook, so jhot asks
 * the agent to call {@code ServerImpl.stop(seconds)} on every one before it signals the JVM.
 */
final class Drain {
    static final String KIND = "jdk.httpserver";
    /** ServerImpl.stop joins its dispatcher thread without a bound, and with the default executor
     *  the handlers run on that thread: a handler that never returns would hold the answer forever. */
    static final long GRACE_MILLIS = 10_000;
    /** How long the dispatcher gets to start exchanges on connections accepted before the close. */
    static final long ACCEPTED_SETTLE_MILLIS = 150;

    private Drain() {
    }

    /**
     * {@code drain}. Takes no lock: other connections, and other ops, are served meanwhile. Stops
     * the servers it knows by name (Tomcat: it stops accepting; JDK HttpServer: its stop()), fences
     * the listeners jhot names ({@code fence}: descriptor and inode, the rest of any server stops
     * taking connections from them), and says which shutdown hooks the application registered:
     * without one, SIGTERM ends the JVM with whatever it is doing.
     */
    static void drain(Ops ops, Req req, Map<String, Object> out) throws Failure {
        int seconds = (int) req.longValue("seconds", 0, 3600);
        // Read first: once a server stopped by name was its last non-daemon thread, the JVM shuts
        // down on its own and the hooks are gone.
        List<Object> hooks = shutdownHooks(ops.inst);
        List<Object> servers = new ArrayList<>();
        // Tomcat first: it only stops accepting, which is immediate; its graceful stop is SIGTERM's.
        servers.addAll(tomcat(ops.inst));
        if (req.has("fence")) out.put("fenced", fence(ops, req));
        servers.addAll(grpc(ops.inst, seconds));
        servers.addAll(jdkHttpServers(ops.inst, seconds));
        out.put("servers", servers);
        out.put("shutdown_hooks", hooks);
    }

    static List<Object> fence(Ops ops, Req req) throws Failure {
        List<Req> items = req.objects("fence");
        if (items.isEmpty() || items.size() > 32) throw Failure.protocol("\"fence\" must hold 1 to 32 listeners, not " + items.size());
        int[] fds = new int[items.size()];
        long[] inodes = new long[items.size()];
        for (int k = 0; k < fds.length; k++) {
            fds[k] = (int) items.get(k).longValue("fd", 0, Integer.MAX_VALUE);
            inodes[k] = items.get(k).longValue("inode", 0, Long.MAX_VALUE);
        }
        Fds.loadNative(Fds.inPrivateDir(ops, req, "lib"));
        long[] r;
        try {
            r = dev.jhot.agent.Native.fence(fds, inodes);
        } catch (LinkageError | RuntimeException e) {
            throw new Failure("native", Failure.describe(e), null);
        }
        List<Object> out = new ArrayList<>();
        for (int k = 0; k < fds.length && 3 * k + 2 < r.length; k++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fd", fds[k]);
            m.put("status", r[3 * k]);
            m.put("woken", r[3 * k + 1]);
            m.put("blocked", r[3 * k + 2]);
            out.add(m);
        }
        return out;
    }

    /**
     * gRPC (grpc-java): every server registered with channelz (ServerImpl.start registers itself
     * there), found through the loaded {@code io.grpc.InternalChannelz}, without --add-opens (all
     * public). {@code shutdown()} sends GOAWAY: clients open new connections, which the fenced old
     * process no longer accepts, for new calls, and the calls in progress finish; then
     * {@code awaitTermination} up to {@code seconds}. What an application's shutdown hook would do
     * on SIGTERM, for one that has none.
     */
    static List<Object> grpc(Instrumentation inst, int seconds) {
        List<Object> out = new ArrayList<>();
        if (inst == null) return out;
        List<Object> servers = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (!"io.grpc.InternalChannelz".equals(c.getName())) continue;
            try {
                Object channelz = c.getMethod("instance").invoke(null);
                Object page = c.getMethod("getServers", long.class, int.class).invoke(channelz, 0L, 1000);
                Object list = page.getClass().getField("servers").get(page);
                if (list instanceof List) servers.addAll((List<?>) list);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("kind", "grpc");
                m.put("address", null);
                m.put("stopped_ms", null);
                m.put("error", "cannot list the gRPC servers: " + Failure.describe(e));
                out.add(m);
            }
        }
        long t0 = System.nanoTime();
        List<Map<String, Object>> started = new ArrayList<>();
        for (Object server : servers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", "grpc");
            try {
                m.put("address", String.valueOf(server.getClass().getMethod("getListenSockets").invoke(server)));
                server.getClass().getMethod("shutdown").invoke(server);
            } catch (ReflectiveOperationException | RuntimeException e) {
                m.putIfAbsent("address", null);
                m.put("error", Failure.describe(e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e));
            }
            m.put("server", server);
            started.add(m);
        }
        long deadline = t0 + seconds * 1_000_000_000L;
        for (Map<String, Object> m : started) {
            Object server = m.remove("server");
            if (!m.containsKey("error")) {
                try {
                    long left = Math.max(0, deadline - System.nanoTime());
                    Object done = server.getClass().getMethod("awaitTermination", long.class, java.util.concurrent.TimeUnit.class)
                            .invoke(server, left, java.util.concurrent.TimeUnit.NANOSECONDS);
                    if (!Boolean.TRUE.equals(done)) m.put("error", "calls still in progress after " + seconds + " s");
                } catch (ReflectiveOperationException | RuntimeException e) {
                    m.put("error", Failure.describe(e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e));
                }
            }
            m.put("stopped_ms", (System.nanoTime() - t0) / 1_000_000L);
            out.add(m);
        }
        return out;
    }

    /** The names of the application's shutdown hooks (Runtime.addShutdownHook), or null if unknown. */
    static List<Object> shutdownHooks(Instrumentation inst) {
        try {
            open(inst, Object.class.getModule(), "java.lang", Drain.class.getModule());
            Class<?> c = Class.forName("java.lang.ApplicationShutdownHooks");
            Field f = c.getDeclaredField("hooks");
            f.setAccessible(true);
            List<Object> names = new ArrayList<>();
            // The class's own methods lock the class; after shutdown began the map is null.
            synchronized (c) {
                Object hooks = f.get(null);
                if (!(hooks instanceof Map)) return null;
                for (Object t : ((Map<?, ?>) hooks).keySet()) {
                    Thread hook = (Thread) t;
                    // The agent's own hook removes its channel files, and the JDK's own (the
                    // logging cleaner) flush and close: neither stops a server.
                    if (hook.getName().startsWith("jhot-agent") || isJdks(hook)) continue;
                    names.add(hook.getName());
                }
            }
            return names;
        } catch (ReflectiveOperationException | RuntimeException | Failure e) {
            return null;
        }
    }

    /** A hook whose code is the JDK's: its Runnable (or, for a Thread subclass, its class) was
     *  loaded by the boot or platform loader. */
    private static boolean isJdks(Thread hook) {
        Object task = null;
        try {
            task = task(hook);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // judged by the thread's class alone
        }
        Class<?> k = task != null ? task.getClass() : hook.getClass();
        if (task == null && k == Thread.class) return false; // a bare Thread: the application's subclass is not known
        ClassLoader l = k.getClassLoader();
        return l == null || l == ClassLoader.getPlatformClassLoader();
    }

    /**
     * Tomcat (Spring Boot's default server) stops gracefully on SIGTERM, but with a listener shared
     * with the new process its acceptor thread, blocked in accept() when the stop begins, still
     * takes one more connection from the shared queue and closes it unanswered (the acceptor sees
     * it was paused). So the agent stops the acceptor loop and closes Tomcat's copy of the listener
     * first: the blocked accept() ends with an AsynchronousCloseException instead, and every later
     * connection goes to the new process. Nothing else of Tomcat changes.
     */
    static List<Object> tomcat(Instrumentation inst) throws Failure {
        List<Object> out = new ArrayList<>();
        List<Thread> threads = liveThreads();
        boolean opened = false;
        IdentityHashMap<Object, Boolean> seen = new IdentityHashMap<>();
        for (Thread t : threads) {
            // Acceptor threads are named "<protocol>-<port>-Acceptor" (Tomcat 9+); only they are read.
            if (!t.getName().endsWith("-Acceptor")) continue;
            if (!opened) {
                open(inst, Object.class.getModule(), "java.lang", Drain.class.getModule());
                opened = true;
            }
            long t0 = System.nanoTime();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", "tomcat");
            try {
                Object acceptor = task(t);
                if (acceptor == null || !acceptor.getClass().getName().equals("org.apache.tomcat.util.net.Acceptor")) continue;
                if (seen.put(acceptor, Boolean.TRUE) != null) continue;
                Object endpoint = field(acceptor, "endpoint");
                Object sock = endpoint == null ? null : field(endpoint, "serverSock");
                if (sock instanceof java.nio.channels.NetworkChannel) {
                    try {
                        m.put("address", String.valueOf(((java.nio.channels.NetworkChannel) sock).getLocalAddress()));
                    } catch (java.io.IOException | RuntimeException e) {
                        m.put("address", null);
                    }
                }
                // The listener copy is closed first, then the loop is marked stopped: a connection
                // the acceptor took from the shared queue just before the close is processed as
                // usual, whereas one it takes after stop() is destroyed unanswered (Tomcat checks
                // stopCalled after accept() returns). Seen under load on Tomcat 11: EOF on fresh
                // connections, a few per replacement. The price is an "accept failed" line or two
                // in the old process's log when its blocked accept() is woken by the close.
                if (sock instanceof java.nio.channels.Channel) ((java.nio.channels.Channel) sock).close();
                // An accept() that returned just before the close is still unchecked until the
                // acceptor comes round again; stop() in between would make Tomcat destroy that
                // connection (seen: one reset fresh connection in tens of thousands, on a loaded
                // machine). Once the thread is seen waiting, it is past that check, and the
                // closed channel gives it nothing more (it sleeps in its error back-off).
                m.put("settled", awaitParked(t, ACCEPTOR_SETTLE_MILLIS));
                acceptor.getClass().getMethod("stop", int.class).invoke(acceptor, 0);
                m.put("stopped_ms", (System.nanoTime() - t0) / 1_000_000L);
            } catch (java.lang.reflect.InvocationTargetException e) {
                m.put("stopped_ms", null);
                m.put("error", Failure.describe(e.getCause()));
            } catch (ReflectiveOperationException | java.io.IOException | RuntimeException e) {
                m.put("stopped_ms", null);
                m.put("error", Failure.describe(e));
            }
            out.add(m);
        }
        return out;
    }

    /** How long a Tomcat acceptor gets to come back from an accept() after its listener closed. */
    static final long ACCEPTOR_SETTLE_MILLIS = 500;

    /** Whether t was seen waiting or ended within millis (polled: it has nothing to notify). */
    static boolean awaitParked(Thread t, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.TERMINATED) return true;
            if (System.nanoTime() - deadline > 0) return false;
            java.util.concurrent.locks.LockSupport.parkNanos(200_000L);
        }
    }

    /** A field's value, declared in the object's class or a superclass. */
    private static Object field(Object o, String name) throws ReflectiveOperationException {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // keep looking in the superclass
            }
        }
        return null;
    }

    static List<Object> jdkHttpServers(Instrumentation inst, int seconds) throws Failure {
        List<Object> out = new ArrayList<>();
        Optional<Module> http = ModuleLayer.boot().findModule("jdk.httpserver");
        if (!http.isPresent()) return out; // a runtime image without the module runs no such server
        List<Thread> dispatchers = new ArrayList<>();
        for (Thread t : liveThreads()) if ("HTTP-Dispatcher".equals(t.getName())) dispatchers.add(t);
        if (dispatchers.isEmpty()) return out;

        Module self = Drain.class.getModule();
        open(inst, Object.class.getModule(), "java.lang", self);
        open(inst, http.get(), "sun.net.httpserver", self);
        List<Object> servers = new ArrayList<>();
        Method stop;
        Method address;
        try {
            Class<?> impl = Class.forName(http.get(), "sun.net.httpserver.ServerImpl");
            if (impl == null) return out;
            IdentityHashMap<Object, Boolean> seen = new IdentityHashMap<>();
            for (Thread t : dispatchers) {
                Object server = outer(task(t), impl);
                if (server != null && seen.put(server, Boolean.TRUE) == null) servers.add(server);
            }
            stop = impl.getMethod("stop", int.class);
            address = impl.getMethod("getAddress");
            stop.setAccessible(true);
            address.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new Failure("internal", "cannot reach the JDK HttpServer's internals: " + Failure.describe(e), null);
        }

        List<Stopper> stoppers = new ArrayList<>();
        for (Object server : servers) {
            Object addr;
            try {
                // Read before stopping: a closed listener has no address.
                addr = address.invoke(server);
            } catch (ReflectiveOperationException | RuntimeException e) {
                addr = null;
            }
            Stopper s = new Stopper(server, stop, seconds, addr == null ? null : addr.toString());
            stoppers.add(s);
        }
        // One thread per server, because each stop() waits up to `seconds` on its own.
        for (Stopper s : stoppers) {
            Thread t = new Thread(s, "jhot-agent-drain");
            t.setDaemon(true);
            // Started from the attach listener (a request file), it would inherit its high priority.
            t.setPriority(Thread.NORM_PRIORITY);
            s.thread = t;
            t.start();
        }
        long deadline = System.nanoTime() + (seconds * 1000L + GRACE_MILLIS) * 1_000_000L;
        boolean interrupted = false;
        for (Stopper s : stoppers) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            try {
                if (left > 0 && !interrupted) s.thread.join(left);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            out.add(s.result());
        }
        if (interrupted) Thread.currentThread().interrupt();
        return out;
    }

    private static final class Stopper implements Runnable {
        final Object server;
        final Method stop;
        final int seconds;
        final String address;
        final long t0 = System.nanoTime();
        Thread thread;
        volatile long stoppedMs = -1;
        volatile String error;

        Stopper(Object server, Method stop, int seconds, String address) {
            this.server = server;
            this.stop = stop;
            this.seconds = seconds;
            this.address = address;
        }

        @Override
        public void run() {
            try {
                // Close the server's copy of the listener first and let the dispatcher start the
                // exchanges of connections it has just accepted: stop() marks the server
                // terminating at once, and a connection accepted from the shared queue an instant
                // before would then never be served, only reset when stop() closes everything.
                Object schan = field(server, "schan");
                if (schan instanceof java.nio.channels.Channel) {
                    try {
                        ((java.nio.channels.Channel) schan).close();
                        Thread.sleep(ACCEPTED_SETTLE_MILLIS);
                    } catch (java.io.IOException e) {
                        // stop() closes it again and reports nothing either
                    }
                }
                stop.invoke(server, seconds);
            } catch (java.lang.reflect.InvocationTargetException e) {
                error = Failure.describe(e.getCause());
            } catch (Throwable e) {
                error = Failure.describe(e);
            } finally {
                stoppedMs = (System.nanoTime() - t0) / 1_000_000L;
            }
        }

        Map<String, Object> result() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", KIND);
            m.put("address", address);
            long ms = stoppedMs;
            if (ms >= 0) {
                m.put("stopped_ms", ms);
                if (error != null) m.put("error", error);
            } else {
                m.put("stopped_ms", null);
                m.put("error", "still stopping " + (seconds * 1000L + GRACE_MILLIS) / 1000 + " s after the drain began (a handler that does not return?)");
            }
            return m;
        }
    }

    /** Every live platform thread (virtual threads never run an HttpServer's dispatcher). */
    static List<Thread> liveThreads() {
        ThreadGroup g = Thread.currentThread().getThreadGroup();
        while (g.getParent() != null) g = g.getParent();
        Thread[] all = new Thread[g.activeCount() + 16];
        int n;
        while ((n = g.enumerate(all, true)) == all.length) all = new Thread[all.length * 2];
        List<Thread> out = new ArrayList<>(n);
        for (int k = 0; k < n; k++) out.add(all[k]);
        return out;
    }

    /** Opens pkg of m to the agent at run time, so the JVM needs no --add-opens. */
    private static void open(Instrumentation inst, Module m, String pkg, Module to) throws Failure {
        if (m.isOpen(pkg, to)) return;
        if (inst == null || !inst.isModifiableModule(m)) {
            throw new Failure("internal", "cannot open " + m.getName() + "/" + pkg + " to the agent", null);
        }
        inst.redefineModule(m, Set.of(), Map.of(), Map.of(pkg, Set.of(to)), Set.of(), Map.of());
    }

    /** The Runnable a thread was started with: Thread.target up to JDK 18, Thread.holder.task
     *  since JDK 19 moved the fields that virtual threads do not need into a holder. */
    static Object task(Thread t) throws ReflectiveOperationException {
        Field f;
        try {
            f = Thread.class.getDeclaredField("target");
        } catch (NoSuchFieldException e) {
            Field h = Thread.class.getDeclaredField("holder");
            h.setAccessible(true);
            Object holder = h.get(t);
            if (holder == null) return null;
            Field task = holder.getClass().getDeclaredField("task");
            task.setAccessible(true);
            return task.get(holder);
        }
        f.setAccessible(true);
        return f.get(t);
    }

    /** The ServerImpl that owns a ServerImpl$Dispatcher (its enclosing instance, this$0). */
    private static Object outer(Object runnable, Class<?> impl) throws IllegalAccessException {
        if (runnable == null || runnable.getClass().getEnclosingClass() != impl) return null;
        for (Field f : runnable.getClass().getDeclaredFields()) {
            if (f.getType() == impl) {
                f.setAccessible(true);
                return f.get(runnable);
            }
        }
        return null;
    }
}
