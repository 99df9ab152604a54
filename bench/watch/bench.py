#!/usr/bin/env python3
"""`jhot watch` latency (a benchmark, not a test): how long from the last class file written into a
watched class directory (as javac writes it: in place) to the JVM serving the new code, for 1 class
and for 1,000 classes changed at once, on JDK 17 with a release build of jhot.

    python3 bench/watch/bench.py [--runs 10] [--quiet 300] [--classes 1000] [--jhot target/release/jhot]
                                 [--out bench/results/watch-DATE.md]

Generates a sample under target/bench/watch/: `gen.Main`, an HTTP server on loopback whose `GET /`
answers the sum of `gen.C0.v() … gen.C999.v()` (all 1,000 classes loaded at start), in two builds
(A: `v()` of C<i> returns i; B: returns i + 1), compiled once by the JDK's javac. The JVM runs
from build A's directory; `jhot watch --json` watches a copy of it. One run writes B's (or A's)
bytes of one class, or of all of them, in place; "live" is the first `GET /` that answers the
new sum (one atomic redefinition: the sum jumps at once). The quiet period is part of it by
design; the table also shows the time after it and the targets (quiet + 100 ms for 1 class,
quiet + 1 s for 1,000). Every wait is bounded; stops only the processes it started, by pid.
"""
import argparse
import datetime
import json
import os
import platform
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


MAIN = """package gen;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public final class Main {
    public static void main(String[] args) throws Exception {
        System.out.println("CLASSES " + Sum.sum());
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/", ex -> {
            byte[] b = (Sum.sum() + "\\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        s.start();
        System.out.println("LISTENING " + s.getAddress().getPort());
    }
}
"""


def generate(src: Path, n: int, delta: int) -> None:
    pkg = src / "gen"
    pkg.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (pkg / f"C{i}.java").write_text(
            f"package gen; public final class C{i} {{ public static long v() {{ return {i + delta}L; }} }}\n")
    calls = "".join(f"        s += C{i}.v();\n" for i in range(n))
    # One method with 1,000 calls stays well under the 64 KiB code limit (about 4 bytes a call).
    (pkg / "Sum.java").write_text(f"package gen; final class Sum {{ static long sum() {{\n        long s = 0;\n{calls}"
                                  "        return s;\n    }\n}\n")
    (pkg / "Main.java").write_text(MAIN)


def javac(java_home: Path, src: Path, out: Path) -> None:
    srcs = sorted(str(p) for p in src.rglob("*.java"))
    subprocess.run([str(java_home / "bin/javac"), "--release", "11", "-d", str(out)] + srcs, check=True, timeout=600)


def get(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs visible, Linux {platform.release()}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--quiet", type=int, default=300)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--jhot", type=Path, default=REPO / "target/release/jhot")
    ap.add_argument("--out", type=Path, help="also write the table to this file")
    args = ap.parse_args()
    if not args.jhot.is_file():
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "jhot"], cwd=REPO, check=True)
    home = jdk17()
    n = args.classes
    work = REPO / "target/bench/watch"
    shutil.rmtree(work, ignore_errors=True)
    a, b, watched = work / "a", work / "b", work / "classes"
    generate(work / "src-a", n, 0)
    generate(work / "src-b", n, 1)
    javac(home, work / "src-a", a)
    javac(home, work / "src-b", b)
    shutil.copytree(a, watched)
    names = [f"gen/C{i}.class" for i in range(n)]
    bytes_a = {c: (a / c).read_bytes() for c in names}
    bytes_b = {c: (b / c).read_bytes() for c in names}
    state = {c: "a" for c in names}
    sum_a = n * (n - 1) // 2
    jdk = subprocess.run([str(home / "bin/java"), "-version"], capture_output=True, text=True).stderr.splitlines()

    started: list[subprocess.Popen] = []
    try:
        jvm = subprocess.Popen([str(home / "bin/java"), "-Xmx256m", "-cp", str(a), "gen.Main"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started.append(jvm)
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = jvm.stdout.readline().decode()
            if not line:
                break
            if line.startswith("LISTENING "):
                port = int(line.split()[1])
        if port is None:
            print("the sample did not print LISTENING within 60 s", file=sys.stderr)
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

        def wait_event(kind: str, n: int, timeout: float = 60) -> tuple[float, dict] | None:
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
        applied_n = 0
        results = {}
        for label, classes in (("1 class", names[:1]), (f"{n} classes", names)):
            rows = []
            for i in range(args.runs):
                to = "b" if state[classes[0]] == "a" else "a"
                for c in classes:
                    with open(watched / c, "wb") as f:
                        f.write((bytes_b if to == "b" else bytes_a)[c])
                    state[c] = to
                written = time.monotonic()
                expected = str(sum_a + sum(1 for c in names if state[c] == "b"))
                applied_n += 1
                ev = wait_event("applied", applied_n)
                if ev is None:
                    print(f"{label} run {i + 1}: nothing applied within 60 s", file=sys.stderr)
                    return 1
                deadline = time.monotonic() + 10
                while get(port) != expected and time.monotonic() < deadline:
                    time.sleep(0.002)
                served = time.monotonic()
                if get(port) != expected:
                    print(f"{label} run {i + 1}: the JVM does not answer {expected}", file=sys.stderr)
                    return 1
                rows.append(((ev[0] - written) * 1000, (served - written) * 1000, ev[1]["elapsed_ms"],
                             ev[1]["jvm_ms"]))
                time.sleep(args.quiet / 1000 + 0.3)
            results[label] = rows

        out = []
        out.append(f"## jhot watch: last class file written -> new code live (quiet {args.quiet} ms, {args.runs} runs each)\n")
        out.append(f"- date: {datetime.date.today().isoformat()}")
        out.append(f"- machine: {machine()}")
        out.append(f"- JDK: {' / '.join(jdk)}")
        shown = args.jhot.relative_to(REPO) if args.jhot.is_relative_to(REPO) else args.jhot
        out.append(f"- jhot: {shown}{' (release build)' if 'release' in args.jhot.parts else ''}, "
                   f"commit {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO, capture_output=True, text=True).stdout.strip()}")
        out.append(f"- sample: gen.Main with {n} classes gen.C<i> loaded at start; GET / answers the sum of their v()\n")
        out.append("| change | written -> `applied` median / max ms | written -> live median / max ms | "
                   "after quiet (live - quiet) median / max ms | jhot `elapsed_ms` median | JVM `jvm_ms` median | target | met |")
        out.append("|---|---|---|---|---|---|---|---|")
        for label, rows in results.items():
            applied = [r[0] for r in rows]
            live = [r[1] for r in rows]
            target = args.quiet + (100 if label == "1 class" else 1000)
            met = "yes" if max(live) <= target else "no"
            out.append(f"| {label} | {statistics.median(applied):.1f} / {max(applied):.1f} | "
                       f"{statistics.median(live):.1f} / {max(live):.1f} | "
                       f"{statistics.median(live) - args.quiet:.1f} / {max(live) - args.quiet:.1f} | "
                       f"{statistics.median(r[2] for r in rows):.1f} | {statistics.median(r[3] for r in rows):.1f} | "
                       f"≤ {target} ms | {met} (max) |")
        out.append("")
        for label, rows in results.items():
            out.append(f"- {label}, written -> live per run (ms): {', '.join(f'{r[1]:.0f}' for r in rows)}")
        text = "\n".join(out) + "\n"
        print(text)
        if args.out:
            args.out.write_text(text)
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
