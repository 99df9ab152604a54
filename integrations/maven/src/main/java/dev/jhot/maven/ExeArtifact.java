package dev.jhot.maven;

import java.io.File;
import java.util.List;

import dev.jhot.integrations.Binary;
import dev.jhot.integrations.JhotException;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactRequest;
import org.eclipse.aether.resolution.ArtifactResolutionException;

/**
 * The jhot binary as a Maven artifact, {@code dev.jhot:jhot:<version>:exe:<os>-<arch>}, resolved
 * through the build's own repositories (nothing is downloaded from anywhere else) and run only if
 * its SHA-256 is the expected one ({@link Binary#expectedDigest}).
 */
final class ExeArtifact {
    private ExeArtifact() {}

    /** Resolves the artifact, checks it, and returns its executable copy in {@code dir}. */
    static File resolve(RepositorySystem system, RepositorySystemSession session, List<RemoteRepository> repos,
            String version, String expected, File dir) throws JhotException {
        String classifier = Binary.requireClassifier();
        String coords = "dev.jhot:jhot:exe:" + classifier + ":" + version;
        String want = Binary.expectedDigest(expected, classifier, coords);
        File file;
        try {
            ArtifactRequest req = new ArtifactRequest(new DefaultArtifact("dev.jhot", "jhot", classifier, "exe", version),
                    repos, null);
            file = system.resolveArtifact(session, req).getArtifact().getFile();
        } catch (ArtifactResolutionException e) {
            throw new JhotException("could not resolve " + coords + " (" + e.getMessage()
                    + "); install it with `make install-integrations`, or set -Djhot.executable");
        }
        return Binary.verifiedCopy(file, coords, want, dir);
    }
}
