#!/usr/bin/env python3
"""Where a warm `jhot redefine` spends what the floor does not: paired, on the same kind of target.

Three of bench/attach_bench.py's tools (see its docstring), each on fresh targets of its own
(samples/hello-http), in rounds whose order alternates, so that the spread between JVMs (warm
medians moved by up to half between two JVMs of one kind) falls on every tool alike:

  floor       samples/floor-agent, resident, driven by bench/latency/floor_client.c: the least any
              agent-based tool can do for this redefinition.
  agent-only  jhot's agent, resident (loaded by an untimed `jhot redefine`), driven by
              bench/latency/agent_client.c with the two frames jhot sends: jhot without its process.
  jhot        `jhot redefine PID Greeter.class`.

Each target is warmed up as attach_bench warms its warm targets (5 untimed runs, 2 s idle), then
takes --runs timed ones (wall clock of the process, alternating v2 and v1; GET / checked after
every run). agent-only minus floor is what jhot's agent does beyond the floor; jhot minus
agent-only is what jhot's own process costs.

Usage: bench/latency/split.py --jhot target/release/jhot [--jdk 17] [--busy] [--rounds 4] [--runs 15]
Only loopback, only processes it started (killed by their process group); every wait is bounded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import attach_bench as ab  # noqa: E402
from benchlib import cpu_model  # noqa: E402

TOOLS = {"floor": ab.Floor, "agent-only": ab.AgentOnly, "jhot": ab.Jhot}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jhot", type=Path, default=REPO / "target/release/jhot")
    ap.add_argument("--jdk", type=int, default=17)
    ap.add_argument("--busy", action="store_true", help="the sample's hot loop keeps one core busy")
    ap.add_argument("--rounds", type=int, default=4, help="fresh targets per tool (default 4)")
    ap.add_argument("--runs", type=int, default=15, help="timed runs per target (default 15)")
    a = ap.parse_args()

    samples = REPO / "target/bench-samples"
    ab.build_samples(samples)
    ctx = ab.Ctx()
    ctx.java = ab.ensure_jdks([a.jdk])[a.jdk] / "bin/java"
    ctx.jvm_args = ["-Dhello.busy=true"] if a.busy else []
    ctx.workdir = Path(tempfile.mkdtemp(prefix="jhot-split-"))
    ctx.classes = samples / "hello-http/classes"
    ctx.v1 = ctx.classes / "hello/Greeter.class"
    ctx.v2 = samples / "hello-http/patches/body/hello/Greeter.class"
    ctx.floor_jar = samples / "floor-agent.jar"
    ctx.floor_dir = ctx.workdir  # a short path: sun_path holds 108 bytes
    ctx.jhot = a.jhot.resolve()
    ctx.jhot_args = ["redefine", "{pid}", "{cls}"]
    ctx.jattach = ab.ensure_jattach()
    if not ctx.jattach:
        sys.exit("split.py: jattach is needed for the floor and could not be installed")
    ctx.settle, ctx.idle, ctx.warm_ups = 1.0, 2.0, 5
    ctx.budget = ab.Budget(3600)
    for client in ("floor_client", "agent_client"):
        setattr(ctx, client, ctx.workdir / client)
        subprocess.run(["gcc", "-O2", "-o", str(ctx.workdir / client), str(REPO / f"bench/latency/{client}.c")],
                       check=True)

    warm = {name: [] for name in TOOLS}
    try:
        for k in range(a.rounds):
            for name in TOOLS if k % 2 == 0 else list(reversed(TOOLS)):
                failures: list[str] = []
                if not ab.warm_on_target(ctx, TOOLS[name](ctx), {}, False, a.runs, warm[name], failures) or failures:
                    sys.exit(f"split.py: {name} failed:\n" + "\n".join(failures))
    finally:
        ab.cleanup_started()
        shutil.rmtree(ctx.workdir, ignore_errors=True)

    print(f"split.py, {time.strftime('%Y-%m-%dT%H:%M:%S')}, {cpu_model()}, JDK {a.jdk} {'busy' if a.busy else 'idle'}, "
          f"{a.rounds} targets per tool, {a.runs} timed runs each (ms)")
    med = {}
    for name, v in warm.items():
        v = sorted(x * 1000 for x in v)
        med[name] = statistics.median(v)
        q = lambda f: v[int(f * (len(v) - 1))]  # noqa: E731
        print(f"  {name:10s} median {med[name]:6.2f}  p25 {q(.25):6.2f}  p75 {q(.75):6.2f}  min {v[0]:6.2f}  n={len(v)}")
    print(f"  jhot's agent beyond the floor: {med['agent-only'] - med['floor']:.2f} ms; "
          f"jhot's process: {med['jhot'] - med['agent-only']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
