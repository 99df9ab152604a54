package dev.jhot.helper;

import dev.jhot.agent.Failure;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Manifest;
import org.jetbrains.java.decompiler.main.Fernflower;
import org.jetbrains.java.decompiler.main.extern.IContextSource;
import org.jetbrains.java.decompiler.main.extern.IFernflowerLogger;
import org.jetbrains.java.decompiler.main.extern.IResultSaver;

/**
 * `decompile`: an outer class and its nested classes (their bytes in the request) to Java source
 * with Vineflower, in memory. Types the classes refer to are resolved lazily through the bridge
 * (better generics and overload typing); a type the loader cannot serve is simply not resolved.
 */
final class Decompile {
    private Decompile() {
    }

    static void run(Args a, Bridge bridge, Map<String, Object> out) throws Failure {
        String outer = a.string("outer");
        String method = a.optString("method");
        Map<String, byte[]> classes = new HashMap<>();
        for (Map.Entry<String, byte[]> e : a.named("classes", "name").entrySet()) classes.put(internal(e.getKey()), e.getValue());
        if (!classes.containsKey(internal(outer))) throw Failure.protocol("\"classes\" must hold the outer class " + outer);

        Map<String, Object> options = new HashMap<>();
        // A production host's CPUs are not ours to take; Vineflower's default is one thread each.
        options.put("thread-count", "1");
        options.put("banner", "");
        options.put("log-level", "warn");
        options.put("decompile-inner", "1");
        options.put("use-lvt-names", "1");
        options.put("max-time-per-method", "30");
        if (method != null) options.put("method-to-decompile", method);

        StringBuilder source = new StringBuilder();
        List<String> problems = new ArrayList<>();
        IFernflowerLogger logger = new IFernflowerLogger() {
            @Override
            public void writeMessage(String message, Severity severity) {
                if (severity == Severity.ERROR) problems.add(message);
            }

            @Override
            public void writeMessage(String message, Severity severity, Throwable t) {
                if (severity == Severity.ERROR) problems.add(message + ": " + t);
            }
        };
        logger.setSeverity(IFernflowerLogger.Severity.WARN);
        Fernflower ff = new Fernflower(new NoSaver(), options, logger);
        try {
            ff.addSource(new Sources(classes, outer, source));
            ff.addLibrary(new Library(bridge, classes));
            ff.decompileContext();
        } finally {
            ff.clearContext();
        }
        if (source.length() == 0) {
            throw new Failure("input", "the decompiler produced no source for " + outer + (problems.isEmpty() ? "" : ": " + String.join("; ", problems)), null);
        }
        out.put("source", source.toString());
        String v = Fernflower.class.getPackage() == null ? null : Fernflower.class.getPackage().getImplementationVersion();
        out.put("decompiler", "vineflower " + (v == null ? "?" : v));
        out.put("problems", problems);
    }

    static String internal(String binary) {
        return binary.replace('.', '/');
    }

    /** The classes to decompile; the outer class's source goes to `source`. */
    private static final class Sources implements IContextSource {
        private final Map<String, byte[]> classes;
        private final String outer;
        private final StringBuilder source;

        Sources(Map<String, byte[]> classes, String outer, StringBuilder source) {
            this.classes = classes;
            this.outer = internal(outer);
            this.source = source;
        }

        @Override
        public String getName() {
            return "jhot";
        }

        @Override
        public Entries getEntries() {
            List<Entry> entries = new ArrayList<>();
            for (String n : classes.keySet()) entries.add(Entry.atBase(n));
            return new Entries(entries, new ArrayList<>(), new ArrayList<>());
        }

        @Override
        public InputStream getInputStream(String resource) {
            String n = resource.endsWith(CLASS_SUFFIX) ? resource.substring(0, resource.length() - CLASS_SUFFIX.length()) : resource;
            byte[] b = classes.get(n);
            return b == null ? null : new ByteArrayInputStream(b);
        }

        @Override
        public IOutputSink createOutputSink(IResultSaver saver) {
            return new IOutputSink() {
                @Override
                public void begin() {
                }

                @Override
                public void acceptClass(String qualifiedName, String fileName, String content, int[] mapping) {
                    // Nested classes are written into their outer class; only a top-level class
                    // comes here, and only the one asked for is wanted.
                    if (content != null && (qualifiedName.equals(outer) || source.length() == 0)) {
                        if (qualifiedName.equals(outer)) source.setLength(0);
                        source.append(content);
                    }
                }

                @Override
                public void acceptDirectory(String directory) {
                }

                @Override
                public void acceptOther(String path) {
                }

                @Override
                public void close() {
                }
            };
        }
    }

    /** Every other type, asked of the target's loader when the decompiler first needs it. */
    private static final class Library implements IContextSource {
        private final Bridge bridge;
        private final Map<String, byte[]> sources;

        Library(Bridge bridge, Map<String, byte[]> sources) {
            this.bridge = bridge;
            this.sources = sources;
        }

        @Override
        public String getName() {
            return "target class loader";
        }

        @Override
        public Entries getEntries() {
            return Entries.EMPTY;
        }

        @Override
        public boolean isLazy() {
            return true;
        }

        @Override
        public byte[] getClassBytes(String internalName) {
            if (sources.containsKey(internalName)) return null;
            return bridge.classFile(internalName.replace('/', '.'));
        }

        @Override
        public InputStream getInputStream(String resource) {
            String n = resource.endsWith(CLASS_SUFFIX) ? resource.substring(0, resource.length() - CLASS_SUFFIX.length()) : resource;
            byte[] b = getClassBytes(n);
            return b == null ? null : new ByteArrayInputStream(b);
        }
    }

    /** Output goes through Sources' sink; nothing is saved anywhere. */
    private static final class NoSaver implements IResultSaver {
        @Override
        public void saveFolder(String path) {
        }

        @Override
        public void copyFile(String source, String path, String entryName) {
        }

        @Override
        public void saveClassFile(String path, String qualifiedName, String entryName, String content, int[] mapping) {
        }

        @Override
        public void createArchive(String path, String archiveName, Manifest manifest) {
        }

        @Override
        public void saveDirEntry(String path, String archiveName, String entryName) {
        }

        @Override
        public void copyEntry(String source, String path, String archiveName, String entry) {
        }

        @Override
        public void saveClassEntry(String path, String archiveName, String qualifiedName, String entryName, String content) {
        }

        @Override
        public void closeArchive(String path, String archiveName) {
        }
    }
}
