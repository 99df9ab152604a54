#!/usr/bin/env python3
"""Where a warm `jhot redefine` spends what the floor does not: paired, on the same kind of target.

Three tools, each on fresh targets of its own (samples/hello-http), in rounds whose order
alternates, so that the spread between JVMs (warm medians moved by up to half between two JVMs of
one kind) falls on every tool alike:

  floor       samples/floor-agent, resident, driven by bench/latency/floor_client.c: the least any
              agent-based tool can do for this redefinition.
  agent-only  jhot's agent, resident (loaded by an untimed `jhot redefine`), driven by
              bench/latency/agent_client.c with the two frames jhot sends: jhot without its process.
  jhot        `jhot redefine PID Greeter.class`.

Each target gets 5 untimed runs, 2 s idle, then --runs timed ones (wall clock of the process,
alternating v2 and v1; GET / checked after every run). agent-only minus floor is what jhot's agent
does beyond the floor; jhot minus agent-only is what jhot's own process costs.

Usage: bench/latency/split.py --jhot target/release/jhot [--jdk 17] [--busy] [--rounds 4] [--runs 15]
Only loopback, only processes it started (killed by their process group); every wait is bounded.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from benchlib import cpu_model  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jhot", type=Path, default=REPO / "target/release/jhot")
    ap.add_argument("--jdk", default="17")
    ap.add_argument("--busy", action="store_true", help="the sample's hot loop keeps one core busy")
    ap.add_argument("--rounds", type=int, default=4, help="fresh targets per tool (default 4)")
    ap.add_argument("--runs", type=int, default=15, help="timed runs per target (default 15)")
    a = ap.parse_args()
    env = dict(line.strip().split("=", 1) for line in open(REPO / ".cache/jdks/jdks.env") if line.startswith("JHOT_JDK"))
    java = env[f"JHOT_JDK{a.jdk}"] + "/bin/java"
    samples = REPO / "target/bench-samples"
    v1, v2 = samples / "hello-http/classes/hello/Greeter.class", samples / "hello-http/patches/body/hello/Greeter.class"
    for f in (v1, v2, samples / "floor-agent.jar"):
        if not f.exists():
            sys.exit(f"split.py: {f} is missing: run bench/run.sh once (it builds the samples)")
    work = Path(tempfile.mkdtemp(prefix="jhot-split-"))
    clients = {}
    for c in ("floor_client", "agent_client"):
        clients[c] = work / c
        subprocess.run(["gcc", "-O2", "-o", str(clients[c]), str(REPO / f"bench/latency/{c}.c")], check=True)

    def start():
        args = [java] + (["-Dhello.busy=true"] if a.busy else []) + ["-cp", str(samples / "hello-http/classes"), "hello.Main", "0"]
        t = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        for line in t.stdout:
            if line.startswith(b"LISTENING "):
                port = int(line.split()[1])
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
                return t, port
            if time.monotonic() > deadline:
                break
        os.killpg(t.pid, signal.SIGKILL)
        sys.exit("split.py: the target did not start")

    def body(port):
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode().strip()

    tools = ["floor", "agent-only", "jhot"]
    res = {t: [] for t in tools}
    for k in range(a.rounds):
        for tool in tools if k % 2 == 0 else list(reversed(tools)):
            t, port = start()
            try:
                time.sleep(1)
                if tool == "floor":
                    sock = work / f"{t.pid}.sock"
                    subprocess.run(["jattach", str(t.pid), "load", "instrument", "false",
                                    f"{samples / 'floor-agent.jar'}=listen={sock}"], capture_output=True, check=True, timeout=30)
                    cmd = lambda cls: [str(clients["floor_client"]), str(sock), "hello.Greeter", str(cls)]  # noqa: E731
                elif tool == "agent-only":
                    subprocess.run([str(a.jhot), "redefine", str(t.pid), str(v1)], capture_output=True, check=True, timeout=60)
                    sock = Path(f"/tmp/.jhot-{os.geteuid()}/{t.pid}.sock")
                    deadline = time.monotonic() + 10
                    while not sock.exists() and time.monotonic() < deadline:
                        time.sleep(0.05)
                    cmd = lambda cls: [str(clients["agent_client"]), str(sock), "hello.Greeter", str(cls)]  # noqa: E731
                else:
                    cmd = lambda cls: [str(a.jhot), "redefine", str(t.pid), str(cls)]  # noqa: E731
                for i in range(5 + a.runs):
                    if i == 5:
                        time.sleep(2)
                    cls, want = (v2, "Hello from v2") if i % 2 == 0 else (v1, "Hello from v1")
                    t0 = time.perf_counter()
                    r = subprocess.run(cmd(cls), capture_output=True, timeout=60)
                    dt = (time.perf_counter() - t0) * 1000
                    if r.returncode != 0 or body(port) != want:
                        sys.exit(f"split.py: {tool} run {i} failed: exit {r.returncode}\n{r.stdout[-300:]}{r.stderr[-300:]}")
                    if i >= 5:
                        res[tool].append(dt)
                    time.sleep(0.05)
            finally:
                os.killpg(t.pid, signal.SIGKILL)
                t.wait()
    print(f"split.py, {time.strftime('%Y-%m-%dT%H:%M:%S')}, {cpu_model()}, JDK {a.jdk} {'busy' if a.busy else 'idle'}, "
          f"{a.rounds} targets per tool, {a.runs} timed runs each (ms)")
    med = {}
    for tool, v in res.items():
        v.sort()
        med[tool] = statistics.median(v)
        q = lambda f: v[int(f * (len(v) - 1))]  # noqa: E731
        print(f"  {tool:10s} median {med[tool]:6.2f}  p25 {q(.25):6.2f}  p75 {q(.75):6.2f}  min {v[0]:6.2f}  n={len(v)}")
    print(f"  jhot's agent beyond the floor: {med['agent-only'] - med['floor']:.2f} ms; "
          f"jhot's process: {med['jhot'] - med['agent-only']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
