package retrans;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;

/**
 * A second, independent Java agent for the end-to-end tests: it proves that another agent's
 * retransformation does not undo a class that jhot redefined (retransformation starts from the
 * current, redefined bytes).
 *
 * <p>Arguments: {@code <binary class name>[;keep]}, e.g. {@code hello.Greeter}. The agent
 * registers a no-op, retransform-capable {@link ClassFileTransformer}, calls
 * {@link Instrumentation#retransformClasses} on every loaded class with that name (one per
 * class loader) and prints {@code RETRANSFORMED <name> <count>} to stdout. The transformer is
 * removed afterwards unless {@code ;keep} is given (then it stays registered, so later
 * redefinitions also pass through a retransform-capable transformer); each time it sees a class
 * with that name it prints {@code RETRANSFORMER-SAW <name> load|retransform|redefine} ("retransform"
 * = this agent's own call, "redefine" = any other redefinition or retransformation, e.g. jhot's).
 * On failure
 * it prints {@code RETRANSFORM-FAILED <name> <exception>}.
 */
public final class Agent {
    /** Set while this agent's own retransformClasses call runs on the current thread. */
    private static final ThreadLocal<Boolean> OWN = new ThreadLocal<>();

    private Agent() {}

    public static void premain(String args, Instrumentation inst) {
        agentmain(args, inst);
    }

    public static void agentmain(String args, Instrumentation inst) {
        String spec = args == null ? "" : args.trim();
        boolean keep = false;
        if (spec.endsWith(";keep")) {
            keep = true;
            spec = spec.substring(0, spec.length() - ";keep".length());
        }
        final String name = spec;
        final String internal = name.replace('.', '/');
        ClassFileTransformer noop = new ClassFileTransformer() {
            @Override
            public byte[] transform(ClassLoader loader, String className, Class<?> redefined,
                    ProtectionDomain pd, byte[] bytes) {
                if (internal.equals(className)) {
                    String what = redefined == null ? "load"
                            : Boolean.TRUE.equals(OWN.get()) ? "retransform" : "redefine";
                    System.out.println("RETRANSFORMER-SAW " + name + " " + what);
                    System.out.flush();
                }
                return null; // no change
            }
        };
        inst.addTransformer(noop, true);
        try {
            List<Class<?>> matches = new ArrayList<>();
            for (Class<?> c : inst.getAllLoadedClasses()) {
                if (c.getName().equals(name)) {
                    matches.add(c);
                }
            }
            if (!matches.isEmpty()) {
                OWN.set(Boolean.TRUE);
                try {
                    inst.retransformClasses(matches.toArray(new Class<?>[0]));
                } finally {
                    OWN.remove();
                }
            }
            System.out.println("RETRANSFORMED " + name + " " + matches.size());
        } catch (Throwable t) {
            System.out.println("RETRANSFORM-FAILED " + name + " " + t);
        } finally {
            if (!keep) {
                inst.removeTransformer(noop);
            }
            System.out.flush();
        }
    }
}
