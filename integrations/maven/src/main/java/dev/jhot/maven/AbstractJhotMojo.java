package dev.jhot.maven;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import dev.jhot.integrations.Binary;
import dev.jhot.integrations.Jhot;
import dev.jhot.integrations.JhotException;
import dev.jhot.integrations.JhotLog;
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
 * to send; running jhot, the log lines and the failures are the shared core's (dev.jhot.integrations),
 * wired here to Maven's parameters, log and failure types.
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

    /** Whether this run changes nothing. */
    abstract boolean dryRun();

    /** Checks what jhot did after a successful run; a failure fails the build. */
    abstract void afterSuccess(Jhot.Result r) throws JhotException;

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
        try {
            List<String> target = targetArgs();
            String m = Jhot.mode(mode);
            File exe = executable();
            List<String> b = Collections.singletonList(buildPath().getAbsolutePath());
            List<String> cmd = Jhot.command(exe, target, b, m, dryRun());
            getLog().info("jhot: " + String.join(" ", cmd));
            JhotLog log = log();
            Jhot.Result r = Jhot.run(cmd, null, timeout, log);
            if (r.exit != 0) {
                throw new JhotException(Jhot.failure(r, m, b.get(0), Jhot.command(exe, target, b, "auto", true), null,
                        log));
            }
            Jhot.report(r.json, log);
            afterSuccess(r);
        } catch (JhotException e) {
            if (e.isBroken()) {
                throw new MojoExecutionException(e.getMessage(), e);
            }
            throw new MojoFailureException(e.getMessage(), e);
        }
    }

    /** The Maven log as the shared code's logger. */
    private JhotLog log() {
        final org.apache.maven.plugin.logging.Log log = getLog();
        return new JhotLog() {
            @Override
            public void info(String line) {
                log.info(line);
            }

            @Override
            public void warn(String line) {
                log.warn(line);
            }

            @Override
            public void debug(String line) {
                log.debug(line);
            }
        };
    }

    /** The target options: exactly one of pid, pidFile, select, port. Never a guess. */
    List<String> targetArgs() throws JhotException {
        List<String> args = new ArrayList<>();
        int given = 0;
        if (pid != null && !pid.trim().isEmpty()) {
            String p = pid.trim();
            if (!p.matches("[0-9]+")) {
                throw new JhotException("jhot.pid=" + pid + " is not a process id");
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
            throw new JhotException(
                    "jhot: which JVM? Set one of -Djhot.pid=<pid>, -Djhot.pidFile=<file>, -Djhot.select=<text> "
                            + "(main class, jar or command line) or -Djhot.port=<port>; jhot never picks a JVM by guessing");
        }
        if (given > 1) {
            throw new JhotException(
                    "jhot: set only one of jhot.pid, jhot.pidFile, jhot.select and jhot.port (" + given + " were set)");
        }
        return args;
    }

    File executable() throws JhotException {
        String path = System.getenv("PATH");
        File exe = Binary.configured(executable, project.getBasedir(), path);
        if (exe == null) {
            exe = Binary.onPath("jhot", path);
        }
        if (exe != null) {
            return exe;
        }
        try {
            exe = ExeArtifact.resolve(repoSystem, repoSession, remoteRepos, jhotVersion, sha256,
                    new File(project.getBuild().getDirectory(), "jhot"));
        } catch (JhotException e) {
            throw new JhotException("jhot: no jhot binary: not in jhot.executable, not on PATH, and the "
                    + "artifact: " + e.getMessage());
        }
        getLog().info("jhot: using the verified artifact binary " + exe);
        return exe;
    }

    /**
     * The packaged jar when {@code package} ran in this build (Maven set the artifact's file), else
     * target/classes (run before {@code package}), else a jar left by an earlier package.
     */
    File buildPath() throws JhotException {
        if (build != null) {
            if (!build.exists()) {
                throw new JhotException("jhot.build=" + build + " does not exist");
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
        throw new JhotException("jhot: nothing to deploy: neither " + classes + " nor " + jar
                + " exists; run `mvn package jhot:deploy` (or compile first)");
    }
}
