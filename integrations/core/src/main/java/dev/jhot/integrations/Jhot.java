package dev.jhot.integrations;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Running {@code jhot deploy ... --json} for a build plugin: the command, the run (stderr to the
 * log as it comes, stdout the one JSON document, bounded in time), the plan and result as log
 * lines, and jhot's documented exit codes (README.md, docs/json.md) as failure messages.
 */
public final class Jhot {
    private Jhot() {}

    /** What jhot printed and how it ended. */
    public static final class Result {
        public final int exit;
        /** The --json document, or null when jhot printed none (a usage error, a crash). */
        public final Object json;
        public final String stdout;
        public final String stderr;

        Result(int exit, Object json, String stdout, String stderr) {
            this.exit = exit;
            this.json = json;
            this.stdout = stdout;
            this.stderr = stderr;
        }
    }

    /** auto, redefine or replace (case and blanks ignored; null is auto). */
    public static String mode(String mode) throws JhotException {
        String m = mode == null || mode.trim().isEmpty() ? "auto" : mode.trim().toLowerCase(Locale.ROOT);
        if (!m.equals("auto") && !m.equals("redefine") && !m.equals("replace")) {
            throw new JhotException("jhot.mode=" + mode + ": use auto, redefine or replace");
        }
        return m;
    }

    /** {@code jhot deploy <target> <builds> --json [--dry-run] [--mode m]}. */
    public static List<String> command(File exe, List<String> target, List<String> builds, String mode,
            boolean dryRun) {
        List<String> cmd = new ArrayList<String>();
        cmd.add(exe.getPath());
        cmd.add("deploy");
        // A pid is jhot's positional; the other target options are flags.
        cmd.addAll(target);
        cmd.addAll(builds);
        cmd.add("--json");
        if (dryRun) {
            cmd.add("--dry-run");
        }
        if (!"auto".equals(mode)) {
            cmd.add("--mode");
            cmd.add(mode);
        }
        return cmd;
    }

