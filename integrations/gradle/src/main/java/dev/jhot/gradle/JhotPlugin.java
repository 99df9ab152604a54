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
        "pid", "pidFile", "select", "port", "mode", "dryRun", "skip", "executable", "failOnStructural"
    };

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
        // -Pjhot.select=TEXT puts TEXT on a Gradle JVM's own command line (the client's, or the
        // build's with --no-daemon), so jhot --select would match Gradle itself: ambiguous at best,
        // and Gradle's JVM alone when the application is not running. Refused in the task.
        if (project.getGradle().getStartParameter().getProjectProperties().containsKey("jhot.select")) {
            overrides.put(JhotTask.SELECT_ON_COMMAND_LINE, "true");
        }
        final java.io.File projectDir = project.getProjectDir();

        project.getPluginManager().withPlugin("java", plugin -> {
            Task jar = project.getTasks().getByName("jar");
            JhotTask deploy = project.getTasks().create("jhotDeploy", JhotTask.class);
            deploy.setGroup("jhot");
            deploy.setDescription("Deploys the jar to a running JVM with `jhot deploy` (-Pjhot.pid=…, "
                    + "-Pjhot.select=…, -Pjhot.pidFile=… or -Pjhot.port=…)");
            deploy.dependsOn(jar);
            deploy.configure(extension, overrides, projectDir, jar.getOutputs().getFiles(), false);

            SourceSetContainer sourceSets = (SourceSetContainer) project.property("sourceSets");
            SourceSet main = sourceSets.getByName(SourceSet.MAIN_SOURCE_SET_NAME);
            FileCollection classes = main.getOutput();
            JhotTask diff = project.getTasks().create("jhotDiff", JhotTask.class);
            diff.setGroup("jhot");
            diff.setDescription("Plans a deploy of the main classes to a running JVM (`jhot deploy --dry-run`); "
                    + "-Pjhot.failOnStructural=true fails the build when it would need a replacement");
            diff.dependsOn(project.getTasks().getByName("classes"));
            diff.configure(extension, overrides, projectDir, classes, true);
        });
    }
}
