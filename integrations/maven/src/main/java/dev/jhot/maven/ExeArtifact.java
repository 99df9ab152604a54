package dev.jhot.maven;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;

import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactRequest;
import org.eclipse.aether.resolution.ArtifactResolutionException;

/**
 * The jhot binary as a Maven artifact, the protoc convention: {@code dev.jhot:jhot:<version>:exe:<os>-<arch>},
 * resolved through the build's own repositories (nothing is downloaded from anywhere else) and run
 * only if its SHA-256 is the one expected: {@code jhot.sha256}, or the digest
 * {@code make install-integrations} built into the plugin next to the binary it installed.
 */
final class ExeArtifact {
    /** Written by `make install-integrations`: lines of `<classifier> <sha256>`. */
    static final String DIGESTS = "dev/jhot/maven/jhot-exe.sha256";

    private ExeArtifact() {}

    /** protoc's classifier of this machine, or null for a platform jhot is not built for. */
    static String classifier() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux")) {
            return null;
        }
        switch (arch) {
            case "amd64":
            case "x86_64":
                return "linux-x86_64";
            case "aarch64":
            case "arm64":
                return "linux-aarch_64";
            default:
                return null;
        }
    }

    /** The digest the plugin was built with for this classifier, or null. */
    static String embeddedDigest(String classifier) throws IOException {
        try (InputStream in = ExeArtifact.class.getClassLoader().getResourceAsStream(DIGESTS)) {
            if (in == null) {
                return null;
            }
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            byte[] b = new byte[4096];
            int n;
            while ((n = in.read(b)) > 0) {
                buf.write(b, 0, n);
            }
            for (String line : new String(buf.toByteArray(), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 2 && f[0].equals(classifier)) {
                    return f[1].toLowerCase(Locale.ROOT);
                }
            }
            return null;
        }
    }

    static String sha256(File f) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        try (InputStream in = Files.newInputStream(f.toPath())) {
            byte[] b = new byte[1 << 16];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        StringBuilder hex = new StringBuilder();
        for (byte x : md.digest()) {
            hex.append(String.format("%02x", x));
        }
        return hex.toString();
    }

    /**
     * Resolves the artifact, checks it, and copies it to {@code dir} with the execute bit (files in
     * the local repository have none). Throws with a message that says what to do.
     */
    static File resolve(RepositorySystem system, RepositorySystemSession session, List<RemoteRepository> repos,
            String version, String expected, File dir) throws IllegalStateException {
        String classifier = classifier();
        if (classifier == null) {
            throw new IllegalStateException("no jhot artifact for " + System.getProperty("os.name") + "/"
                    + System.getProperty("os.arch") + ": set -Djhot.executable");
        }
        String coords = "dev.jhot:jhot:exe:" + classifier + ":" + version;
        String want = expected;
        try {
            if (want == null || want.trim().isEmpty()) {
                want = embeddedDigest(classifier);
            }
        } catch (IOException e) {
            throw new IllegalStateException("reading the plugin's digests: " + e.getMessage());
        }
        if (want == null) {
            throw new IllegalStateException("no SHA-256 known for " + coords
                    + ": refusing to run an unverified binary; set -Djhot.sha256=<digest> or -Djhot.executable");
        }
        want = want.trim().toLowerCase(Locale.ROOT);
        File file;
        try {
            ArtifactRequest req = new ArtifactRequest(new DefaultArtifact("dev.jhot", "jhot", classifier, "exe", version),
                    repos, null);
            file = system.resolveArtifact(session, req).getArtifact().getFile();
        } catch (ArtifactResolutionException e) {
            throw new IllegalStateException("could not resolve " + coords + " (" + e.getMessage()
                    + "); install it with `make install-integrations`, or set -Djhot.executable");
        }
        // The copy is what runs, so the copy is what is checked.
        try {
            Files.createDirectories(dir.toPath());
            File tmp = File.createTempFile("jhot", ".tmp", dir);
            try {
                Files.copy(file.toPath(), tmp.toPath(), StandardCopyOption.REPLACE_EXISTING);
                String got = sha256(tmp);
                if (!got.equals(want)) {
                    throw new IllegalStateException(coords + " at " + file + " has SHA-256 " + got + ", expected "
                            + want + ": not running it");
                }
                if (!tmp.setExecutable(true, true)) {
                    throw new IOException("cannot make " + tmp + " executable");
                }
                File exe = new File(dir, "jhot-" + got.substring(0, 16));
                Files.move(tmp.toPath(), exe.toPath(), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
                return exe;
            } finally {
                Files.deleteIfExists(tmp.toPath());
            }
        } catch (IOException e) {
            throw new IllegalStateException("copying " + file + ": " + e.getMessage());
        }
    }
}
