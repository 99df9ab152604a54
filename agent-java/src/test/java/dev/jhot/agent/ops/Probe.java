package dev.jhot.agent.ops;

import java.lang.instrument.Instrumentation;

/** Gives the child JVMs of DrainTests and DeployTests the Instrumentation of a -javaagent load. */
public final class Probe {
    static volatile Instrumentation inst;

    private Probe() {
    }

    public static void premain(String args, Instrumentation i) {
        inst = i;
    }
}
