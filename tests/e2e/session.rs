//! The engine's long-lived session (`jhot_engine::session::Jvm`), which the shell and watch mode
//! keep open for many commands: one load, one channel, many requests, and a clear error when the
//! JVM goes away.

use std::time::Duration;

use jhot_attach::AttachOptions;
use jhot_engine::agent::AgentError;
use jhot_engine::agent::protocol::{ClassRef, History, Redefined, Request};
use jhot_engine::session::Jvm;

use crate::harness::{self, App};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn redefine(class: &std::path::Path) -> (Request, Vec<Vec<u8>>) {
    let bytes = std::fs::read(class).expect("class bytes");
    let request = Request::Redefine {
        classes: vec![ClassRef { name: "hello.Greeter".into(), blob: 0 }],
        loader: None,
        pending: false,
        define: vec![],
        deploy: None,
        unloaded: vec![],
        before: false,
    };
    (request, vec![bytes])
}

#[test]
fn one_session_serves_many_requests_and_reports_a_jvm_that_exits() {
    let mut app = App::start(&harness::jdk(17), &[]);
    let rt = runtime();
    let timeout = Duration::from_secs(30);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let mut jvm = Jvm::open(app.pid(), AttachOptions::default(), timeout).expect("open the JVM");
    assert_eq!(jvm.vm().expect("the JVM publishes its version").feature, 17);

    // Nothing resident yet: looking does not load the agent.
    assert!(!rt.block_on(jvm.connect_resident()).expect("connect"));
    assert!(!jvm.connected());

    // The first call loads the agent and keeps the channel.
    let (request, blobs) = redefine(&harness::patch_classes("body").join("hello/Greeter.class"));
    let (answer, _) = rt.block_on(jvm.call::<Redefined>(&request, blobs)).expect("redefine");
    assert_eq!(answer.redefined.len(), 1, "{:?}", answer.redefined);
    assert!(jvm.connected(), "the channel is kept after a cold load");
    assert!(jvm.connection().expect("connection").loaded_now);
    let loads = jvm.hello().expect("hello").loads;
    assert_eq!(app.get("/").trim(), "Hello from v2");

    // Later calls reuse it: the agent was not loaded again, and sees both changes in its history.
    let (request, blobs) = redefine(&harness::sample_classes().join("hello/Greeter.class"));
    rt.block_on(jvm.call::<Redefined>(&request, blobs)).expect("redefine back");
    let (history, _) = rt.block_on(jvm.call::<History>(&Request::History {}, vec![])).expect("history");
    assert_eq!(history.entries.len(), 2, "{:?}", history.entries);
    assert_eq!(jvm.hello().expect("hello").loads, loads);
    assert_eq!(app.get("/").trim(), "Hello from v1");

    // The JVM exits: the next call says so instead of hanging or reconnecting to someone else.
    app.stop(Duration::from_secs(5));
    let err = rt.block_on(jvm.call::<History>(&Request::History {}, vec![])).expect_err("the JVM is gone");
    assert!(
        matches!(err, AgentError::Exited { .. } | AgentError::Closed | AgentError::Io(_)),
        "unexpected error: {err}"
    );
    assert!(!jvm.connected(), "a broken channel is dropped");
}
