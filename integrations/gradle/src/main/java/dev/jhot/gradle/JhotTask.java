package dev.jhot.gradle;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.jhot.integrations.Binary;
import dev.jhot.integrations.Jhot;
import dev.jhot.integrations.JhotException;
import dev.jhot.integrations.JhotLog;
import org.gradle.api.DefaultTask;
import org.gradle.api.GradleException;
import org.gradle.api.Project;
import org.gradle.api.artifacts.Configuration;
import org.gradle.api.file.FileCollection;
import org.gradle.api.tasks.TaskAction;

/**
 * {@code jhotDeploy} and {@code jhotDiff}: run {@code jhot deploy … --json} (with {@code --dry-run}
 * for the diff) on the build and turn its document and exit code into log lines or a
 * {@link GradleException}; the running and the rendering are the shared core's
 * (dev.jhot.integrations).
 *
 * <p>The task has no public getters on purpose: it is never up to date (its effect is on another
 * process), and Gradle 9 fails on getters without valid input annotations. Its state is plain
 * values and file collections captured at configuration time, so the action needs no
 * {@code Project}.
 */
public class JhotTask extends DefaultTask {
    /** jhot's run may take a replacement's readiness and drain; beyond this it is stopped. */
    private static final int DEFAULT_TIMEOUT_SECONDS = 600;

    private final Map<String, String> settings = new HashMap<String, String>();
    private Map<String, String> overrides = new HashMap<String, String>();
    private File projectDir;
    private File workDir;
    private FileCollection build;
    private boolean planOnly;
    /** dev.jhot:jhot:<version>:<classifier>@exe, resolved only if no other binary is found. */
    private FileCollection exeArtifact;
    private String exeCoords;

    public JhotTask() {
        getOutputs().upToDateWhen(t -> false);
    }

