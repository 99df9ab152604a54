package dev.jhot.agent.ops;

import java.io.FileOutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static dev.jhot.agent.TestKit.*;

/** ClassFiles: what a loader sees, from its directories and jars (the parts without Instrumentation). */
public final class ClassFilesTests {
    private ClassFilesTests() {
    }

    static void testPackagesAreListedFromDirectoriesAndJars() throws Exception {
        Path dir = Files.createTempDirectory("jhot-classfiles");
        try {
            Path pkg = Files.createDirectories(dir.resolve("classes/a/b"));
            for (String f : new String[] {"C.class", "C$1.class", "package-info.class", "notes.txt"}) Files.write(pkg.resolve(f), new byte[] {1});
            Files.createDirectories(pkg.resolve("sub"));
            Files.write(pkg.resolve("sub/D.class"), new byte[] {1});
            Path jar = dir.resolve("lib.jar");
            try (JarOutputStream out = new JarOutputStream(new FileOutputStream(jar.toFile()))) {
                for (String e : new String[] {"a/b/", "a/b/E.class", "a/b/deeper/F.class", "a/bc/G.class"}) {
                    out.putNextEntry(new JarEntry(e));
                    if (!e.endsWith("/")) out.write(new byte[] {1});
                    out.closeEntry();
                }
            }
            URL[] urls = {dir.resolve("classes").toUri().toURL(), jar.toUri().toURL()};
            try (URLClassLoader loader = new URLClassLoader(urls, null)) {
                TreeSet<String> names = new TreeSet<>();
                java.util.Enumeration<URL> found = loader.getResources("a/b");
                int n = 0;
                while (found.hasMoreElements()) {
                    ClassFiles.list(found.nextElement(), "a/b", "a.b", names);
                    n++;
                }
                eq(2, n);
                eq("[a.b.C, a.b.C$1, a.b.E]", names.toString());
            }
        } finally {
            deleteTree(dir);
        }
    }

    static void testClassFilesComeFromTheLoaderAndThePlatform() throws Exception {
        byte[] object = ClassFiles.resource(null, "java.lang.Object");
        check(object != null && (object[0] & 0xff) == 0xCA && (object[1] & 0xff) == 0xFE, "java.lang.Object through the platform loader");
        byte[] own = ClassFiles.resource(ClassFilesTests.class.getClassLoader(), "dev.jhot.agent.ops.ClassFilesTests");
        check(own != null && own.length > 100, "a class of the app loader");
        check(ClassFiles.resource(ClassFilesTests.class.getClassLoader(), "no.such.Thing") == null, "absent");
    }

    static void testALoaderSeesItsAncestorsOnly() {
        ClassLoader app = ClassLoader.getSystemClassLoader();
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        check(ClassFiles.sees(app, app), "itself");
        check(ClassFiles.sees(app, platform), "its parent");
        check(ClassFiles.sees(app, null), "the boot loader");
        check(!ClassFiles.sees(platform, app), "not its child");
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        try (java.util.stream.Stream<Path> s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        }
    }
}
