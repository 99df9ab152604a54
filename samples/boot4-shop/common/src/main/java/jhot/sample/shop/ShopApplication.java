package jhot.sample.shop;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;

/**
 * boot4-shop: a small pet-shop service on Spring Boot 4 (Spring MVC on Tomcat 11, Spring Data JPA
 * with Hibernate on an in-memory H2, the simple cache, actuator, bean validation, Thymeleaf), shared
 * by every version; what differs between v1, v1b and v2 is {@link HelloController}.
 *
 * <pre>
 * java -jar boot4-shop-v1.jar --port=P [--bind=ADDR] [--graceful=false] [--graceful-seconds=N]
 *      [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Any other {@code --name=value} is a Spring property. Prints
 * {@code READY app=boot4-shop version=v1 port=P pid=N} once the application is ready (after the
 * data is seeded); logs go to stderr.
 */
@SpringBootApplication
@EnableCaching
public class ShopApplication {
    static final String APP = "boot4-shop";

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
        SpringApplication app = new SpringApplication(ShopApplication.class);
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
