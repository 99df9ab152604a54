package dev.jhot.agent.ops;

import dev.jhot.agent.Sha256;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;

/** Class-file facts the agent needs without a bytecode library: hashes and the defined name. */
final class ClassBytes {
    private ClassBytes() {
    }

    static String sha256(byte[] b) {
        return b == null ? null : Sha256.hex(Sha256.digest(b));
    }

    /**
     * Returns why bytes cannot define class `name` on this JVM, or null if they look right.
     * The JVM checks this itself for a redefinition, but for a pending class a bad blob would only
     * fail when the application loads the class, breaking the application instead of the request.
     */
    static String problem(byte[] b, String name) {
        // Read in place, decoding only the name: DataInputStream would make a String of every
        // constant, a cold agent's cost for each class of the first batch.
        try {
            if (u4(b, 0) != 0xCAFEBABE) return name + ": not a class file";
            int major = u2(b, 6);
            int max = 44 + Runtime.version().feature();
            if (major > max) return name + ": class file version " + major + " is newer than this JVM supports (" + max + ")";
            int count = u2(b, 8);
            int[] utf8At = new int[count];
            int[] classNameIndex = new int[count];
            int pos = 10;
            for (int k = 1; k < count; k++) {
                int tag = b[pos] & 0xff;
                pos++;
                switch (tag) {
                    case 1: utf8At[k] = pos; pos += 2 + u2(b, pos); break;
                    case 7: classNameIndex[k] = u2(b, pos); pos += 2; break;
                    case 8: case 16: case 19: case 20: pos += 2; break;
                    case 15: pos += 3; break;
                    case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18: pos += 4; break;
                    case 5: case 6: pos += 8; k++; break; // 8-byte constants take two slots
                    default: return name + ": bad constant pool tag " + tag;
                }
            }
            int thisClass = u2(b, pos + 2);
            int nameIndex = thisClass < count ? classNameIndex[thisClass] : 0;
            int at = nameIndex > 0 && nameIndex < count ? utf8At[nameIndex] : 0;
            if (at == 0) return name + ": bad this_class";
            String defined = new DataInputStream(new ByteArrayInputStream(b, at, b.length - at)).readUTF().replace('/', '.');
            return defined.equals(name) ? null : name + ": the bytes define " + defined;
        } catch (IOException | IndexOutOfBoundsException e) {
            return name + ": truncated class file";
        }
    }

    private static int u2(byte[] b, int off) {
        return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
    }

    private static int u4(byte[] b, int off) {
        return (u2(b, off) << 16) | u2(b, off + 2);
    }
}
