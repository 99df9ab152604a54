#!/usr/bin/env python3
"""The build plugins' overhead over `jhot deploy` itself (a benchmark, not a test). Target: <= 1 s.

For one body-only change to a running JVM, on a project whose build is already done:

    Maven   A: mvn compile jhot:deploy -Djhot.pid=P
            B: mvn compile                     then   jhot deploy P target/classes --json
    Gradle  A: gradle jar jhotDeploy -Pjhot.pid=P
            B: gradle jar                      then   jhot deploy P build/libs/hello-gradle.jar --json

Before each timed command the source is edited (a new string in a method body) and compiled
(`mvn compile`, `gradle jar`) untimed, so in A and B the build's own step is an up-to-date check,
the same in both, and both deploy the same kind of build the same way (the plugin's own command
line: `jhot deploy PID BUILD --json`). What A costs more than B is the plugin: loading and
configuring the goal or task, finding jhot, starting it, reading its JSON and logging it. Maven's own
start (a JVM and the project model) is paid in A and B alike: a user who does not use the plugin
still runs `mvn compile` first. A and B alternate, each run pairs one A with one B, and the
overhead is A - B per pair (median, min, max over the pairs).

A - B subtracts two whole Maven or Gradle runs, so on a busy machine it is as noisy as they are. A
second figure is less so: in A, the time from the line Maven or Gradle prints when the goal or
task starts (`--- jhot-maven-plugin:…:deploy`, Gradle 4.4's `:jhotDeploy`, taken as it is printed) to
the exit, minus B2 (jhot alone, same pair). It is an upper bound of the goal's own cost: it also
holds the build's end (Maven's summary and exit, Gradle's end of build and the daemon's answer).

Gradle runs with its daemon (Gradle's default, and what users have), warmed by the untimed builds;
the daemon is private to this benchmark (its own Gradle user home) and stopped at the end. Maven
(Debian's 3.8) has no daemon. The servers are the samples of tests/e2e (samples/maven-hello,
tests/gradle/hello) on JDK 17, started from a copy of their jar; each deploy is checked (the JVM
answers with the new string) before the next run.

    python3 bench/plugins/bench.py [--runs 7] [--only maven|gradle] [--jhot target/release/jhot]

Expects the plugins in ~/.m2 (bench/plugins/run.sh installs them: scripts/install-integrations.sh).
Writes bench/results/plugins-<date>.md and .json. Loopback only; every wait is bounded; stops only
the processes it started, by pid.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import REPO, cpu_model, write_result  # noqa: E402

TIMEOUT = 600


def jdk17() -> Path:
    env = Path(os.environ.get("JHOT_JDKS_ENV", REPO / ".cache/jdks/jdks.env"))
    if env.is_file():
        for line in env.read_text().splitlines():
            if line.startswith("JHOT_JDK17="):
                return Path(line.split("=", 1)[1])
    return Path("/usr/lib/jvm/java-17-openjdk-amd64")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str]:
    """Runs cmd; returns (seconds, output). A failure stops the benchmark with the output."""
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT)
    secs = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} (in {cwd}) exited {p.returncode}:\n{out}")
    return secs, out


def run_marked(cmd: list[str], cwd: Path, marker: str, env: dict | None = None) -> tuple[float, float, str]:
    """Runs cmd, timing each line as it is printed; returns (seconds, seconds from the first line
    containing marker to the exit, output)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    seen: list[float] = []
    lines: list[str] = []

    def read() -> None:
        for raw in p.stdout:
            line = raw.decode(errors="replace")
            if not seen and marker in line:
                seen.append(time.monotonic())
            lines.append(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
        raise SystemExit(f"{' '.join(cmd)} took over {TIMEOUT} s")
    end = time.monotonic()
    reader.join(timeout=10)
    out = "".join(lines)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} (in {cwd}) exited {code}:\n{out}")
    if not seen:
        raise SystemExit(f"{' '.join(cmd)}: no line with {marker!r}:\n{out}")
    return end - t0, end - seen[0], out


