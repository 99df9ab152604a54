package dev.jhot.maven;

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

import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Component;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.project.MavenProject;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.repository.RemoteRepository;

/**
 * What {@code jhot:deploy} and {@code jhot:diff} share: the target JVM (never guessed), the build
 * to send, running {@code jhot deploy ... --json}, writing its plan and result into the Maven log,
 * and turning jhot's documented exit codes (README.md, docs/json.md) into build failures.
 */
abstract class AbstractJhotMojo extends AbstractMojo {
    @Parameter(defaultValue = "${project}", readonly = true, required = true)
    protected MavenProject project;

    /** The JVM's pid. */
    @Parameter(property = "jhot.pid")
    protected String pid;

    /** A file holding the JVM's pid (a stale file is an error). */
    @Parameter(property = "jhot.pidFile")
    protected File pidFile;

    /** The one JVM whose main class, jar or command line contains this text. */
    @Parameter(property = "jhot.select")
    protected String select;

    /** The JVM listening on this TCP port. */
    @Parameter(property = "jhot.port")
    protected Integer port;

    /** auto (what the change needs), redefine (refuse a replacement) or replace. */
    @Parameter(property = "jhot.mode", defaultValue = "auto")
    protected String mode;

    /** Skip this goal. */
    @Parameter(property = "jhot.skip", defaultValue = "false")
    protected boolean skip;

    /**
     * The jhot binary; by default the first {@code jhot} on PATH, then the
     * {@code dev.jhot:jhot:<version>:exe:<os>-<arch>} artifact checked by SHA-256.
     */
    @Parameter(property = "jhot.executable")
    protected String executable;

    /** Version of the {@code dev.jhot:jhot:exe} artifact used when neither jhot.executable nor PATH has jhot. */
    @Parameter(property = "jhot.version", defaultValue = "${plugin.version}")
    protected String jhotVersion;

    /** The SHA-256 that artifact must have; by default the one built into the plugin. */
    @Parameter(property = "jhot.sha256")
    protected String sha256;

    @Component
    protected RepositorySystem repoSystem;

    @Parameter(defaultValue = "${repositorySystemSession}", readonly = true)
    protected RepositorySystemSession repoSession;

    @Parameter(defaultValue = "${project.remoteProjectRepositories}", readonly = true)
    protected List<RemoteRepository> remoteRepos;

    /** The build to send; by default the packaged jar when {@code package} ran, else target/classes. */
    @Parameter(property = "jhot.build")
    protected File build;

    /** Seconds jhot may run before the build fails (a replacement waits for readiness and drain). */
    @Parameter(property = "jhot.timeout", defaultValue = "600")
    protected int timeout;

    /** What jhot printed and how it ended. */
    static final class Result {
        final int exit;
        final Object json;
        final String stdout;

        Result(int exit, Object json, String stdout) {
            this.exit = exit;
            this.json = json;
            this.stdout = stdout;
        }
    }

    /** Whether this run changes nothing. */
    abstract boolean dryRun();

