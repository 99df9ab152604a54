package dev.jhot.gradle;

/**
 * The {@code jhot { }} block. Plain fields with setters, so that {@code pid = 4242} works in the
 * Groovy DSL of every Gradle from 4.4 on (assigning to a {@code Property} needs Gradle 8.2). Each
 * setting can be overridden on the command line with {@code -Pjhot.<name>=<value>}; the tasks read
 * both when they run, not when the build script is evaluated.
 */
public class JhotExtension {
    private Integer pid;
    private String pidFile;
    private String select;
    private Integer port;
    private String mode = "auto";
    private boolean dryRun;
    private boolean skip;
    private String executable;
    private boolean failOnStructural;
    private String version;
    private String sha256;
    private Integer timeout;

    public Integer getPid() {
        return pid;
    }

    public void setPid(Integer pid) {
        this.pid = pid;
    }

    public String getPidFile() {
        return pidFile;
    }

    /** A path, relative to the project directory unless absolute; any object whose string is one. */
    public void setPidFile(Object pidFile) {
        this.pidFile = pidFile == null ? null : pidFile.toString();
    }

    public String getSelect() {
        return select;
    }

    public void setSelect(String select) {
        this.select = select;
    }

    public Integer getPort() {
        return port;
    }

    public void setPort(Integer port) {
        this.port = port;
    }

    public String getMode() {
        return mode;
    }

    public void setMode(String mode) {
        this.mode = mode;
    }

    public boolean isDryRun() {
        return dryRun;
    }

    public void setDryRun(boolean dryRun) {
        this.dryRun = dryRun;
    }

    public boolean isSkip() {
        return skip;
    }

    public void setSkip(boolean skip) {
        this.skip = skip;
    }

    public String getExecutable() {
        return executable;
    }

    public void setExecutable(Object executable) {
        this.executable = executable == null ? null : executable.toString();
    }

    public boolean isFailOnStructural() {
        return failOnStructural;
    }

    public void setFailOnStructural(boolean failOnStructural) {
        this.failOnStructural = failOnStructural;
    }

    /** Version of the {@code dev.jhot:jhot:exe} artifact used when neither executable nor PATH has jhot. */
    public String getVersion() {
        return version;
    }

    public void setVersion(String version) {
        this.version = version;
    }

    /** The SHA-256 that artifact must have; by default the one built into the plugin. */
    public String getSha256() {
        return sha256;
    }

    public void setSha256(String sha256) {
        this.sha256 = sha256;
    }

    /** Seconds jhot may run before the task fails (default 600). */
    public Integer getTimeout() {
        return timeout;
    }

    public void setTimeout(Integer timeout) {
        this.timeout = timeout;
    }
}
