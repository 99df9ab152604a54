package dev.jhot.integrations;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * Where the {@code jhot} binary comes from: {@code jhot.executable} if given, else the first
 * executable {@code jhot} on {@code PATH}, else the artifact {@code dev.jhot:jhot:<version>:exe:<os>-<arch>}
 * (protoc's convention), which each plugin resolves through its build's own repositories and which
 * runs only if its SHA-256 is the expected one: {@code jhot.sha256}, or the digest
 * {@code make install-integrations} built into the plugin next to the binary it installed.
 */
public final class Binary {
    /** Written by `make install-integrations`: lines of `<classifier> <sha256>`. */
    public static final String DIGESTS = "dev/jhot/integrations/jhot-exe.sha256";

    private Binary() {}

    /**
     * {@code jhot.executable}: a path (relative ones against {@code baseDir} when they contain a
     * separator, else looked up on PATH as a shell would); null when not configured.
     */
    public static File configured(String configured, File baseDir, String path) throws JhotException {
        if (configured == null || configured.trim().isEmpty()) {
            return null;
        }
        String name = configured.trim();
        File f = new File(name);
        if (!f.isAbsolute() && !name.contains(File.separator)) {
            File found = onPath(name, path);
            if (found == null) {
                throw new JhotException("jhot.executable=" + configured + " is not on PATH");
            }
            return found;
        }
        if (!f.isAbsolute() && baseDir != null) {
            f = new File(baseDir, name);
        }
        if (!f.isFile() || !f.canExecute()) {
            throw new JhotException("jhot.executable=" + configured + " is not an executable file");
        }
        return f.getAbsoluteFile();
    }

    /** The first executable {@code name} in the directories of {@code path}, or null. */
    public static File onPath(String name, String path) {
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            File f = new File(dir, name);
            if (f.isFile() && f.canExecute()) {
                return f.getAbsoluteFile();
            }
        }
        return null;
    }

    /** protoc's classifier of this machine, or null for a platform jhot is not built for. */
    public static String classifier() {
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

    /** This machine's classifier, or a failure that says to set jhot.executable. */
    public static String requireClassifier() throws JhotException {
        String classifier = classifier();
        if (classifier == null) {
            throw new JhotException("no jhot artifact for " + System.getProperty("os.name") + "/"
                    + System.getProperty("os.arch") + ": set jhot.executable");
        }
        return classifier;
    }

    /** The digest the plugin was built with for this classifier, or null. */
    public static String embeddedDigest(String classifier) throws IOException {
        try (InputStream in = Binary.class.getClassLoader().getResourceAsStream(DIGESTS)) {
            if (in == null) {
                return null;
            }
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
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

    /**
     * The SHA-256 the artifact must have: {@code configured} (jhot.sha256) if given, else the one
     * built into the plugin. Without either, nothing is run: an unverified binary would run as root.
     */
    public static String expectedDigest(String configured, String classifier, String coords) throws JhotException {
        String want = configured;
        if (want == null || want.trim().isEmpty()) {
            try {
                want = embeddedDigest(classifier);
            } catch (IOException e) {
                throw new JhotException("reading the plugin's digests: " + e.getMessage());
            }
        }
        if (want == null) {
            throw new JhotException("no SHA-256 known for " + coords
                    + ": refusing to run an unverified binary; set jhot.sha256=<digest> or jhot.executable");
        }
        return want.trim().toLowerCase(Locale.ROOT);
    }

    public static String sha256(File f) throws IOException {
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
     * Copies the resolved artifact {@code file} into {@code dir} with the execute bit (files in a
     * local repository have none) and returns the copy, if its SHA-256 is {@code expected}.
     */
    public static File verifiedCopy(File file, String coords, String expected, File dir) throws JhotException {
        // The copy is what runs, so the copy is what is checked.
        try {
            Files.createDirectories(dir.toPath());
            File tmp = File.createTempFile("jhot", ".tmp", dir);
            try {
                Files.copy(file.toPath(), tmp.toPath(), StandardCopyOption.REPLACE_EXISTING);
                String got = sha256(tmp);
                if (!got.equals(expected)) {
                    throw new JhotException(coords + " at " + file + " has SHA-256 " + got + ", expected " + expected
                            + ": not running it");
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
            throw new JhotException("copying " + file + ": " + e.getMessage());
        }
    }
}
