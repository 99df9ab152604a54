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
}
