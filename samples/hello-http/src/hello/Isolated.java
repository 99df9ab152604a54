package hello;

import java.net.URL;
import java.net.URLClassLoader;

/**
 * A second copy of {@link Greeter}, defined by a class loader of its own (named "isolated", as a
 * plugin system or an application server would do), so the same class name is loaded twice. jhot
 * redefines both by default and one with {@code --loader}.
 */
final class Isolated {
    private Isolated() {}

    private static volatile Class<?> greeter;

    static String greet() throws ReflectiveOperationException {
        Class<?> c = greeter;
        if (c == null) {
            synchronized (Isolated.class) {
                c = greeter;
                if (c == null) {
                    URL here = Isolated.class.getProtectionDomain().getCodeSource().getLocation();
                    // Parent = platform loader: the app loader's Greeter is invisible to it, so it
                    // defines its own.
                    ClassLoader loader = new URLClassLoader("isolated", new URL[] {here}, ClassLoader.getPlatformClassLoader());
                    c = Class.forName("hello.Greeter", true, loader);
                    greeter = c;
                }
            }
        }
        java.lang.reflect.Method m = c.getDeclaredMethod("greet");
        // Another loader means another runtime package: package-private access needs this.
        m.setAccessible(true);
        return (String) m.invoke(null);
    }
}
