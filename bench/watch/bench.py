#!/usr/bin/env python3
"""`jhot watch` latency (a benchmark, not a test): how long from a class file written into a watched
class directory (as javac writes it: in place) to the JVM serving the new code, for the
hello-http sample on JDK 17. The quiet period (--quiet, 300 ms by default) is part of it by design;
the table also shows the time after it.

    python3 bench/watch/bench.py [--runs 10] [--quiet 300] [--jhot target/release/jhot]

Compiles the sample and its body patch with the JDK's javac under target/bench/watch/, starts the
sample and `jhot watch --json`, then alternates Greeter.class between v1 and v2. Loopback only;
every wait is bounded; stops only the processes it started, by pid. Prints a markdown table.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def jdk17() -> Path:
    env = Path(os.environ.get("JHOT_JDKS_ENV", REPO / ".cache/jdks/jdks.env"))
    if env.is_file():
        for line in env.read_text().splitlines():
            if line.startswith("JHOT_JDK17="):
                return Path(line.split("=", 1)[1])
    return Path("/usr/lib/jvm/java-17-openjdk-amd64")


def javac(java_home: Path, srcs: list[Path], out: Path, cp: Path | None = None) -> None:
    cmd = [str(java_home / "bin/javac"), "--release", "11", "-d", str(out)]
    if cp:
        cmd += ["-cp", str(cp)]
    subprocess.run(cmd + [str(s) for s in srcs], check=True, timeout=120)


def get(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--quiet", type=int, default=300)
    ap.add_argument("--jhot", type=Path, default=REPO / "target/release/jhot")
    args = ap.parse_args()
    if not args.jhot.is_file():
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "jhot"], cwd=REPO, check=True)
    home = jdk17()
    work = REPO / "target/bench/watch"
    shutil.rmtree(work, ignore_errors=True)
    base, patch, watched = work / "base", work / "patch", work / "classes"
    src = REPO / "samples/hello-http"
    javac(home, sorted((src / "src").rglob("*.java")), base)
    javac(home, sorted((src / "patches/body").rglob("*.java")), patch, cp=base)
    shutil.copytree(base, watched)
    v1 = (base / "hello/Greeter.class").read_bytes()
    v2 = (patch / "hello/Greeter.class").read_bytes()

    started: list[subprocess.Popen] = []
    try:
        jvm = subprocess.Popen([str(home / "bin/java"), "-cp", str(base), "hello.Main", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started.append(jvm)
        port = None
        deadline = time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            line = jvm.stdout.readline().decode()
            if line.startswith("LISTENING "):
                port = int(line.split()[1])
        if port is None:
            print("the sample did not print LISTENING within 20 s", file=sys.stderr)
            return 1
        threading.Thread(target=lambda: [None for _ in jvm.stdout], daemon=True).start()
        watch = subprocess.Popen([str(args.jhot), "watch", str(jvm.pid), str(watched), "--quiet", str(args.quiet),
                                  "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        started.append(watch)
        events: list[tuple[float, dict]] = []
        lock = threading.Lock()

        def read() -> None:
            for raw in watch.stdout:
                with lock:
                    events.append((time.monotonic(), json.loads(raw)))
        threading.Thread(target=read, daemon=True).start()

        def wait_event(kind: str, n: int, timeout: float = 30) -> tuple[float, dict] | None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with lock:
                    found = [e for e in events if e[1].get("event") == kind]
                if len(found) >= n:
                    return found[n - 1]
                time.sleep(0.002)
            return None

        if wait_event("started", 1) is None:
            print("jhot watch did not start", file=sys.stderr)
            return 1
        rows = []
        for i in range(1, args.runs + 1):
            data, answer = (v2, "Hello from v2") if i % 2 else (v1, "Hello from v1")
            with open(watched / "hello/Greeter.class", "wb") as f:
                f.write(data)
            written = time.monotonic()
            ev = wait_event("applied", i)
            if ev is None:
                print(f"run {i}: nothing applied within 30 s", file=sys.stderr)
                return 1
            deadline = time.monotonic() + 10
            while get(port) != answer and time.monotonic() < deadline:
                time.sleep(0.002)
            served = time.monotonic()
            rows.append(((ev[0] - written) * 1000, (served - written) * 1000, ev[1]["elapsed_ms"]))
            time.sleep(args.quiet / 1000 + 0.2)
        applied = [r[0] for r in rows]
        served = [r[1] for r in rows]
        redefine = [r[2] for r in rows]
        print(f"## jhot watch: class file written -> served (hello-http, JDK 17, quiet {args.quiet} ms, {args.runs} runs)\n")
        print("| measure | median ms | max ms |\n|---|---|---|")
        print(f"| written -> `applied` event | {statistics.median(applied):.1f} | {max(applied):.1f} |")
        print(f"| written -> new answer served | {statistics.median(served):.1f} | {max(served):.1f} |")
        print(f"| after the quiet period (served - quiet) | {statistics.median(served) - args.quiet:.1f} | {max(served) - args.quiet:.1f} |")
        print(f"| jhot's redefinition (`elapsed_ms`) | {statistics.median(redefine):.1f} | {max(redefine):.1f} |")
        return 0
    finally:
        for p in reversed(started):
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass


if __name__ == "__main__":
    sys.exit(main())
