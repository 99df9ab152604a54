package dev.jhot.helper;

import dev.jhot.agent.Failure;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * `compile` with javac, for a target whose java has jdk.compiler and whose class javac built (ECJ
 * would change synthetic members). The class path is the target loader's view through the bridge:
 * javac lists packages (list_package) and reads class files (class_file); the platform classes
 * come from this java's own image or ct.sym for --release, which is the target's JDK.
 *
 * Only this class touches javax.tools: on a runtime without java.compiler it is never loaded.
 */
final class Javac {
    private Javac() {
    }

    static boolean available() {
        return ModuleLayer.boot().findModule("jdk.compiler").isPresent();
    }

    static void run(Args a, Bridge bridge, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        int release = a.integer("release", 6, 99);
        Map<String, byte[]> files = a.named("sources", "path");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new Failure("input", "this java has no system Java compiler", null);
        List<JavaFileObject> units = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : files.entrySet()) units.add(new Source(e.getKey(), new String(e.getValue(), StandardCharsets.UTF_8)));
        DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
        StandardJavaFileManager std = javac.getStandardFileManager(diags, Locale.ENGLISH, StandardCharsets.UTF_8);
        Map<String, Output> outputs = new LinkedHashMap<>();
        try {
            // The helper's own jars are on its class path: javac must not see them.
            std.setLocation(StandardLocation.CLASS_PATH, List.of());
        } catch (IOException e) {
            throw new Failure("internal", e.toString(), null);
        }
        JavaFileManager fm = new Manager(std, bridge, outputs);
        List<String> options = List.of("--release", Integer.toString(release), "-g", "-proc:none", "-implicit:none", "-encoding", "UTF-8", "-Xlint:none", "-nowarn");
        boolean ok;
        try {
            ok = javac.getTask(null, fm, diags, options, null, units).call();
        } catch (IllegalArgumentException e) {
            throw new Failure("input", "javac: " + e.getMessage(), null);
        }
        List<Object> diagnostics = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics()) {
            if (d.getKind() != Diagnostic.Kind.ERROR && d.getKind() != Diagnostic.Kind.WARNING && d.getKind() != Diagnostic.Kind.MANDATORY_WARNING) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", d.getSource() == null ? null : d.getSource().getName());
            m.put("line", d.getLineNumber() < 0 ? 0L : d.getLineNumber());
            m.put("column", d.getColumnNumber() < 0 ? 0L : d.getColumnNumber());
            m.put("severity", d.getKind() == Diagnostic.Kind.ERROR ? "error" : "warning");
            m.put("message", d.getMessage(Locale.ENGLISH));
            diagnostics.add(m);
        }
        List<Object> classes = new ArrayList<>();
        if (ok) {
            for (Map.Entry<String, Output> e : outputs.entrySet()) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("name", e.getKey());
                c.put("blob", (long) blobs.size());
                blobs.add(e.getValue().bytes.toByteArray());
                classes.add(c);
            }
        }
        out.put("compiler", "javac");
        out.put("success", ok);
        out.put("classes", classes);
        out.put("diagnostics", diagnostics);
    }

    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.\\s]+?)\\s*;", Pattern.MULTILINE);

    /** The package a source declares (comments before it are rare enough in jad output and edits). */
    static String packageOf(byte[] source) {
        String s = new String(source, StandardCharsets.UTF_8).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
        Matcher m = PACKAGE.matcher(s);
        return m.find() ? m.group(1).replaceAll("\\s", "") : "";
    }

    static String simpleName(String path) {
        String f = path.substring(path.lastIndexOf('/') + 1);
        return f.endsWith(".java") ? f.substring(0, f.length() - 5) : f;
    }

    private static final class Source extends SimpleJavaFileObject {
        private final String path;
        private final String text;

        Source(String path, String text) {
            super(URI.create("jhot:///" + simpleName(path) + ".java"), Kind.SOURCE);
            this.path = path;
            this.text = text;
        }

        @Override
        public String getName() {
            return path;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }
    }

    /** A class file of the target loader, read on first use. */
    private static final class Remote extends SimpleJavaFileObject {
        final String binaryName;
        private final Bridge bridge;

        Remote(String binaryName, Bridge bridge) {
            super(URI.create("jhot-loader:///" + binaryName.replace('.', '/') + ".class"), Kind.CLASS);
            this.binaryName = binaryName;
            this.bridge = bridge;
        }

        @Override
        public InputStream openInputStream() throws IOException {
            byte[] b = bridge.classFile(binaryName);
            if (b == null) throw new IOException(binaryName + ": the class loader no longer serves it");
            return new ByteArrayInputStream(b);
        }
    }

    private static final class Output extends SimpleJavaFileObject {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Output(String binaryName) {
            super(URI.create("jhot-out:///" + binaryName.replace('.', '/') + ".class"), Kind.CLASS);
        }

        @Override
        public OutputStream openOutputStream() {
            bytes.reset();
            return bytes;
        }
    }

    private static final class Manager extends ForwardingJavaFileManager<StandardJavaFileManager> {
        private final Bridge bridge;
        private final Map<String, Output> outputs;

        Manager(StandardJavaFileManager std, Bridge bridge, Map<String, Output> outputs) {
            super(std);
            this.bridge = bridge;
            this.outputs = outputs;
        }

        @Override
        public boolean hasLocation(Location location) {
            return location == StandardLocation.CLASS_PATH || super.hasLocation(location);
        }

        @Override
        public Iterable<JavaFileObject> list(Location location, String pkg, Set<JavaFileObject.Kind> kinds, boolean recurse) throws IOException {
            if (location != StandardLocation.CLASS_PATH) return super.list(location, pkg, kinds, recurse);
            List<JavaFileObject> out = new ArrayList<>();
            if (!kinds.contains(JavaFileObject.Kind.CLASS)) return out;
            for (String n : bridge.listPackage(pkg)) out.add(new Remote(n, bridge));
            return out;
        }

        @Override
        public String inferBinaryName(Location location, JavaFileObject file) {
            if (file instanceof Remote) return ((Remote) file).binaryName;
            return super.inferBinaryName(location, file);
        }

        @Override
        public boolean isSameFile(FileObject a, FileObject b) {
            if (a instanceof Remote || b instanceof Remote || a instanceof Source || b instanceof Source) return a.equals(b);
            return super.isSameFile(a, b);
        }

        @Override
        public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
            Output o = new Output(className);
            outputs.put(className, o);
            return o;
        }
    }
}
