package dev.jhot.gradle;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.gradle.api.DefaultTask;
import org.gradle.api.GradleException;
import org.gradle.api.file.FileCollection;
import org.gradle.api.tasks.TaskAction;

/**
 * {@code jhotDeploy} and {@code jhotDiff}: run {@code jhot deploy … --json} (with {@code --dry-run}
 * for the diff) on the build and turn its document and exit code into log lines or a
 * {@link GradleException}.
 *
 * <p>The task has no public getters on purpose: it is never up to date (its effect is on another
 * process), and Gradle 9 fails on getters without valid input annotations. Its state is plain
 * values captured at configuration time, so the action needs no {@code Project}.
 */
public class JhotTask extends DefaultTask {
    /** Set in the overrides when {@code -Pjhot.select} was given on Gradle's command line. */
    static final String SELECT_ON_COMMAND_LINE = "select.onCommandLine";

    private final Map<String, String> settings = new HashMap<String, String>();
    private Map<String, String> overrides = new HashMap<String, String>();
    private File projectDir;
    private FileCollection build;
    private boolean planOnly;

    public JhotTask() {
        getOutputs().upToDateWhen(t -> false);
    }

    void configure(JhotExtension extension, Map<String, String> overrides, File projectDir, FileCollection build,
            boolean planOnly) {
        this.overrides = new HashMap<String, String>(overrides);
        this.projectDir = projectDir;
        this.build = build;
        this.planOnly = planOnly;
        // The jhot { } block runs after the plugin is applied: take its values once the build
        // script has been evaluated, as plain strings.
        getProject().afterEvaluate(p -> {
            put("pid", extension.getPid());
            put("pidFile", extension.getPidFile());
            put("select", extension.getSelect());
            put("port", extension.getPort());
            put("mode", extension.getMode());
            put("dryRun", extension.isDryRun());
            put("skip", extension.isSkip());
            put("executable", extension.getExecutable());
            put("failOnStructural", extension.isFailOnStructural());
        });
    }

    private void put(String name, Object value) {
        if (value != null) {
            settings.put(name, value.toString());
        }
    }

    /** The -P value, else the jhot { } one; empty strings count as unset. */
    private String setting(String name) {
        String v = overrides.containsKey(name) ? overrides.get(name) : settings.get(name);
        return v == null || v.trim().isEmpty() ? null : v.trim();
    }

