package dev.jhot.maven;

import dev.jhot.integrations.Jhot;
import dev.jhot.integrations.JhotException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * {@code mvn compile jhot:diff -Djhot.pid=4242}: the plan of {@code jhot deploy --dry-run}, written
 * to the log; nothing is changed. With {@code -Djhot.failOnStructural} the build fails when the
 * change would need a process replacement, naming the classes and why.
 */
@Mojo(name = "diff", defaultPhase = LifecyclePhase.PACKAGE, threadSafe = true)
public class DiffMojo extends AbstractJhotMojo {
    /** Fail the build when the change cannot be applied by redefinition. */
    @Parameter(property = "jhot.failOnStructural", defaultValue = "false")
    protected boolean failOnStructural;

    @Override
    boolean dryRun() {
        return true;
    }

    @Override
    void afterSuccess(Jhot.Result r) throws JhotException {
        if (failOnStructural && Jhot.needsReplacement(r.json)) {
            throw new JhotException("jhot: this build needs a process replacement (jhot.failOnStructural):"
                    + Jhot.structural(r.json, true));
        }
    }
}
