package jhot.sample.plain;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * jhot takeover sample: a home-grown HTTP/1.1 server on a blocking {@link ServerSocket}, one
 * thread per connection from a cached pool, keep-alive until the client says
 * {@code Connection: close}. It has **no graceful stop**: no shutdown hook, SIGTERM ends it with
 * whatever it is doing, as many in-house servers do. jhot knows nothing about it by name. Shared by
 * v1 and v2; what differs is {@link Hello}.
 *
 * <pre>
 * java -jar plain-socket-v1.jar --port=P [--bind=ADDR] [--extra-port=P2] [--exit-at-start] [--never-ready]
 * </pre>
 * {@code --extra-port}: also serve on a second port (a listener a new version may not bind).
 * ({@code --graceful=…} and {@code --graceful-seconds=…} are accepted and ignored: there is no
 * graceful stop to switch.) Prints {@code READY app=plain-socket version=v1 port=P pid=N} once it
 * accepts connections.
 */
public final class Main {
    static final String APP = "plain-socket";
    static final int BACKLOG = 1024;
    private static final int MAX_HEAD = 16 * 1024;

    private Main() {}

    public static void main(String[] args) throws Exception {
        int port = 8080;
        int extraPort = -1;
        String bind = null;
        boolean exitAtStart = false;
        boolean neverReady = false;
        for (String a : args) {
            String k = a, v = null;
            int eq = a.indexOf('=');
            if (eq >= 0) {
                k = a.substring(0, eq);
                v = a.substring(eq + 1);
            }
            switch (k) {
                case "--port": port = Integer.parseInt(need(k, v)); break;
                case "--bind": bind = need(k, v); break;
                case "--extra-port": extraPort = Integer.parseInt(need(k, v)); break;
                case "--graceful": case "--graceful-seconds": break;
                case "--exit-at-start": exitAtStart = true; break;
                case "--never-ready": neverReady = true; break;
                default:
                    System.err.println(APP + ": unknown argument: " + a);
                    System.exit(2);
            }
        }
        if (exitAtStart) {
            System.err.println(APP + ": --exit-at-start: exiting with status 3");
            System.exit(3);
        }
        InetSocketAddress addr = bind == null
                ? new InetSocketAddress(port)
                : new InetSocketAddress(InetAddress.getByName(bind), port);
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        ss.bind(addr, BACKLOG);
        String pid = Long.toString(ProcessHandle.current().pid());
        if (neverReady) {
            System.out.println("BOUND app=" + APP + " version=" + Hello.version() + " port=" + ss.getLocalPort() + " pid=" + pid);
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
            return;
        }
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "plain-conn");
            t.setDaemon(true);
            return t;
        });
        Hello hello = new Hello(pid);
        if (extraPort >= 0) {
            ServerSocket extra = new ServerSocket();
            extra.setReuseAddress(true);
            extra.bind(new InetSocketAddress(addr.getAddress(), extraPort), BACKLOG);
            acceptLoop(extra, pool, hello, "plain-accept-extra");
        }
        acceptLoop(ss, pool, hello, "plain-accept");
        System.out.println("READY app=" + APP + " version=" + Hello.version() + " port=" + ss.getLocalPort() + " pid=" + pid);
        System.out.flush();
    }

    private static void acceptLoop(ServerSocket ss, ExecutorService pool, Hello hello, String name) {
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket s = ss.accept();
                    pool.execute(() -> serve(s, hello));
                } catch (IOException e) {
                    System.err.println(APP + ": accept failed: " + e);
                }
            }
        }, name);
        acceptor.start();
    }

    private static String need(String k, String v) {
        if (v == null) {
            System.err.println(APP + ": " + k + " needs a value (" + k + "=...)");
            System.exit(2);
        }
        return v;
    }

    private static void serve(Socket s, Hello hello) {
        try (Socket sock = s) {
            sock.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(sock.getInputStream());
            OutputStream out = sock.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) return;
                String[] lines = head.split("\r\n");
                String[] parts = lines[0].split(" ");
                boolean close = false;
                long length = 0;
                for (int i = 1; i < lines.length; i++) {
                    int c = lines[i].indexOf(':');
                    if (c <= 0) continue;
                    String name = lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT);
                    String value = lines[i].substring(c + 1).trim();
                    if (name.equals("connection") && value.equalsIgnoreCase("close")) close = true;
                    if (name.equals("content-length")) length = Long.parseLong(value);
                }
                if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) return;
                if (parts[2].equals("HTTP/1.0")) close = true;
                for (long left = length; left > 0; left--) {
                    if (in.read() < 0) return;
                }
                Hello.Response r = hello.handle(parts[1]);
                byte[] body = r.body;
                String headers = "HTTP/1.1 " + r.status + (r.status == 200 ? " OK" : " Error") + "\r\n"
                        + "Content-Type: text/plain; charset=utf-8\r\n"
                        + "Content-Length: " + body.length + "\r\n"
                        + "X-Gen: " + Hello.version() + "\r\n"
                        + "X-Pid: " + hello.pid + "\r\n"
                        + (close ? "Connection: close\r\n" : "")
                        + "\r\n";
                out.write(headers.getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                if (close) return;
            }
        } catch (SocketException e) {
            // the client went away
        } catch (IOException | RuntimeException e) {
            System.err.println(APP + ": " + e);
        }
    }

    /** Up to the blank line ending a request head; null on EOF before any byte. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
        int matched = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (buf.size() == 0) return null;
                throw new IOException("connection closed inside a request head");
            }
            buf.write(b);
            if (buf.size() > MAX_HEAD) throw new IOException("request head over " + MAX_HEAD + " bytes");
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) return buf.toString(StandardCharsets.US_ASCII);
        }
    }
}