    /** {@code -Pjhot.skip} alone (an empty value) means true, as {@code -Djhot.skip} does in Maven. */
    private boolean flag(String name) {
        String v = overrides.containsKey(name) ? overrides.get(name) : settings.get(name);
        if (v == null) {
            return false;
        }
        v = v.trim();
        if (v.isEmpty() || v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new GradleException("jhot." + name + " must be true or false, not '" + v + "'");
    }

    @TaskAction
    public void run() {
        if (flag("skip")) {
            getLogger().lifecycle("jhot: skipped (jhot.skip)");
            return;
        }
        List<String> command = new ArrayList<String>();
        command.add(executable());
        command.add("deploy");
        command.addAll(target());
        List<String> paths = buildPaths();
        command.addAll(paths);
        command.add("--json");
        boolean failOnStructural = flag("failOnStructural");
        if (planOnly || flag("dryRun")) {
            command.add("--dry-run");
        }
        String mode = setting("mode") == null ? "auto" : setting("mode");
        if (!mode.equals("auto") && !mode.equals("redefine") && !mode.equals("replace")) {
            throw new GradleException("jhot.mode must be auto, redefine or replace, not '" + mode + "'");
        }
        if (failOnStructural && !planOnly) {
            // On deploy, failing on a structural change is jhot's own --mode redefine (exit 7, nothing changed).
            if (mode.equals("replace")) {
                throw new GradleException("jhot.failOnStructural and jhot.mode=replace contradict each other; set one");
            }
            mode = "redefine";
        }
        if (!mode.equals("auto")) {
            command.add("--mode");
            command.add(mode);
        }
        getLogger().info("jhot: running {}", command);
        Result r = execute(command);
        report(r, failOnStructural);
    }

    /** The JVM, exactly as the user chose it: one of pid, pidFile, select, port; never a guess. */
    private List<String> target() {
        List<String> args = new ArrayList<String>();
        List<String> chosen = new ArrayList<String>();
        String pid = setting("pid");
        if (pid != null) {
            if (!pid.matches("[0-9]+")) {
                throw new GradleException("jhot.pid must be a process id, not '" + pid + "'");
            }
            args.add(pid);
            chosen.add("pid");
        }
        String pidFile = setting("pidFile");
        if (pidFile != null) {
            File f = new File(pidFile);
            if (!f.isAbsolute()) {
                f = new File(projectDir, pidFile);
            }
            args.add("--pid-file");
            args.add(f.getAbsolutePath());
            chosen.add("pidFile");
        }
        String select = setting("select");
        if (select != null && overrides.containsKey(SELECT_ON_COMMAND_LINE)) {
            throw new GradleException("jhot: -Pjhot.select on Gradle's command line puts the text on a Gradle JVM's "
                    + "own command line, so Gradle itself would match it. Set select in the jhot { } block or in "
                    + "gradle.properties (or ORG_GRADLE_PROJECT_jhot.select in the environment), or name the JVM "
                    + "by -Pjhot.pid, -Pjhot.pidFile or -Pjhot.port.");
        }
        if (select != null) {
            args.add("--select");
            args.add(select);
            chosen.add("select");
        }
        String port = setting("port");
        if (port != null) {
            if (!port.matches("[0-9]+")) {
                throw new GradleException("jhot.port must be a TCP port number, not '" + port + "'");
            }
            args.add("--port");
            args.add(port);
            chosen.add("port");
        }
        if (chosen.isEmpty()) {
            throw new GradleException("jhot: which JVM? Set one of jhot.pid, jhot.pidFile, jhot.select or jhot.port "
                    + "(in the jhot { } block, or -Pjhot.pid=4242 on the command line); the plugin never guesses. "
                    + "`jhot ps` lists the JVMs.");
        }
        if (chosen.size() > 1) {
            throw new GradleException("jhot: " + chosen + " are all set; set exactly one of them, so that the JVM is "
                    + "chosen one way only");
        }
        return args;
    }

    private List<String> buildPaths() {
        List<String> paths = new ArrayList<String>();
        for (File f : build.getFiles()) {
            // A source set's resources directory does not exist when it has no resources.
            if (f.exists()) {
                paths.add(f.getAbsolutePath());
            }
        }
        if (paths.isEmpty()) {
            throw new GradleException("jhot: nothing was built to deploy (looked for " + build.getFiles() + ")");
        }
        return paths;
    }

    private String executable() {
        String exe = setting("executable");
        if (exe != null) {
            File f = new File(exe);
            if (!f.isAbsolute() && exe.contains(File.separator)) {
                f = new File(projectDir, exe);
            }
            if (f.isAbsolute() && !f.canExecute()) {
                throw new GradleException("jhot.executable " + f + " is not an executable file");
            }
            return f.isAbsolute() ? f.getAbsolutePath() : exe;
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                File f = new File(dir, "jhot");
                if (!dir.isEmpty() && f.isFile() && f.canExecute()) {
                    return f.getAbsolutePath();
                }
            }
        }
        throw new GradleException("jhot: the jhot binary is not on PATH; install it, or set jhot.executable "
                + "(-Pjhot.executable=/path/to/jhot)");
    }

    private static final class Result {
        int code;
        String stdout;
        String stderr;
    }

