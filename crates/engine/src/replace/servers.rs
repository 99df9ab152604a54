//! The servers jhot knows, and how the old process of each is drained: the one place that knows
//! servers by name. Everything else in the drain is the same for every server, known or not:
//!
//! 1. the old process stops taking connections from the shared listeners — by name where the
//!    table says so, otherwise fenced by the agent (its descriptors point at an idle decoy);
//! 2. jhot closes its idle keep-alive connections, each at a moment it carries no request, and
//!    waits for its requests in progress (`inflight`): a server without a shutdown hook would end
//!    them at SIGTERM, a graceful one would answer the next request on a kept connection with 503;
//! 3. SIGTERM: the server's own graceful stop, if it has one; SIGKILL at `--drain-timeout`.
//!
//! A server is recognised by its threads' names in /proc (the kernel keeps 15 bytes), without
//! touching the JVM; the name only goes into the report, except for the rows whose stop goes
//! through the agent by name (the agent finds those itself, from the live threads).

/// How the old process stops taking connections from the listeners it shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAccepting {
    /// The agent, by the server's own API (`agent-java/…/ops/Drain.java`).
    AgentByName(&'static str),
    /// The agent fences the descriptors (`native/jni/src/fence.rs`).
    Fence,
}

#[derive(Debug, Clone, Copy)]
pub struct Server {
    pub name: &'static str,
    /// Prefixes of thread names (at most 15 bytes) that only this server uses.
    pub threads: &'static [&'static str],
    pub stop_accepting: StopAccepting,
    /// What finishes its requests in progress.
    pub graceful_stop: &'static str,
}

use StopAccepting::*;

pub const SERVERS: &[Server] = &[
    Server {
        name: "JDK HttpServer",
        threads: &["HTTP-Dispatcher"],
        stop_accepting: AgentByName("jdk.httpserver"),
        graceful_stop: "ServerImpl.stop(n) through the agent (it has none on SIGTERM)",
    },
    Server {
        name: "Tomcat",
        threads: &["Catalina-utilit", "http-nio-", "https-jsse-nio-", "http-nio2-"],
        stop_accepting: AgentByName("tomcat"),
        graceful_stop: "its own on SIGTERM (Spring Boot: server.shutdown=graceful, the default since 3.4)",
    },
    Server {
        name: "Jetty",
        threads: &["qtp"],
        stop_accepting: Fence,
        graceful_stop: "its own on SIGTERM when the application asked for it (Server.setStopAtShutdown)",
    },
    Server {
        name: "Undertow",
        threads: &["XNIO-"],
        stop_accepting: Fence,
        graceful_stop: "the application's shutdown hook (GracefulShutdownHandler), if any",
    },
    Server {
        name: "Vert.x",
        threads: &["vert.x-eventloo", "vert.x-acceptor"],
        stop_accepting: Fence,
        graceful_stop: "the application's shutdown hook (Vertx.close / HttpServer.shutdown), if any",
    },
    Server {
        name: "gRPC",
        threads: &["grpc-default-ex", "grpc-nio-worker", "grpc-default-wo", "grpc-nio-boss-"],
        stop_accepting: Fence,
        graceful_stop: "Server.shutdown() through the agent (GOAWAY: clients move to new connections), every server channelz lists",
    },
    Server {
        name: "Netty",
        threads: &["epollEventLoop", "nioEventLoopGro", "multiThreadIoEv", "default-nioEven", "default-epollEv"],
        stop_accepting: Fence,
        graceful_stop: "the application's shutdown hook (Micronaut's own on SIGTERM), if any",
    },
];

/// The servers whose threads `pid` runs, in table order.
pub fn running(thread_names: &[String]) -> Vec<&'static Server> {
    SERVERS.iter().filter(|s| thread_names.iter().any(|t| s.threads.iter().any(|p| t.starts_with(p)))).collect()
}

/// The table as Markdown, for the README (a test keeps the two equal).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| server | recognised by threads | stops accepting | requests in progress finish by |\n|---|---|---|---|\n",
    );
    for s in SERVERS {
        let threads = s.threads.iter().map(|t| format!("`{t}…`")).collect::<Vec<_>>().join(", ");
        let stop = match s.stop_accepting {
            AgentByName(k) => format!("the agent, by name (`{k}`)"),
            Fence => "fenced by the agent".to_string(),
        };
        out.push_str(&format!("| {} | {threads} | {stop} | {} |\n", s.name, s.graceful_stop));
    }
    out.push_str(
        "| anything else | | fenced by the agent | its own stop on SIGTERM if it has one, once jhot has closed its idle connections and waited for its requests in progress |\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// README.md shows this table between its `servers:` markers.
    #[test]
    fn readme_shows_the_table() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README.md");
        let table = markdown_table();
        let want = format!("<!-- servers:begin -->\n{table}<!-- servers:end -->");
        assert!(readme.contains(&want), "README.md's server table differs; put this between its markers:\n\n{table}");
    }

    #[test]
    fn recognises_by_thread_prefix() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let found = running(&names(&["main", "http-nio-8080-e", "Catalina-utilit"]));
        assert_eq!(found.iter().map(|s| s.name).collect::<Vec<_>>(), ["Tomcat"]);
        assert!(running(&names(&["main", "GC Thread#0"])).is_empty());
        for s in SERVERS {
            for t in s.threads {
                assert!(t.len() <= 15, "{t}: the kernel keeps 15 bytes of a thread name");
            }
        }
    }
}
