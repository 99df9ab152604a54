package jhotfx.fresh;

/** A new class in a package new to the target loader (defined through ClassLoader.defineClass). */
public class Base {
}
