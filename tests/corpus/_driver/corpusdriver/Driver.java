package corpusdriver;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * The JVM side of the redefinition corpus (tests/e2e/corpus.rs): loads and initializes every
 * class found in the directories of the class path (the "before" classes of every case), except
 * its own, prints {@code READY <count>}, then idles until it is stopped, so that jhot can
 * redefine each case's classes in it.
 */
public final class Driver {
    private Driver() {}

    public static void main(String[] args) throws Exception {
        ClassLoader loader = Driver.class.getClassLoader();
        List<String> names = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path root = Paths.get(entry);
            if (Files.isDirectory(root)) {
                collect(root, names);
            }
        }
        Collections.sort(names);
        int loaded = 0;
        for (String name : names) {
            if (name.startsWith("corpusdriver.")) {
                continue;
            }
            try {
                Class.forName(name, true, loader);
                loaded++;
            } catch (Throwable t) {
                System.out.println("FAILED " + name + " " + t);
                System.exit(3);
            }
        }
        System.out.println("READY " + loaded);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void collect(Path root, List<String> names) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(p -> p.toString().endsWith(".class")).forEach(p -> {
                String rel = root.relativize(p).toString();
                names.add(rel.substring(0, rel.length() - ".class".length()).replace(File.separatorChar, '.'));
            });
        }
    }
}