    /** Checks what jhot did after a successful run; a failure fails the build. */
    abstract void afterSuccess(Result r) throws MojoFailureException;

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("jhot: skipped (jhot.skip)");
            return;
        }
        if ("pom".equals(project.getPackaging())) {
            getLog().info("jhot: skipped (pom packaging: no classes)");
            return;
        }
        List<String> target = targetArgs();
        String m = mode == null ? "auto" : mode.trim().toLowerCase(Locale.ROOT);
        if (!m.equals("auto") && !m.equals("redefine") && !m.equals("replace")) {
            throw new MojoFailureException("jhot.mode=" + mode + ": use auto, redefine or replace");
        }
        File exe = executable();
        File b = buildPath();
        List<String> cmd = command(exe, target, b, m, dryRun());
        getLog().info("jhot: " + String.join(" ", cmd));
        Result r = run(cmd);
        if (r.exit == 0) {
            logReport(r.json);
            afterSuccess(r);
            return;
        }
        fail(r, exe, target, b, m);
    }

    /** The target options: exactly one of pid, pidFile, select, port. Never a guess. */
    List<String> targetArgs() throws MojoFailureException {
        List<String> args = new ArrayList<>();
        int given = 0;
        if (pid != null && !pid.trim().isEmpty()) {
            String p = pid.trim();
            if (!p.matches("[0-9]+")) {
                throw new MojoFailureException("jhot.pid=" + pid + " is not a process id");
            }
            args.add(p);
            given++;
        }
        if (pidFile != null) {
            args.add("--pid-file");
            args.add(pidFile.getPath());
            given++;
        }
        if (select != null && !select.trim().isEmpty()) {
            args.add("--select");
            args.add(select);
            given++;
        }
        if (port != null) {
            args.add("--port");
            args.add(String.valueOf(port));
            given++;
        }
        if (given == 0) {
            throw new MojoFailureException(
                    "jhot: which JVM? Set one of -Djhot.pid=<pid>, -Djhot.pidFile=<file>, -Djhot.select=<text> "
                            + "(main class, jar or command line) or -Djhot.port=<port>; jhot never picks a JVM by guessing");
        }
        if (given > 1) {
            throw new MojoFailureException(
                    "jhot: set only one of jhot.pid, jhot.pidFile, jhot.select and jhot.port (" + given + " were set)");
        }
        return args;
    }

    File executable() throws MojoFailureException {
        File exe;
        try {
            exe = Executable.find(executable, System.getenv("PATH"));
        } catch (IllegalArgumentException e) {
            throw new MojoFailureException(e.getMessage());
        }
        if (exe != null) {
            return exe;
        }
        try {
            exe = ExeArtifact.resolve(repoSystem, repoSession, remoteRepos, jhotVersion, sha256,
                    new File(project.getBuild().getDirectory(), "jhot"));
        } catch (IllegalStateException e) {
            throw new MojoFailureException("jhot: no jhot binary: not in jhot.executable, not on PATH, and the "
                    + "artifact: " + e.getMessage());
        }
        getLog().info("jhot: using the verified artifact binary " + exe);
        return exe;
    }

    /**
     * The packaged jar when {@code package} ran in this build (Maven set the artifact's file), else
     * target/classes (run before {@code package}), else a jar left by an earlier package.
     */
    File buildPath() throws MojoFailureException {
        if (build != null) {
            if (!build.exists()) {
                throw new MojoFailureException("jhot.build=" + build + " does not exist");
            }
            return build;
        }
        File artifact = project.getArtifact() == null ? null : project.getArtifact().getFile();
        if (artifact != null && artifact.isFile() && artifact.getName().endsWith(".jar")) {
            return artifact;
        }
        File classes = new File(project.getBuild().getOutputDirectory());
        if (classes.isDirectory()) {
            return classes;
        }
        File jar = new File(project.getBuild().getDirectory(), project.getBuild().getFinalName() + ".jar");
        if (jar.isFile()) {
            return jar;
        }
        throw new MojoFailureException("jhot: nothing to deploy: neither " + classes + " nor " + jar
                + " exists; run `mvn package jhot:deploy` (or compile first)");
    }

    static List<String> command(File exe, List<String> target, File build, String mode, boolean dryRun) {
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.getPath());
        cmd.add("deploy");
        // A pid is jhot's positional; the other target options are flags.
        cmd.addAll(target);
        cmd.add(build.getAbsolutePath());
        cmd.add("--json");
        if (dryRun) {
            cmd.add("--dry-run");
        }
        if (!mode.equals("auto")) {
            cmd.add("--mode");
            cmd.add(mode);
        }
        return cmd;
    }

    /**
     * Runs jhot: its stderr (progress, notes) goes to the Maven log as it comes, its stdout is the
     * one JSON document. Bounded by {@link #timeout}.
     */
    Result run(List<String> cmd) throws MojoExecutionException, MojoFailureException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new MojoExecutionException("jhot: could not start " + cmd.get(0) + ": " + e.getMessage(), e);
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final InputStream stdout = p.getInputStream();
        Thread outPump = new Thread(() -> copy(stdout, out), "jhot-stdout");
        final InputStream stderr = p.getErrorStream();
        Thread errPump = new Thread(() -> logLines(stderr), "jhot-stderr");
        outPump.setDaemon(true);
        errPump.setDaemon(true);
        outPump.start();
        errPump.start();
        try {
            if (!p.waitFor(Math.max(1, timeout), TimeUnit.SECONDS)) {
                // jhot stops where nothing is half-applied on SIGTERM (as on Ctrl-C).
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                throw new MojoFailureException("jhot did not finish within " + timeout + " s (jhot.timeout); it was stopped");
            }
            outPump.join(10_000);
            errPump.join(10_000);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new MojoExecutionException("jhot: interrupted", e);
        }
        String text = new String(out.toByteArray(), StandardCharsets.UTF_8);
        Object json = null;
        if (!text.trim().isEmpty()) {
            try {
                json = Json.parse(text.trim());
            } catch (IllegalArgumentException e) {
                throw new MojoExecutionException("jhot printed something that is not its --json document ("
                        + e.getMessage() + "):\n" + text);
            }
        }
        return new Result(p.exitValue(), json, text);
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        } catch (IOException ignored) {
            // The process ended; what was read is what there is.
        }
    }

    private void logLines(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.trim().isEmpty()) {
                    getLog().info("jhot: " + line);
                }
            }
        } catch (IOException ignored) {
            // The process ended.
        }
    }

    /** The plan and what was done, as docs/json.md's `jhot deploy` document says. */
    void logReport(Object doc) {
        Map<String, Object> plan = Json.obj(doc, "plan");
        Map<String, Object> counts = Json.obj(plan, "counts");
        getLog().info(String.format(
                "jhot: pid %d, build %s: %d unchanged, %d body-only, %d structural, %d new, %d pending, %d removed",
                Json.num(plan, "pid"), Json.str(plan, "build"), Json.num(counts, "unchanged"),
                Json.num(counts, "body_only"), Json.num(counts, "structural"), Json.num(counts, "new"),
                Json.num(counts, "pending"), Json.num(counts, "removed")));
        for (Object c : Json.list(plan, "classes")) {
            getLog().info("jhot:   " + Json.str(c, "change") + "  " + Json.str(c, "name"));
            for (Object why : Json.list(c, "reasons")) {
                getLog().info("jhot:       " + why);
            }
        }
        for (Object res : Json.list(plan, "resources")) {
            getLog().info("jhot:   resource " + Json.str(res, "change") + "  " + Json.str(res, "name"));
        }
        for (Object dep : Json.list(plan, "dependencies")) {
            getLog().info("jhot:   dependency changed  " + dep);
        }
        for (Object why : Json.list(plan, "reasons")) {
            getLog().info("jhot: " + why);
        }
        String decision = Json.str(doc, "decision");
        if (Json.bool(doc, "dry_run")) {
            getLog().info("jhot: decision: " + decision + " (dry run: nothing was changed)");
        } else if ("redefine".equals(decision)) {
            Map<String, Object> r = Json.obj(doc, "redefinition");
            getLog().info(String.format("jhot: redefined %d class(es), %d pending, %d defined (deploy %s)",
                    Json.num(r, "redefined"), Json.num(r, "pending"), Json.num(r, "defined"),
                    Json.str(r, "deploy_id")));
        } else if ("replace".equals(decision)) {
            Map<String, Object> r = Json.obj(doc, "replacement");
            getLog().info(String.format("jhot: replaced pid %d by pid %d (%s)", Json.num(r, "old_pid"),
                    Json.num(r, "new_pid"), Json.str(r, "change")));
        } else {
            getLog().info("jhot: decision: " + decision + " (nothing to do)");
        }
        for (Object w : Json.list(doc, "warnings")) {
            getLog().warn("jhot: " + w);
        }
    }

    /** Structural and removed classes of a plan with their reasons, one per line; then the plan's reasons. */
    static String structural(Object doc, boolean planReasons) {
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

    /** A failed jhot run as a build failure that says what happened and what to do. */
    void fail(Result r, File exe, List<String> target, File b, String m)
            throws MojoExecutionException, MojoFailureException {
        Map<String, Object> err = Json.obj(r.json, "error");
        String message = Json.str(err, "message");
        if (message == null) {
            // No JSON error document (a crash, or a usage error printed by the parser on stderr).
            message = r.stdout.trim().isEmpty() ? "(see jhot's output above)" : r.stdout.trim();
        }
        String prefix;
        switch (r.exit) {
            case 2:
                prefix = "jhot: usage error (several JVMs matched, or an option this jhot does not know)";
                break;
            case 3:
                prefix = "jhot: no such JVM (the pid, pid file, selection or port names no running HotSpot JVM)";
                break;
            case 4:
                prefix = "jhot: permission denied (run the build as the JVM's user or root; see jhot's SECURITY.md)";
                break;
            case 5:
                prefix = "jhot: could not attach to the JVM or load its agent";
                break;
            case 6:
                prefix = "jhot: bad input in the build " + b;
                break;
            case 7:
                prefix = "jhot: rejected: this build needs a process replacement, which jhot.mode=" + m
                        + " does not allow; nothing was changed";
                String details = structuralDetails(exe, target, b);
                if (!details.isEmpty()) {
                    message = message + "\nWhat changed structurally:" + details;
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
        throw new MojoFailureException(prefix + "\n" + message + "\n(jhot exit code " + r.exit + ")");
    }

    /**
     * The classes of a refused redefinition and why: the error document of `--mode redefine` gives
     * only the plan's reasons, so a dry run (which changes nothing) gives the per-class ones.
     */
    private String structuralDetails(File exe, List<String> target, File b) {
        try {
            Result plan = run(command(exe, target, b, "auto", true));
            return plan.exit == 0 ? structural(plan.json, false) : "";
        } catch (MojoExecutionException | MojoFailureException e) {
            getLog().debug("jhot: the dry run for details failed: " + e.getMessage());
            return "";
        }
    }
}
