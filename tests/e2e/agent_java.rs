//! The Java agent's own unit tests (agent-java/src/test), compiled with `--release 11` and run on
//! every supported JDK, so the agent's codec, server and private-directory checks are tested on the
//! runtimes it will meet.

use std::process::Command;

use crate::harness;

#[test]
fn agent_unit_tests_pass_on_every_jdk() {
    let repo = harness::repo();
    let out = repo.join("target/e2e-fixtures/agent-tests");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("mkdir");
    let mut sources = Vec::new();
    for dir in ["agent-java/src/main/java", "agent-java/src/test/java"] {
        sources.extend(harness::java_sources(&repo.join(dir)));
    }
    let status = Command::new(harness::javac())
        .args(["--release", "11", "-encoding", "UTF-8", "-Xlint:-options", "-d"])
        .arg(&out)
        .args(&sources)
        .status()
        .expect("javac");
    assert!(status.success(), "agent tests did not compile");
    for feature in [11, 17, 21, 25] {
        let jdk = harness::jdk(feature);
        let run =
            Command::new(jdk.java()).arg("-cp").arg(&out).arg("dev.jhot.agent.AgentTests").output().expect("java");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success() && stdout.lines().any(|l| l.ends_with(" 0 failed")),
            "AgentTests failed on JDK {feature}:\n{stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