    /**
     * Runs jhot in {@code dir} (null: the current directory) with no stdin. A run longer than
     * {@code timeoutSeconds} is stopped with SIGTERM, on which jhot stops where nothing is
     * half-applied.
     */
    public static Result run(List<String> cmd, File dir, int timeoutSeconds, final JhotLog log)
            throws JhotException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (dir != null) {
            pb.directory(dir);
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new JhotException("jhot: could not start " + cmd.get(0) + ": " + e.getMessage(), true, e);
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final StringBuilder err = new StringBuilder();
        final InputStream stdout = p.getInputStream();
        final InputStream stderr = p.getErrorStream();
        Thread outPump = new Thread(() -> copy(stdout, out), "jhot-stdout");
        Thread errPump = new Thread(() -> logLines(stderr, err, log), "jhot-stderr");
        outPump.setDaemon(true);
        errPump.setDaemon(true);
        outPump.start();
        errPump.start();
        try {
            if (!p.waitFor(Math.max(1, timeoutSeconds), TimeUnit.SECONDS)) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                throw new JhotException("jhot did not finish within " + timeoutSeconds
                        + " s (jhot.timeout); it was stopped");
            }
            outPump.join(10_000);
            errPump.join(10_000);
        } catch (InterruptedException e) {
            // The build was cancelled: SIGTERM lets jhot stop where nothing is half-applied.
            p.destroy();
            Thread.currentThread().interrupt();
            throw new JhotException("jhot: interrupted; jhot was asked to stop", true, e);
        }
        String text;
        synchronized (out) {
            text = new String(out.toByteArray(), StandardCharsets.UTF_8);
        }
        String errText;
        synchronized (err) {
            errText = err.toString();
        }
        Object json = null;
        if (!text.trim().isEmpty()) {
            try {
                json = Json.parse(text.trim());
            } catch (IllegalArgumentException e) {
                throw new JhotException("jhot printed something that is not its --json document (" + e.getMessage()
                        + "):\n" + text, true, e);
            }
        }
        return new Result(p.exitValue(), json, text, errText);
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (out) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException ignored) {
            // The process ended; what was read is what there is.
        }
    }

    private static void logLines(InputStream in, StringBuilder keep, JhotLog log) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (keep) {
                    keep.append(line).append('\n');
                }
                if (!line.trim().isEmpty()) {
                    log.info("jhot: " + line);
                }
            }
        } catch (IOException ignored) {
            // The process ended.
        }
    }

    /** The plan and what was done, as docs/json.md's `jhot deploy` document says. */
    public static void report(Object doc, JhotLog log) {
        Map<String, Object> plan = Json.obj(doc, "plan");
        Map<String, Object> counts = Json.obj(plan, "counts");
        String decision = Json.str(doc, "decision");
        boolean dryRun = Json.bool(doc, "dry_run");
        log.info("jhot: pid " + Json.num(plan, "pid") + ": " + decision + (dryRun ? " (plan only, nothing changed)" : ""));
        log.info(String.format("jhot:   build %s: %d unchanged, %d body-only, %d structural, %d new, %d pending, %d removed",
                Json.str(plan, "build"), Json.num(counts, "unchanged"), Json.num(counts, "body_only"),
                Json.num(counts, "structural"), Json.num(counts, "new"), Json.num(counts, "pending"),
                Json.num(counts, "removed")));
        for (Object why : Json.list(plan, "reasons")) {
            log.info("jhot:   " + why);
        }
        for (Object c : Json.list(plan, "classes")) {
            log.info("jhot:   " + classLine(c));
        }
        for (Object res : Json.list(plan, "resources")) {
            log.info("jhot:   resource " + Json.str(res, "name") + ": " + Json.str(res, "change"));
        }
        for (Object dep : Json.list(plan, "dependencies")) {
            log.info("jhot:   dependency changed: " + dep);
        }
        if (!dryRun && "redefine".equals(decision)) {
            Map<String, Object> r = Json.obj(doc, "redefinition");
            log.info(String.format("jhot: redefined %d class(es), %d pending, %d defined (deploy %s; `jhot rollback %d` undoes it)",
                    Json.num(r, "redefined"), Json.num(r, "pending"), Json.num(r, "defined"), Json.str(r, "deploy_id"),
                    Json.num(plan, "pid")));
        } else if (!dryRun && "replace".equals(decision)) {
            Map<String, Object> r = Json.obj(doc, "replacement");
            log.info(String.format("jhot: replaced pid %d by pid %d (%s)", Json.num(r, "old_pid"),
                    Json.num(r, "new_pid"), Json.str(r, "change")));
        }
        for (Object w : Json.list(doc, "warnings")) {
            log.warn("jhot: warning: " + w);
        }
    }

    /** {@code name: change (reason; reason)}. */
    static String classLine(Object c) {
        StringBuilder b = new StringBuilder();
        b.append(Json.str(c, "name")).append(": ").append(Json.str(c, "change"));
        List<Object> reasons = Json.list(c, "reasons");
        if (!reasons.isEmpty()) {
            b.append(" (");
            for (int i = 0; i < reasons.size(); i++) {
                b.append(i == 0 ? "" : "; ").append(reasons.get(i));
            }
            b.append(')');
        }
        return b.toString();
    }

    /** Whether a successful document plans a replacement. */
    public static boolean needsReplacement(Object doc) {
        return "replace".equals(Json.str(doc, "decision"));
    }

    /**
     * Structural and removed classes of a plan with their reasons, one per line; then (if
     * {@code planReasons}) the plan's reasons.
     */
    public static String structural(Object doc, boolean planReasons) {
        StringBuilder b = new StringBuilder();
        for (Object c : Json.list(Json.obj(doc, "plan"), "classes")) {
            String change = Json.str(c, "change");
            if (!"structural".equals(change) && !"removed".equals(change)) {
                continue;
            }
            b.append("\n  - ").append(Json.str(c, "name")).append(" (").append(change).append(')');
            for (Object why : Json.list(c, "reasons")) {
                b.append("\n      ").append(why);
            }
        }
        if (planReasons) {
            for (Object why : Json.list(Json.obj(doc, "plan"), "reasons")) {
                b.append("\n  ").append(why);
            }
        }
        return b.toString();
    }

    /**
     * A failed run (exit code not 0) as the message of a build failure: what happened, jhot's own
     * message and what to do. {@code retryAsPlan}, the same command as a dry run in auto mode, gives
     * a refused redefinition (exit 7) its per-class reasons, which the error document lacks; null
     * skips that.
     */
    public static String failure(Result r, String mode, String builds, List<String> retryAsPlan, File dir,
            JhotLog log) {
        Map<String, Object> err = Json.obj(r.json, "error");
        String message = Json.str(err, "message");
        if (message == null) {
            // No JSON error document: a usage error printed by the parser on stderr, or a crash.
            message = r.stdout.trim().isEmpty() ? (r.stderr.trim().isEmpty() ? "(no output)" : r.stderr.trim())
                    : r.stdout.trim();
        }
        String kind = Json.str(err, "kind");
        String prefix;
        switch (r.exit) {
            case 2:
                prefix = "jhot: usage error (several JVMs matched, or an option this jhot does not know)";
                break;
            case 3:
                prefix = "jhot: no such JVM (the pid, pid file, selection or port names no running HotSpot JVM; "
                        + "`jhot ps` lists them)";
                break;
            case 4:
                prefix = "jhot: permission denied (run the build as the JVM's user or root; see jhot's SECURITY.md)";
                break;
            case 5:
                prefix = "jhot: could not attach to the JVM or load its agent";
                break;
            case 6:
                prefix = "jhot: bad input in the build " + builds;
                break;
            case 7:
                prefix = "jhot: rejected: this build needs a process replacement, which jhot.mode=" + mode
                        + " does not allow; nothing was changed";
                if (retryAsPlan != null) {
                    String details = planDetails(retryAsPlan, dir, log);
                    if (!details.isEmpty()) {
                        message = message + "\nWhat changed structurally:" + details;
                    }
                }
                break;
            case 8:
                prefix = "jhot: the JVM exited or the connection to it broke during the deploy";
                break;
            case 9:
                prefix = "jhot: the replacement did not happen; the old process kept serving";
                break;
            case 10:
                prefix = "jhot: cancelled; nothing is half-applied";
                break;
            case 1:
                prefix = "jhot: internal error (please report it)";
                break;
            default:
                prefix = "jhot: exit code " + r.exit;
        }
        return prefix + "\n" + message + "\n(jhot exit code " + r.exit + (kind == null ? "" : ", " + kind) + ")";
    }

    private static String planDetails(List<String> plan, File dir, JhotLog log) {
        try {
            Result r = run(plan, dir, 600, new JhotLog() {
                @Override
                public void info(String line) {
                    log.debug(line);
                }

                @Override
                public void warn(String line) {
                    log.debug(line);
                }

                @Override
                public void debug(String line) {
                    log.debug(line);
                }
            });
            return r.exit == 0 ? structural(r.json, false) : "";
        } catch (JhotException e) {
            log.debug("jhot: the dry run for details failed: " + e.getMessage());
            return "";
        }
    }
}
