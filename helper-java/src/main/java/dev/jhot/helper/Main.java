package dev.jhot.helper;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Frame;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * jhot's helper JVM (docs/protocol.md, "The helper JVM"): started by jhot with the target's own
 * java, it decompiles (Vineflower) and compiles (javac or ECJ) one request at a time, in frames on
 * stdin/stdout. While a request runs it may ask jhot for class files and package listings as the
 * target's class loader sees them (callback frames, answered on stdin).
 *
 * stdout carries frames only: the decompiler and the compilers may print, so System.out is
 * pointed at stderr (which jhot keeps, bounded, for its error messages) before anything runs.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws IOException {
        OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16));
        Channel channel = new Channel(in, out);
        while (true) {
            Frame req;
            try {
                req = channel.read();
            } catch (EOFException e) {
                return; // jhot closed stdin: the helper's work is over
            } catch (Failure e) {
                System.err.println("[jhot-helper] " + e.getMessage());
                return;
            }
            Map<String, Object> resp = new LinkedHashMap<>();
            List<byte[]> blobs = new ArrayList<>();
            resp.put("id", req.id);
            try {
                Object op = req.header.get("op");
                Bridge bridge = new Bridge(channel, req.id);
                if ("hello".equals(op)) {
                    resp.put("ok", true);
                    resp.put("java_version", System.getProperty("java.version"));
                    resp.put("user", System.getProperty("user.name"));
                    resp.put("javac", Javac.available());
                } else if ("decompile".equals(op)) {
                    Decompile.run(new Args(req), bridge, resp);
                    resp.put("ok", true);
                } else if ("compile".equals(op)) {
                    Args a = new Args(req);
                    String compiler = a.string("compiler");
                    if (compiler.equals("javac")) {
                        if (!Javac.available()) throw new Failure("input", "this java has no jdk.compiler module: use ECJ", null);
                        Javac.run(a, bridge, resp, blobs);
                    } else if (compiler.equals("ecj")) {
                        Ecj.run(a, bridge, resp, blobs);
                    } else {
                        throw Failure.protocol("\"compiler\" must be \"javac\" or \"ecj\"");
                    }
                    resp.put("ok", true);
                } else {
                    throw Failure.protocol("unknown op \"" + op + "\"");
                }
            } catch (Failure f) {
                resp.clear();
                blobs.clear();
                resp.put("id", req.id);
                resp.put("ok", false);
                resp.put("error", error(f.kind, f.getMessage()));
            } catch (Channel.Lost e) {
                return; // jhot went away in the middle of a callback
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError | LinkageError e) {
                // The decompiler or a compiler failed on this input: report it, stay up for the next.
                e.printStackTrace();
                resp.clear();
                blobs.clear();
                resp.put("id", req.id);
                resp.put("ok", false);
                resp.put("error", error("internal", e.toString()));
            }
            channel.write(resp, blobs);
        }
    }

    private static Map<String, Object> error(String kind, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("message", message);
        return m;
    }
}
