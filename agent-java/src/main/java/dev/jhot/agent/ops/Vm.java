package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.management.ClassLoadingMXBean;
import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.RuntimeMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code threads} and {@code jvm}: facts the JVM's platform MXBeans report, sent as they are
 * (the client sorts, filters and lays them out). Reads only; takes no lock.
 */
final class Vm {
    private static final int MAX_DEPTH = 1024;
    /** The interval a request may wait for: long enough for any sampling, bounded all the same. */
    private static final long MAX_INTERVAL_MS = 3_600_000;

    private Vm() {
    }

    static void threads(Req req, Map<String, Object> out) throws Failure {
        try {
            threads0(req, out);
        } catch (LinkageError e) {
            throw noManagement(e);
        }
    }

    static void jvm(Map<String, Object> out) throws Failure {
        try {
            jvm0(out);
        } catch (LinkageError e) {
            throw noManagement(e);
        }
    }

    /** A runtime image without the java.management module. */
    private static Failure noManagement(LinkageError e) {
        return new Failure("internal", "this JVM has no java.management module: " + Failure.describe(e), null);
    }

    private static void threads0(Req req, Map<String, Object> out) throws Failure {
        long interval = req.has("interval_ms") ? req.longValue("interval_ms", 1, MAX_INTERVAL_MS) : 0;
        long top = req.has("top") ? req.longValue("top", 1, Integer.MAX_VALUE) : Long.MAX_VALUE;
        long[] only = req.has("ids") ? req.longs("ids", 1, Long.MAX_VALUE, "thread ids") : null;
        boolean stacks = req.bool("stacks");
        int depth = req.has("depth") ? (int) req.longValue("depth", 1, MAX_DEPTH) : 64;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        boolean cpu = mx.isThreadCpuTimeSupported() && mx.isThreadCpuTimeEnabled();
        req.check();
        long[] ids = only != null ? only : mx.getAllThreadIds();
        Map<Long, Long> before = new HashMap<>();
        long t0 = System.nanoTime();
        if (interval > 0 && cpu) {
            for (long id : ids) before.put(id, mx.getThreadCpuTime(id));
            req.pause(interval); // a check point: cancelled here, nothing was changed
        }
        long elapsed = System.nanoTime() - t0;
        ThreadInfo[] infos = mx.getThreadInfo(ids, stacks ? depth : 0);
        List<Map<String, Object>> list = new ArrayList<>();
        for (ThreadInfo t : infos) {
            if (t == null) continue; // ended meanwhile, or no such thread
            long id = t.getThreadId();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("name", t.getThreadName());
            m.put("state", t.getThreadState().name());
            m.put("daemon", t.isDaemon());
            m.put("priority", t.getPriority());
            long cpuNs = cpu ? mx.getThreadCpuTime(id) : -1;
            m.put("cpu_ns", cpuNs >= 0 ? cpuNs : null);
            long userNs = cpu ? mx.getThreadUserTime(id) : -1;
            m.put("user_ns", userNs >= 0 ? userNs : null);
            Long was = before.get(id);
            // percent of one CPU over the interval; null without an interval or for a new thread
            m.put("cpu_percent", was != null && was >= 0 && cpuNs >= 0 && elapsed > 0
                    ? Math.round((cpuNs - was) * 10000.0 / elapsed) / 100.0 : null);
            m.put("blocked_count", t.getBlockedCount());
            m.put("waited_count", t.getWaitedCount());
            m.put("lock", t.getLockName());
            m.put("lock_owner_id", t.getLockOwnerId() >= 0 ? t.getLockOwnerId() : null);
            m.put("lock_owner_name", t.getLockOwnerName());
            m.put("in_native", t.isInNative());
            m.put("suspended", t.isSuspended());
            if (stacks) {
                List<String> frames = new ArrayList<>();
                for (StackTraceElement e : t.getStackTrace()) frames.add(e.toString());
                m.put("stack", frames);
            }
            list.add(m);
        }
        // the busiest first: over the interval when there is one, else since each thread started
        String key = interval > 0 ? "cpu_percent" : "cpu_ns";
        list.sort((a, b) -> Double.compare(num(b.get(key)), num(a.get(key))));
        out.put("interval_ms", interval > 0 ? interval : null);
        out.put("cpu_time", cpu);
        out.put("total", list.size());
        out.put("threads", list.size() > top ? new ArrayList<>(list.subList(0, (int) top)) : list);
    }

    private static double num(Object o) {
        return o instanceof Number ? ((Number) o).doubleValue() : -1;
    }

    private static void jvm0(Map<String, Object> out) {
        RuntimeMXBean rt = ManagementFactory.getRuntimeMXBean();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", rt.getVmName());
        r.put("vendor", rt.getVmVendor());
        r.put("version", System.getProperty("java.version"));
        r.put("vm_version", rt.getVmVersion());
        r.put("pid", rt.getPid());
        r.put("start_ms", rt.getStartTime());
        r.put("uptime_ms", rt.getUptime());
        r.put("input_arguments", rt.getInputArguments());
        r.put("class_path", rt.getClassPath());
        r.put("library_path", rt.getLibraryPath());
        out.put("runtime", r);

        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("heap", usage(mem.getHeapMemoryUsage()));
        m.put("non_heap", usage(mem.getNonHeapMemoryUsage()));
        m.put("pending_finalization", mem.getObjectPendingFinalizationCount());
        List<Map<String, Object>> pools = new ArrayList<>();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            Map<String, Object> pm = usage(p.getUsage());
            pm.put("name", p.getName());
            pm.put("type", p.getType().name().toLowerCase());
            pools.add(pm);
        }
        m.put("pools", pools);
        out.put("memory", m);

        List<Map<String, Object>> gcs = new ArrayList<>();
        for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) {
            Map<String, Object> gm = new LinkedHashMap<>();
            gm.put("name", g.getName());
            gm.put("count", g.getCollectionCount());
            gm.put("time_ms", g.getCollectionTime());
            gm.put("pools", List.of(g.getMemoryPoolNames()));
            gcs.add(gm);
        }
        out.put("gc", gcs);

        ThreadMXBean th = ManagementFactory.getThreadMXBean();
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("live", th.getThreadCount());
        t.put("daemon", th.getDaemonThreadCount());
        t.put("peak", th.getPeakThreadCount());
        t.put("started", th.getTotalStartedThreadCount());
        out.put("threads", t);

        ClassLoadingMXBean cl = ManagementFactory.getClassLoadingMXBean();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("loaded", cl.getLoadedClassCount());
        c.put("total", cl.getTotalLoadedClassCount());
        c.put("unloaded", cl.getUnloadedClassCount());
        out.put("classes", c);

        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", jit == null ? null : jit.getName());
        j.put("time_ms", jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : null);
        out.put("compilation", j);

        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", os.getName());
        o.put("version", os.getVersion());
        o.put("arch", os.getArch());
        o.put("cpus", os.getAvailableProcessors());
        double load = os.getSystemLoadAverage();
        o.put("load_average", load >= 0 ? load : null);
        out.put("os", o);
    }

    private static Map<String, Object> usage(MemoryUsage u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("init", u.getInit() >= 0 ? u.getInit() : null);
        m.put("used", u.getUsed());
        m.put("committed", u.getCommitted());
        m.put("max", u.getMax() >= 0 ? u.getMax() : null);
        return m;
    }
}
