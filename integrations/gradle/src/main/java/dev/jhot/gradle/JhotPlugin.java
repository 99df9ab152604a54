package dev.jhot.gradle;

import java.util.HashMap;
import java.util.Map;

import org.gradle.api.Plugin;
import org.gradle.api.Project;
import org.gradle.api.Task;
import org.gradle.api.file.FileCollection;
import org.gradle.api.tasks.SourceSet;
import org.gradle.api.tasks.SourceSetContainer;

/**
 * Plugin {@code dev.jhot}: the {@code jhot { }} extension and, once the {@code java} plugin is
 * applied, the tasks {@code jhotDeploy} (the jar, after {@code jar}) and {@code jhotDiff} (the main
 * classes and resources, after {@code classes}; plan only).
 *
 * <p>Only API present from Gradle 4.4 to 9.x is used: {@code tasks.create} (not {@code register},
 * 4.9), task outputs instead of {@code Jar.getArchivePath} (removed in 8) or {@code getArchiveFile}
 * (5.1), the {@code sourceSets} property looked up by name (a convention in 4.x, an extension
 * later). Everything a task needs is captured here, so its action never touches the
 * {@code Project} (configuration-cache rules).
 */
public class JhotPlugin implements Plugin<Project> {
    /** The settings that {@code -Pjhot.<name>} can override. */
    static final String[] SETTINGS = {
        "pid", "pidFile", "select", "port", "mode", "dryRun", "skip", "executable", "failOnStructural", "version",
        "sha256", "timeout"
    };

    /** This plugin's version (filtered in by Maven): the default version of the exe artifact. */
    static String version() {
        java.util.Properties p = new java.util.Properties();
        try (java.io.InputStream in = JhotPlugin.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (java.io.IOException e) {
            throw new org.gradle.api.GradleException("jhot: reading the plugin's version.properties: " + e.getMessage(), e);
        }
        return p.getProperty("version", "0.1.0");
    }

    @Override
    public void apply(final Project project) {
        final JhotExtension extension = project.getExtensions().create("jhot", JhotExtension.class);
        // -P values are fixed for the whole build: read them now, not at execution time.
        final Map<String, String> overrides = new HashMap<String, String>();
        for (String name : SETTINGS) {
            Object value = project.findProperty("jhot." + name);
            if (value != null) {
                overrides.put(name, value.toString());
            }
        }
        final java.io.File projectDir = project.getProjectDir();
        // Where a verified copy of the exe artifact goes (the repository's file has no execute bit).
        final java.io.File workDir = new java.io.File(project.getBuildDir(), "jhot");

        project.getPluginManager().withPlugin("java", plugin -> {
            Task jar = project.getTasks().getByName("jar");
            JhotTask deploy = project.getTasks().create("jhotDeploy", JhotTask.class);
            deploy.setGroup("jhot");
            deploy.setDescription("Deploys the jar to a running JVM with `jhot deploy` (-Pjhot.pid=…, "
                    + "-Pjhot.select=…, -Pjhot.pidFile=… or -Pjhot.port=…)");
            deploy.dependsOn(jar);
            deploy.configure(extension, overrides, projectDir, workDir, jar.getOutputs().getFiles(), false);

            SourceSetContainer sourceSets = (SourceSetContainer) project.property("sourceSets");
            SourceSet main = sourceSets.getByName(SourceSet.MAIN_SOURCE_SET_NAME);
            FileCollection classes = main.getOutput();
            JhotTask diff = project.getTasks().create("jhotDiff", JhotTask.class);
            diff.setGroup("jhot");
            diff.setDescription("Plans a deploy of the main classes to a running JVM (`jhot deploy --dry-run`); "
                    + "-Pjhot.failOnStructural=true fails the build when it would need a replacement");
            diff.dependsOn(project.getTasks().getByName("classes"));
            diff.configure(extension, overrides, projectDir, workDir, classes, true);
        });
    }
}
