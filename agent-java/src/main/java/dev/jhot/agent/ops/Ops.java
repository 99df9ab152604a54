package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The protocol's operations on this JVM (docs/protocol.md): the state they share, the lock that
 * makes mutating operations run one at a time, and which class serves each op. hello and history
 * only report that state and are answered here; Patches serves bytes and redefine, Rollbacks
 * rollback, Inventory inventory and resources, Classes classes, class_info and loaders,
 * ClassFiles class_files and list_package, Drain drain, Fds send_fds, Vm threads and jvm, and
 * Statics getstatic; the channel answers cancel while a stream runs.
 *
 * A class of ops is loaded when one of its ops is first used, and Deploys and Define only by a
 * request that uses them, so that a cold {@code jhot redefine} (bytes, then redefine) loads no
 * more agent classes than when every op was in this class: a fresh JVM loads them from the jar,
 * and verifies them, inside the first command's time.
 *
 * The channel (dev.jhot.agent) uses only the public members: install or the constructor, loaded,
 * setPrivateDir, serve and OPS.
 */
public final class Ops {
    static final int PROTOCOL = 1;

    /** `inventory` also announces the deploy fields of `redefine` (`define`, `deploy`) and of
     *  `rollback` (`deploy`): they came together, and an older agent would ignore the former. */
    public static final List<String> OPS = List.of("hello", "redefine", "rollback", "history", "bytes", "send_fds", "drain",
            "inventory", "resources", "cancel", "threads", "getstatic", "jvm", "classes",
            "class_info", "loaders",
            "class_files", "list_package");

    /** Null in tests: use inst(), which fails cleanly without one. */
    final Instrumentation inst;
    final Registry registry;
    final History history;
    /** Held for its whole length by every op that changes classes or reads what jhot changed. */
    final Object lock = new Object();
    /** The private directory this agent serves in; send_fds only touches files inside it. */
    volatile Path privateDir;
    private final AtomicInteger loads = new AtomicInteger();
    private volatile String mode = "dynamic";
    private long startMs = -1;
    /** Guarded by lock. Made by the first deploy (deploys()). */
    private Deploys deploys;
    /** Made by the first bytes or redefine (patches()). */
    private Patches patches;

    /** Names this agent among the agents a JVM may have had (see Classes.definedToken). */
    final String instance = Long.toHexString(System.nanoTime()) + "-" + Integer.toHexString(System.identityHashCode(this));

    /** The operations over inst, whose transformer is not registered yet (install does that). inst
     *  may be null (tests): hello and history still work, class operations fail cleanly. */
    public Ops(Instrumentation inst) {
        this.inst = inst;
        this.history = new History();
        this.registry = new Registry(history);
    }

    /** The agent's operations, loaded by premain or agentmain (mode "premain" or "dynamic"), with
     *  the transformer that keeps patches in force registered. */
    public static Ops install(Instrumentation inst, String mode) {
        Ops ops = new Ops(inst);
        Registry.warmUp();
        ops.mode = mode;
        inst.addTransformer(ops.registry, true);
        return ops;
    }

    /** Counts one more load of the agent (hello's {@code loads}). */
    public void loaded() {
        loads.incrementAndGet();
    }

    /** The private directory the agent serves in; send_fds touches files of it only. */
    public void setPrivateDir(Path dir) {
        privateDir = dir;
    }

    /** Answers one request into out (and blobs, which bytes and class_files fill), or throws the failure
     *  to answer instead. */
    public void serve(String op, Req req, Map<String, Object> out, List<byte[]> blobs, String channel) throws Failure {
        switch (op) {
            case "hello": hello(req, out, channel); break;
            case "redefine": patches().redefine(req, out, blobs); break;
            case "rollback": Rollbacks.rollback(this, req, out); break;
            case "history": history(out); break;
            case "bytes": patches().bytes(req, out, blobs); break;
            case "send_fds": req.check(); Fds.sendFds(this, req, out); break;
            case "drain": req.check(); Drain.drain(this, req, out); break;
            case "inventory": Inventory.inventory(this, req, out); break;
            case "resources": req.check(); Inventory.resources(this, req, out); break;
            // Reaches here when no stream of this connection runs (the channel answers the others).
            case "cancel": req.longValue("request", Long.MIN_VALUE, Long.MAX_VALUE); out.put("cancelled", false); break;
            case "threads": Vm.threads(req, out); break;
            case "getstatic": Statics.getstatic(this, req, out); break;
            case "jvm": Vm.jvm(out); break;
            case "classes": Classes.classes(this, req, out, blobs); break;
            case "class_info": Classes.classInfo(this, req, out); break;
            case "loaders": Classes.list(this, out, blobs, false); break;
            case "class_files": ClassFiles.classFiles(this, req, out, blobs); break;
            case "list_package": ClassFiles.listPackage(this, req, out); break;
            default: throw Failure.protocol("unknown op \"" + op + "\"");
        }
    }

    private void hello(Req req, Map<String, Object> out, String channel) throws Failure {
        Object p = req.get("protocol");
        if (p != null && !Long.valueOf(PROTOCOL).equals(p)) {
            throw new Failure("version", "the agent speaks protocol " + PROTOCOL + ", the client asked for " + p, null);
        }
        out.put("protocol", PROTOCOL);
        String v = Ops.class.getPackage() == null ? null : Ops.class.getPackage().getImplementationVersion();
        out.put("agent", v != null ? v : "0.1.0");
        out.put("pid", ProcessHandle.current().pid());
        out.put("start_ms", startMs());
        out.put("java_version", System.getProperty("java.version"));
        out.put("vm_name", System.getProperty("java.vm.name"));
        out.put("vm_vendor", System.getProperty("java.vm.vendor"));
        out.put("mode", mode);
        out.put("loads", loads.get());
        out.put("patched", registry.patchedCount());
        out.put("pending", registry.pendingCount());
        out.put("channel", channel);
        // Ops added after protocol 1 shipped (send_fds, drain) are announced rather than versioned:
        // an agent without them still speaks protocol 1 for everything else.
        out.put("ops", OPS);
    }

    /** The JVM's start, in ms since the epoch: every hello reports it. The agent's channel
     *  thread asks once it is open, so that the first command over it does not pay for
     *  ProcessHandle's set-up. */
    public synchronized long startMs() {
        if (startMs < 0) {
            // From /proc (clock-tick precision, enough to tell a recycled pid). Not the
            // RuntimeMXBean: java.management's first use costs a fresh JVM 10-20 ms. No method
            // reference: its bootstrap would cost a cold agent a few ms more.
            Optional<Instant> start = ProcessHandle.current().info().startInstant();
            startMs = start.isPresent() ? start.get().toEpochMilli() : 0L;
        }
        return startMs;
    }

    private void history(Map<String, Object> out) {
        out.put("entries", history.snapshot());
        synchronized (lock) {
            out.put("deploys", deploys == null ? new ArrayList<>() : deploys.json());
        }
    }

    Instrumentation inst() throws Failure {
        if (inst == null) throw new Failure("internal", "the agent has no Instrumentation", null);
        return inst;
    }

    /** Made on first use: a JVM that is never patched never loads the class. */
    synchronized Patches patches() {
        if (patches == null) patches = new Patches(this);
        return patches;
    }

    /** The deploy records, or null before the first deploy; call with lock held. */
    Deploys deploysIfAny() {
        return deploys;
    }

    /** Made by the first deploy; call with lock held. */
    Deploys deploys() {
        if (deploys == null) deploys = new Deploys();
        return deploys;
    }
}
