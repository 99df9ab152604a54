package jhot.sample.deploy;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * jhot deploy fixture: an HTTP server on the JDK's {@code com.sun.net.httpserver.HttpServer} whose
 * builds (variants) differ from {@code base} in exactly one way each; see samples/deploy/README.md.
 * This class is the same in every variant.
 *
 * <pre>
 * java -Dsun.net.httpserver.nodelay=true -jar deploy-app-base.jar --port=P [--bind=ADDR]
 * java -Dsun.net.httpserver.nodelay=true -cp deploy-app-base-classes jhot.sample.deploy.Main --port=P
 * </pre>
 *
 * Prints {@code READY app=deploy-app version=<variant> port=P pid=N} once it accepts connections.
 * The variant is the name of the build the JVM started from ({@code deploy-app-<variant>.jar} or
 * {@code deploy-app-<variant>-classes/}), or {@code -Ddeploy.variant=NAME}: it is deliberately not
 * compiled in, so that the class files of {@code same} and {@code props} equal those of {@code base}.
 */
public final class Main {
    static final String APP = "deploy-app";
    static final int THREADS = 8;
    static final int BACKLOG = 1024;

    private Main() {}

    public static void main(String[] args) throws Exception {
        int port = 8080;
        String bind = null;
        for (String a : args) {
            int eq = a.indexOf('=');
            String k = eq < 0 ? a : a.substring(0, eq);
            String v = eq < 0 ? null : a.substring(eq + 1);
            if (k.equals("--port") && v != null && !v.isEmpty()) {
                port = Integer.parseInt(v);
            } else if (k.equals("--bind") && v != null && !v.isEmpty()) {
                bind = v;
            } else {
                System.err.println(APP + ": unknown argument: " + a);
                System.err.println("usage: java -jar " + APP + "-<variant>.jar --port=P [--bind=ADDR]");
                System.exit(2);
            }
        }
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        String variant = variant();
        Properties props = loadProperties();

        // Routes' constructor runs GenAll.sum(), which loads (and initialises) Gen000..Gen199 now.
        // LazyThing is referenced only from Routes.handle(), on the /lazy path.
        Routes routes = new Routes(variant, props);

        InetSocketAddress addr = bind == null
                ? new InetSocketAddress(port)
                : new InetSocketAddress(InetAddress.getByName(bind), port);
        HttpServer server = HttpServer.create(addr, BACKLOG);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        server.setExecutor(pool);
        server.createContext("/", routes);
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(new Stopper(server, pool), "graceful-stop"));
        System.out.println("READY app=" + APP + " version=" + variant
                + " port=" + server.getAddress().getPort() + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
    }

    /** app.properties from the class path (the jar or the classes directory). */
    static Properties loadProperties() throws IOException {
        Properties p = new Properties();
        try (InputStream in = Main.class.getResourceAsStream("/app.properties")) {
            if (in != null) p.load(in);
        }
        return p;
    }

    /** {@code -Ddeploy.variant}, else the build's name: deploy-app-NAME.jar or deploy-app-NAME-classes. */
    static String variant() {
        String v = System.getProperty("deploy.variant");
        if (v != null && !v.isEmpty()) return v;
        try {
            URL loc = Main.class.getProtectionDomain().getCodeSource().getLocation();
            String path = loc.getPath();
            while (path.endsWith("/")) path = path.substring(0, path.length() - 1);
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (name.endsWith(".jar")) name = name.substring(0, name.length() - 4);
            if (name.endsWith("-classes")) name = name.substring(0, name.length() - 8);
            if (name.startsWith(APP + "-")) name = name.substring(APP.length() + 1);
            return name.isEmpty() ? "unknown" : name;
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    /** The shutdown hook: stop accepting, give exchanges in flight up to 1 s, stop the workers. */
    static final class Stopper implements Runnable {
        private final HttpServer server;
        private final ExecutorService pool;

        Stopper(HttpServer server, ExecutorService pool) {
            this.server = server;
            this.pool = pool;
        }

        @Override
        public void run() {
            server.stop(1);
            pool.shutdownNow();
        }
    }
}
