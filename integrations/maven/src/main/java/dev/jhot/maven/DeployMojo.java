package dev.jhot.maven;

import dev.jhot.integrations.Jhot;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * {@code mvn package jhot:deploy -Djhot.pid=4242}: sends the build to the running JVM with
 * {@code jhot deploy}, which does nothing, one atomic redefinition, or a process replacement,
 * whatever the change needs ({@code jhot.mode} restricts it). Does not fork a lifecycle: it sends
 * what the phases before it in the same command built.
 */
@Mojo(name = "deploy", defaultPhase = LifecyclePhase.PACKAGE, threadSafe = true)
public class DeployMojo extends AbstractJhotMojo {
    /** Print the plan only; change nothing. */
    @Parameter(property = "jhot.dryRun", defaultValue = "false")
    protected boolean dryRun;

    @Override
    boolean dryRun() {
        return dryRun;
    }

    @Override
    void afterSuccess(Jhot.Result r) {}
}