    void configure(JhotExtension extension, Map<String, String> overrides, File projectDir, File workDir,
            FileCollection build, boolean planOnly) {
        this.overrides = new HashMap<String, String>(overrides);
        this.projectDir = projectDir;
        this.workDir = workDir;
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
            put("version", extension.getVersion());
            put("sha256", extension.getSha256());
            put("timeout", extension.getTimeout());
            exeArtifact(p);
        });
    }

    /**
     * A detached configuration of the exe artifact from the build's own repositories: created now
     * (it needs the Project), resolved by the action only when neither jhot.executable nor PATH
     * names a binary.
     */
    private void exeArtifact(Project p) {
        String classifier = Binary.classifier();
        if (classifier == null) {
            return;
        }
        String version = setting("version");
        if (version == null) {
            version = JhotPlugin.version();
        }
        Map<String, String> coords = new HashMap<String, String>();
        coords.put("group", "dev.jhot");
        coords.put("name", "jhot");
        coords.put("version", version);
        coords.put("classifier", classifier);
        coords.put("ext", "exe");
        Configuration c = p.getConfigurations().detachedConfiguration(p.getDependencies().create(coords));
        c.setTransitive(false);
        exeArtifact = c;
        exeCoords = "dev.jhot:jhot:" + version + ":" + classifier + "@exe";
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
        try {
            deploy();
        } catch (JhotException e) {
            throw new GradleException(e.getMessage(), e);
        }
    }

    private void deploy() throws JhotException {
        List<String> target = target();
        List<String> paths = buildPaths();
        boolean failOnStructural = flag("failOnStructural");
        String mode = Jhot.mode(setting("mode"));
        if (failOnStructural && !planOnly) {
            // On deploy, failing on a structural change is jhot's own --mode redefine (exit 7, nothing changed).
            if (mode.equals("replace")) {
                throw new JhotException("jhot.failOnStructural and jhot.mode=replace contradict each other; set one");
            }
            mode = "redefine";
        }
        int timeout = DEFAULT_TIMEOUT_SECONDS;
        String t = setting("timeout");
        if (t != null) {
            if (!t.matches("[0-9]{1,6}")) {
                throw new JhotException("jhot.timeout must be a number of seconds, not '" + t + "'");
            }
            timeout = Integer.parseInt(t);
        }
        File exe = executable();
        List<String> command = Jhot.command(exe, target, paths, mode, planOnly || flag("dryRun"));
        getLogger().info("jhot: running {}", command);
        JhotLog log = log();
        Jhot.Result r = Jhot.run(command, projectDir, timeout, log);
        if (r.exit != 0) {
            String message = Jhot.failure(r, mode, String.join(" ", paths),
                    Jhot.command(exe, target, paths, "auto", true), projectDir, log);
            if (failOnStructural && r.exit == 7) {
                message += "\n(jhot.failOnStructural ran it with --mode redefine.)";
            }
            throw new JhotException(message);
        }
        Jhot.report(r.json, log);
        if (planOnly && failOnStructural && Jhot.needsReplacement(r.json)) {
            throw new JhotException("jhot: this build needs a process replacement (jhot.failOnStructural):"
                    + Jhot.structural(r.json, true));
        }
    }

    private JhotLog log() {
        final org.gradle.api.logging.Logger logger = getLogger();
        return new JhotLog() {
            @Override
            public void info(String line) {
                logger.lifecycle(line);
            }

            @Override
            public void warn(String line) {
                logger.warn(line);
            }

            @Override
            public void debug(String line) {
                logger.debug(line);
            }
        };
    }

    /**
     * The JVM, exactly as the user chose it: one of pid, pidFile, select, port; never a guess.
     * {@code -Pjhot.select=TEXT} is fine: jhot's --select passes over its own ancestors (this Gradle
     * JVM and its client) and over a command line that has the text only in a {@code jhot.select=}
     * argument.
     */
    private List<String> target() throws JhotException {
        List<String> args = new ArrayList<String>();
        List<String> chosen = new ArrayList<String>();
        String pid = setting("pid");
        if (pid != null) {
            if (!pid.matches("[0-9]+")) {
                throw new JhotException("jhot.pid must be a process id, not '" + pid + "'");
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
        if (select != null) {
            args.add("--select");
            args.add(select);
            chosen.add("select");
        }
        String port = setting("port");
        if (port != null) {
            if (!port.matches("[0-9]+")) {
                throw new JhotException("jhot.port must be a TCP port number, not '" + port + "'");
            }
            args.add("--port");
            args.add(port);
            chosen.add("port");
        }
        if (chosen.isEmpty()) {
            throw new JhotException("jhot: which JVM? Set one of jhot.pid, jhot.pidFile, jhot.select or jhot.port "
                    + "(in the jhot { } block, or -Pjhot.pid=4242 on the command line); the plugin never guesses. "
                    + "`jhot ps` lists the JVMs.");
        }
        if (chosen.size() > 1) {
            throw new JhotException("jhot: " + chosen + " are all set; set exactly one of them, so that the JVM is "
                    + "chosen one way only");
        }
        return args;
    }

    private List<String> buildPaths() throws JhotException {
        List<String> paths = new ArrayList<String>();
        for (File f : build.getFiles()) {
            // A source set's resources directory does not exist when it has no resources.
            if (f.exists()) {
                paths.add(f.getAbsolutePath());
            }
        }
        if (paths.isEmpty()) {
            throw new JhotException("jhot: nothing was built to deploy (looked for " + build.getFiles() + ")");
        }
        return paths;
    }

    /** jhot.executable, else jhot on PATH, else the exe artifact if its SHA-256 is the expected one. */
    private File executable() throws JhotException {
        String path = System.getenv("PATH");
        File exe = Binary.configured(setting("executable"), projectDir, path);
        if (exe == null) {
            exe = Binary.onPath("jhot", path);
        }
        if (exe != null) {
            return exe;
        }
        try {
            exe = artifact();
        } catch (JhotException e) {
            throw new JhotException("jhot: no jhot binary: not in jhot.executable, not on PATH, and the artifact: "
                    + e.getMessage());
        }
        getLogger().lifecycle("jhot: using the verified artifact binary {}", exe);
        return exe;
    }

    private File artifact() throws JhotException {
        String classifier = Binary.requireClassifier();
        if (exeArtifact == null) {
            throw new JhotException("no artifact was configured for " + classifier);
        }
        String want = Binary.expectedDigest(setting("sha256"), classifier, exeCoords);
        File file;
        try {
            file = exeArtifact.getSingleFile();
        } catch (RuntimeException e) {
            throw new JhotException("could not resolve " + exeCoords + " from the build's repositories (" + e.getMessage()
                    + (e.getCause() == null ? "" : ": " + e.getCause().getMessage())
                    + "); install it with `make install-integrations` and add mavenLocal(), or set jhot.executable");
        }
        return Binary.verifiedCopy(file, exeCoords, want, workDir);
    }
}
