package minimal;

import java.lang.instrument.Instrumentation;

/**
 * The smallest useful Java agent: the benchmark loads it with jattach and jcmd to measure what a
 * bare dynamic agent load costs, as a baseline for jhot. It sets a flag and prints
 * {@code MINIMAL-AGENT-LOADED} to stdout; it starts no thread and opens nothing.
 */
public final class Agent {
    /** How many times the agent was loaded into this JVM. */
    public static volatile int loads;

    private Agent() {}

    public static void premain(String args, Instrumentation inst) {
        agentmain(args, inst);
    }

    public static void agentmain(String args, Instrumentation inst) {
        loads++;
        System.out.println("MINIMAL-AGENT-LOADED");
        System.out.flush();
    }
}
