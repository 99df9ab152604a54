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
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            if (in.readInt() != 0xCAFEBABE) return name + ": not a class file";
            in.readUnsignedShort();
            int major = in.readUnsignedShort();
            int max = 44 + Runtime.version().feature();
            if (major > max) return name + ": class file version " + major + " is newer than this JVM supports (" + max + ")";
            int count = in.readUnsignedShort();
            String[] utf8 = new String[count];
            int[] classNameIndex = new int[count];
            for (int k = 1; k < count; k++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1: utf8[k] = in.readUTF(); break;
                    case 7: classNameIndex[k] = in.readUnsignedShort(); break;
                    case 8: case 16: case 19: case 20: in.readUnsignedShort(); break;
                    case 15: in.skipBytes(3); break;
                    case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18: in.readInt(); break;
                    case 5: case 6: in.readLong(); k++; break; // 8-byte constants take two slots
                    default: return name + ": bad constant pool tag " + tag;
                }
            }
            in.readUnsignedShort();
            int thisClass = in.readUnsignedShort();
            String defined = thisClass < count && classNameIndex[thisClass] < count ? utf8[classNameIndex[thisClass]] : null;
            if (defined == null) return name + ": bad this_class";
            defined = defined.replace('/', '.');
            return defined.equals(name) ? null : name + ": the bytes define " + defined;
        } catch (IOException e) {
            return name + ": truncated class file";
        }
    }
}