    private Result execute(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.directory(projectDir);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new GradleException("jhot: cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        final StringBuilder err = new StringBuilder();
        final InputStream errStream = p.getErrorStream();
        // jhot's notes and progress go to stderr: show them as they come, and keep them for errors.
        Thread errReader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(errStream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (err) {
                        err.append(line).append('\n');
                    }
                    getLogger().lifecycle("jhot: {}", line);
                }
            } catch (IOException ignored) {
                // The process ended; what was read is kept.
            }
        }, "jhot-stderr");
        errReader.setDaemon(true);
        errReader.start();
        Result r = new Result();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            InputStream in = p.getInputStream();
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            r.code = p.waitFor();
            errReader.join(5000);
            r.stdout = new String(out.toByteArray(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            p.destroy();
            throw new GradleException("jhot: reading its output failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            // Gradle cancelled the build: SIGTERM lets jhot finish where nothing is half-applied.
            p.destroy();
            Thread.currentThread().interrupt();
            throw new GradleException("jhot: interrupted; jhot was asked to stop", e);
        }
        synchronized (err) {
            r.stderr = err.toString();
        }
        return r;
    }

    private void report(Result r, boolean failOnStructural) {
        Map<String, Object> doc;
        try {
            doc = Json.object(Json.parse(r.stdout));
        } catch (IllegalArgumentException e) {
            // Exit 2 from the argument parser prints usage on stderr and no document (docs/json.md).
            throw new GradleException("jhot exited with code " + r.code + " and no JSON document"
                    + (r.code == 2 ? " (usage error: this jhot may be older than the plugin)" : "") + ":\n"
                    + r.stderr.trim());
        }
        if (!Boolean.TRUE.equals(doc.get("ok"))) {
            Map<String, Object> error = Json.object(doc.get("error"));
            String kind = Json.string(error.get("kind"));
            throw new GradleException("jhot deploy failed (exit " + r.code + ", " + kind + "): "
                    + Json.string(error.get("message")) + hint(kind)
                    + (failOnStructural && "rejected".equals(kind) ? "\n(jhot.failOnStructural ran it with --mode redefine.)" : ""));
        }
        Map<String, Object> plan = Json.object(doc.get("plan"));
        String decision = Json.string(doc.get("decision"));
        boolean dryRun = Boolean.TRUE.equals(doc.get("dry_run"));
        getLogger().lifecycle("jhot: pid {}: {}{}", Json.string(plan.get("pid")), decision,
                dryRun ? " (plan only, nothing changed)" : "");
        for (Object reason : Json.list(plan.get("reasons"))) {
            getLogger().lifecycle("jhot:   {}", reason);
        }
        List<String> structural = new ArrayList<String>();
        for (Object o : Json.list(plan.get("classes"))) {
            Map<String, Object> c = Json.object(o);
            String line = Json.string(c.get("name")) + ": " + Json.string(c.get("change"));
            List<Object> reasons = Json.list(c.get("reasons"));
            if (!reasons.isEmpty()) {
                line += " (" + String.join("; ", toStrings(reasons)) + ")";
            }
            getLogger().lifecycle("jhot:   {}", line);
            if ("structural".equals(c.get("change")) || "removed".equals(c.get("change"))) {
                structural.add(line);
            }
        }
        for (Object o : Json.list(plan.get("resources"))) {
            Map<String, Object> res = Json.object(o);
            getLogger().lifecycle("jhot:   resource {}: {}", Json.string(res.get("name")), Json.string(res.get("change")));
        }
        Map<String, Object> redefinition = Json.object(doc.get("redefinition"));
        if (!redefinition.isEmpty()) {
            getLogger().lifecycle("jhot: redefined {}, pending {}, defined {} (deploy {}; `jhot rollback {}` undoes it)",
                    Json.string(redefinition.get("redefined")), Json.string(redefinition.get("pending")),
                    Json.string(redefinition.get("defined")), Json.string(redefinition.get("deploy_id")),
                    Json.string(plan.get("pid")));
        }
        Map<String, Object> replacement = Json.object(doc.get("replacement"));
        if (!replacement.isEmpty()) {
            getLogger().lifecycle("jhot: replaced pid {} by pid {}", Json.string(replacement.get("old_pid")),
                    Json.string(replacement.get("new_pid")));
        }
        for (Object w : Json.list(doc.get("warnings"))) {
            getLogger().warn("jhot: warning: {}", w);
        }
        if (planOnly && failOnStructural && "replace".equals(decision)) {
            StringBuilder m = new StringBuilder("jhot: this build needs a process replacement (jhot.failOnStructural):");
            for (Object reason : Json.list(plan.get("reasons"))) {
                m.append("\n  - ").append(reason);
            }
            for (String s : structural) {
                m.append("\n  ").append(s);
            }
            throw new GradleException(m.toString());
        }
    }

    private static List<String> toStrings(List<Object> l) {
        List<String> out = new ArrayList<String>();
        for (Object o : l) {
            out.add(Json.string(o));
        }
        return out;
    }

    private static String hint(String kind) {
        if ("no_target".equals(kind)) {
            return "\nCheck jhot.pid / jhot.pidFile / jhot.select / jhot.port; `jhot ps` lists the JVMs.";
        }
        if ("permission".equals(kind)) {
            return "\nRun the build as the JVM's user (or root), see jhot's SECURITY.md.";
        }
        if ("rejected".equals(kind)) {
            return "\nNothing was changed in the JVM.";
        }
        return "";
    }
}