class Server:
    """A sample's jar, copied (the build rewrites its own), on JDK 17; READY line awaited."""

    def __init__(self, java: Path, jar: Path, run_dir: Path, port_arg: str, port: int):
        run_dir.mkdir(parents=True, exist_ok=True)
        app = run_dir / "app.jar"
        shutil.copy(jar, app)
        self.port = port
        self.proc = subprocess.Popen([str(java), "-Xmx128m", "-XX:+UseSerialGC", "-jar", str(app), port_arg],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ready = threading.Event()

        def read() -> None:
            for raw in self.proc.stdout:
                if raw.startswith(b"READY "):
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60):
            self.stop()
            raise SystemExit(f"{jar}: no READY line within 60 s")
        self.pid = self.proc.pid

    def wait_answer(self, expected: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if get(self.port) == expected:
                return
            time.sleep(0.05)
        raise SystemExit(f"the server answers {get(self.port)!r}, not {expected!r}: the deploy did not happen")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def stats(xs: list[float]) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def deployed(out: str) -> dict:
    doc = json.loads(out)
    if doc.get("decision") != "redefine" or doc.get("redefinition", {}).get("redefined") != 1:
        raise SystemExit(f"jhot deploy did not redefine one class:\n{out}")
    return doc


def bench_maven(args, java: Path, work: Path) -> dict:
    proj = work / "maven"
    shutil.rmtree(proj, ignore_errors=True)
    shutil.copytree(REPO / "samples/maven-hello", proj, ignore=shutil.ignore_patterns("target"))
    greeter = proj / "src/main/java/jhot/sample/maven/Greeter.java"
    original = greeter.read_text()
    mvn = ["mvn", "-B"]
    run(mvn + ["-q", "package"], proj)
    port = free_port()
    server = Server(java, proj / "target/maven-hello.jar", proj / "run", f"--port={port}", port)
    rows = []
    try:
        server.wait_answer("greeting=v1")
        n = 0

        def change() -> str:
            nonlocal n
            n += 1
            word = f"greeting=run{n}"
            greeter.write_text(original.replace("greeting=v1", word))
            run(mvn + ["-q", "compile"], proj)
            return word

        for i in range(args.runs):
            pair = {}
            for variant in ("A", "B") if i % 2 == 0 else ("B", "A"):
                word = change()
                if variant == "A":
                    secs, goal, out = run_marked(mvn + ["compile", "jhot:deploy", f"-Djhot.pid={server.pid}",
                                                        f"-Djhot.executable={args.jhot}"], proj,
                                                 "--- jhot-maven-plugin:")
                    pair["a_goal"] = goal
                    if "redefined 1 class(es)" not in out:
                        raise SystemExit(f"mvn compile jhot:deploy did not redefine:\n{out}")
                    pair["a"] = secs
                else:
                    build_s, _ = run(mvn + ["compile"], proj)
                    jhot_s, out = run([str(args.jhot), "deploy", str(server.pid), str(proj / "target/classes"),
                                       "--json"], proj)
                    deployed(out)
                    pair["b_build"], pair["b_jhot"] = build_s, jhot_s
                server.wait_answer(word)
            pair["b"] = pair["b_build"] + pair["b_jhot"]
            pair["overhead"] = pair["a"] - pair["b"]
            pair["goal_overhead"] = pair["a_goal"] - pair["b_jhot"]
            rows.append(pair)
            print(f"maven run {i + 1}: {pair}", file=sys.stderr)
    finally:
        server.stop()
    version = re.sub(r"\x1b\[[0-9;]*m", "", run(mvn + ["-v"], proj)[1]).splitlines()[0]
    return {"tool": version, "runs": rows}


def bench_gradle(args, java: Path, work: Path) -> dict:
    proj = work / "gradle"
    shutil.rmtree(proj, ignore_errors=True)
    shutil.copytree(REPO / "tests/gradle/hello", proj, ignore=shutil.ignore_patterns("build", ".gradle"))
    greeter = proj / "src/main/java/demo/Greeter.java"
    original = greeter.read_text()
    home = work / "gradle-home"
    env = dict(os.environ, JAVA_HOME=str(java.parent.parent))
    gradle = ["gradle", "--offline", "--console=plain", "-g", str(home), f"-Pjhot.executable={args.jhot}"]
    jar = proj / "build/libs/hello-gradle.jar"
    try:
        run(gradle + ["-q", "jar"], proj, env)
        port = free_port()
        server = Server(java, jar, proj / "run", str(port), port)
        rows = []
        try:
            server.wait_answer("hello v1")
            n = 0

            def change() -> str:
                nonlocal n
                n += 1
                word = f"hello run{n}"
                greeter.write_text(original.replace("hello v1", word))
                run(gradle + ["-q", "jar"], proj, env)
                return word

            for i in range(args.runs):
                pair = {}
                for variant in ("A", "B") if i % 2 == 0 else ("B", "A"):
                    word = change()
                    if variant == "A":
                        secs, goal, out = run_marked(gradle + ["jar", "jhotDeploy", f"-Pjhot.pid={server.pid}"],
                                                     proj, ":jhotDeploy", env)
                        pair["a_goal"] = goal
                        if "redefined 1" not in out:
                            raise SystemExit(f"gradle jar jhotDeploy did not redefine:\n{out}")
                        pair["a"] = secs
                    else:
                        build_s, _ = run(gradle + ["jar"], proj, env)
                        jhot_s, out = run([str(args.jhot), "deploy", str(server.pid), str(jar), "--json"], proj)
                        deployed(out)
                        pair["b_build"], pair["b_jhot"] = build_s, jhot_s
                    server.wait_answer(word)
                pair["b"] = pair["b_build"] + pair["b_jhot"]
                pair["overhead"] = pair["a"] - pair["b"]
                pair["goal_overhead"] = pair["a_goal"] - pair["b_jhot"]
                rows.append(pair)
                print(f"gradle run {i + 1}: {pair}", file=sys.stderr)
        finally:
            server.stop()
        version = next((line for line in run(gradle + ["-v"], proj, env)[1].splitlines()
                        if line.startswith("Gradle ")), "Gradle ?")
        return {"tool": version + " (daemon)", "runs": rows}
    finally:
        # Only this benchmark's daemon: it is registered in its own Gradle user home.
        subprocess.run(gradle + ["--stop"], cwd=proj, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def table(name: str, a_cmd: str, b_build: str, b_jhot: str, goal: str, res: dict) -> str:
    rows = res["runs"]
    lines = [f"### {name}: {res['tool']}, {len(rows)} pairs\n",
             "| measure | median s | min s | max s |", "|---|---|---|---|"]
    for label, key in ((f"A `{a_cmd}`", "a"), (f"B1 `{b_build}`", "b_build"), (f"B2 `{b_jhot}`", "b_jhot"),
                       ("B = B1 + B2", "b"), ("**plugin overhead A - B** (per pair)", "overhead"),
                       (f"A from the {goal} line to the exit", "a_goal"),
                       ("that minus B2 (the goal's own cost, per pair)", "goal_overhead")):
        s = stats([r[key] for r in rows])
        lines.append(f"| {label} | {s['median']:.2f} | {s['min']:.2f} | {s['max']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", choices=["maven", "gradle"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    ap.add_argument("--jhot", type=Path, default=target / "release/jhot")
    ap.add_argument("--out", type=Path, default=REPO / "bench/results")
    args = ap.parse_args()
    args.jhot = args.jhot.resolve()
    if not args.jhot.is_file():
        raise SystemExit(f"{args.jhot} is missing: cargo build --release --locked -p jhot")
    java = jdk17() / "bin/java"
    work = target / "bench/plugins"
    work.mkdir(parents=True, exist_ok=True)
    jdk = subprocess.run([str(java), "-version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60).stdout.decode().splitlines()[0]
    results = {}
    if args.only in (None, "maven"):
        results["maven"] = bench_maven(args, java, work)
    if args.only in (None, "gradle"):
        results["gradle"] = bench_gradle(args, java, work)
    date = datetime.date.today().isoformat()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, timeout=60).stdout.decode().strip() or "?"
    load = Path("/proc/loadavg").read_text().split()[:3]
    md = [f"## Build plugins' overhead over `jhot deploy` ({date})\n",
          f"Machine: {cpu_model()}, {os.cpu_count()} cores (shared with other work; load average at the end "
          f"{' '.join(load)}). JDK: {jdk} (the servers, Maven and Gradle). jhot: release build "
          f"{args.jhot} at commit {commit}. Method: bench/plugins/bench.py's docstring. Target: overhead <= 1 s.\n"]
    if "maven" in results:
        md.append(table("Maven", "mvn compile jhot:deploy", "mvn compile", "jhot deploy PID target/classes --json",
                        "`--- jhot-maven-plugin:…:deploy ---`", results["maven"]))
    if "gradle" in results:
        md.append(table("Gradle", "gradle jar jhotDeploy", "gradle jar", "jhot deploy PID build/libs/x.jar --json",
                        "`:jhotDeploy`", results["gradle"]))
    text = "\n".join(md)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    write_result(args.out / f"plugins-{date}.md", text)
    write_result(args.out / f"plugins-{date}.json", json.dumps(
        {"date": date, "cpu": cpu_model(), "cores": os.cpu_count(), "jdk": jdk, "commit": commit, "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
