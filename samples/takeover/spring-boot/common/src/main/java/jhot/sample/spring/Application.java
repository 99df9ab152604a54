package jhot.sample.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;

/**
 * jhot takeover sample: Spring Boot MVC on Tomcat, graceful shutdown. Shared by v1 and v2; what
 * differs is {@link HelloController}.
 *
 * <pre>
 * java -jar spring-boot-v1.jar --port=P [--bind=ADDR] [--graceful=false] [--graceful-seconds=N]
 *      [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Any other {@code --name=value} is a Spring property. Prints
 * {@code READY app=spring-boot version=v1 port=P pid=N} once the application is ready.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class Application {
    static final String APP = "spring-boot";

    public static void main(String[] args) throws Exception {
        String port = "8080";
        String bind = null;
        boolean graceful = true;
        boolean neverReady = false;
        for (String a : args) {
            if (a.equals("--exit-at-start")) {
                System.err.println(APP + ": --exit-at-start: exiting with status 3");
                System.exit(3);
            } else if (a.equals("--never-ready")) {
                neverReady = true;
            } else if (a.startsWith("--port=")) {
                port = a.substring("--port=".length());
            } else if (a.startsWith("--bind=")) {
                bind = a.substring("--bind=".length());
            } else if (a.startsWith("--graceful=")) {
                graceful = Boolean.parseBoolean(a.substring("--graceful=".length()));
            }
        }
        if (neverReady) {
            int p = Integer.parseInt(port);
            neverReady(bind == null ? new InetSocketAddress(p) : new InetSocketAddress(InetAddress.getByName(bind), p));
            return;
        }
        SpringApplication app = new SpringApplication(Application.class);
        if (!graceful) {
            // --graceful=false: no shutdown hook at all (neither the context's nor the logging
            // system's), SIGTERM ends the JVM with requests in flight.
            app.setRegisterShutdownHook(false);
            app.setDefaultProperties(Map.of("logging.register-shutdown-hook", "false"));
        }
        app.run(args);
    }

    @Bean
    static ApplicationListener<ApplicationReadyEvent> readyLine() {
        return event -> {
            int port = ((WebServerApplicationContext) event.getApplicationContext()).getWebServer().getPort();
            System.out.println("READY app=" + APP + " version=" + HelloController.version()
                    + " port=" + port + " pid=" + ProcessHandle.current().pid());
            System.out.flush();
        };
    }

    /** Binds and listens on {@code addr}, never accepts, prints BOUND and idles until killed. */
    static void neverReady(InetSocketAddress addr) throws IOException, InterruptedException {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ch.bind(addr, 1024);
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        System.out.println("BOUND app=" + APP + " version=" + HelloController.version()
                + " port=" + port + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
