package floor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.instrument.ClassDefinition;
import java.lang.instrument.Instrumentation;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The least a tool must do to redefine a class through a Java agent: the benchmark's floor, what
 * jhot's latency is measured against besides jattach's bare load and round trip (bench/latency).
 * No checks, no history, no pre-flight, no verdict; the class is found by the system class loader.
 *
 * <ul>
 *   <li>{@code redefine=<class>,<file>}: redefines the class from the file and returns (loaded with
 *       jattach, this is a cold redefinition at its cheapest);</li>
 *   <li>{@code listen=<socket>}: serves a Unix socket (JDK 16+) on one daemon thread; a client sends
 *       {@code <class> <file>\n} and gets {@code ok\n} once the class is redefined, or
 *       {@code error <why>\n} (a warm redefinition at its cheapest, with bench/latency/floor_client.c).</li>
 * </ul>
 */
public final class Agent {
    private Agent() {}

    public static void agentmain(String args, Instrumentation inst) throws Exception {
        if (args != null && args.startsWith("redefine=")) {
            String[] a = args.substring("redefine=".length()).split(",", 2);
            redefine(inst, a[0], a[1]);
        } else if (args != null && args.startsWith("listen=")) {
            listen(inst, Paths.get(args.substring("listen=".length())));
        } else {
            throw new IllegalArgumentException("floor agent: want redefine=<class>,<file> or listen=<socket>, got " + args);
        }
    }

    private static void redefine(Instrumentation inst, String name, String file) throws Exception {
        Class<?> c = Class.forName(name, false, ClassLoader.getSystemClassLoader());
        inst.redefineClasses(new ClassDefinition(c, Files.readAllBytes(Paths.get(file))));
    }

    private static void listen(Instrumentation inst, Path sock) throws Exception {
        // By reflection: the agent is compiled for Java 11 like the other samples.
        ProtocolFamily unix = StandardProtocolFamily.valueOf("UNIX");
        Object addr = Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class).invoke(null, sock);
        ServerSocketChannel server = (ServerSocketChannel) ServerSocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix);
        Files.deleteIfExists(sock);
        server.bind((SocketAddress) addr);
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() {
                serve(inst, server);
            }
        }, "floor-agent");
        t.setDaemon(true);
        t.start();
    }

    private static void serve(Instrumentation inst, ServerSocketChannel server) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (true) {
            try (SocketChannel c = server.accept()) {
                buf.clear();
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                while (true) {
                    if (c.read(buf) < 0) break;
                    buf.flip();
                    boolean end = false;
                    while (buf.hasRemaining()) {
                        byte b = buf.get();
                        if (b == '\n') end = true;
                        else line.write(b);
                    }
                    buf.clear();
                    if (end) break;
                }
                String reply;
                try {
                    String[] a = line.toString(StandardCharsets.UTF_8).split(" ", 2);
                    redefine(inst, a[0], a[1]);
                    reply = "ok\n";
                } catch (Throwable e) {
                    reply = "error " + e + "\n";
                }
                c.write(ByteBuffer.wrap(reply.getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                return;
            }
        }
    }
}
