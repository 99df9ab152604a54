#!/usr/bin/env python3
"""Where the time of a `jhot redefine` goes, cold and warm, on an idle and a busy target.

One clock for both sides: the target runs with -Xlog:class+load,safepoint decorated with
`timenanos` (System.nanoTime, CLOCK_MONOTONIC), jhot runs with JHOT_LOG=debug (wall-clock
timestamps, converted to CLOCK_MONOTONIC with the offset read when jhot is started), and this
script reads CLOCK_MONOTONIC when it starts jhot and when jhot has exited.

Phases of a cold run (a fresh JVM; the agent is loaded by this command):
  start       jhot started -> attach trigger created (jhot's own start-up and its checks of the target)
  signal      trigger -> the JVM's attach listener up (SIGQUIT, the JVM starts its listener thread)
  to_agent    listener up -> the JVM loads java.lang.instrument (the `load` command reached the JVM)
  jar         -> dev.jhot.agent.Agent loaded (the JVM opens the agent jar, starts JPLIS, and
              dev.jhot.agent.Boot reads the agent's classes from the jar into their loader)
  agent_init  -> dev.jhot.agent.Req loaded (agentmain: state, private directory, the request file)
  to_safepoint -> the redefinition's safepoint begins (the request's own work: scan, capture, checks)
  safepoint   the redefinition's safepoint (HotSpot's own work; the first one in a JVM deoptimizes
              every compiled method)
  finish      -> jhot exits (the answer file, the verdict, the output; the follow-up on two-step)
Warm (agent resident): channel (connect + hello), request (-> the safepoint), safepoint, finish,
and `unlogged`: the same series again without the debug log, whose formatting costs jhot about a
millisecond; the warm ratio is taken on it.

The warm floor: `jattach PID jcmd VM.version` (a process and one round trip to the JVM) plus the
JVM's RedefineClasses operation as its log measures it, i.e. what a tool as lean as jattach would
pay for the same redefinition. `jhot --version` and `/bin/true` give the two processes' start-up.

Also: `jattach PID load instrument false` of a trivial agent, and `jattach PID jcmd VM.version`,
on the same kind of target: the references of issue 15.

Usage: bench/latency/breakdown.py --jhot target/release/jhot [--jdk 17 ...] [--runs 7] [--out F]
Only loopback, only processes it started; every wait is bounded.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from benchlib import cpu_model  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jdks() -> dict[int, Path]:
    env = os.environ.get("JHOT_JDKS_ENV", str(REPO / ".cache/jdks/jdks.env"))
    out = {}
    for line in Path(env).read_text().splitlines():
        m = re.match(r"JHOT_JDK(\d+)=(.*)", line.strip())
        if m:
            out[int(m.group(1))] = Path(m.group(2))
    return out


class Target:
    def __init__(self, java: Path, busy: bool, log: Path):
        classes = REPO / "target/bench-samples/hello-http/classes"
        if not classes.is_dir():
            classes = REPO / "target/samples/hello-http/classes"
        self.out = tempfile.NamedTemporaryFile(prefix="jhot-bd-", suffix=".out", delete=False)
        args = [str(java), "-Xmx128m", f"-Dhello.busy={'true' if busy else 'false'}",
                f"-Xlog:class+load=info,safepoint=info:file={log}:timenanos", "-cp", str(classes), "hello.Main", "0"]
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.log = log
        deadline = time.monotonic() + 30
        self.port = None
        while time.monotonic() < deadline and self.port is None:
            m = re.search(r"LISTENING (\d+)", Path(self.out.name).read_text())
            if m:
                self.port = int(m.group(1))
            time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise RuntimeError("target did not start")
        import urllib.request
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5).read()  # loads hello.Greeter
        time.sleep(1.5 if busy else 1.0)  # the hot loop gets compiled

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        os.unlink(self.out.name)


def jvm_events(log: Path, since_ns: int) -> list[tuple[int, str]]:
    ev = []
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"\[(\d+)ns\] (.*)", line)
        if m and int(m.group(1)) >= since_ns:
            ev.append((int(m.group(1)), m.group(2)))
    return ev


def jhot_events(stderr: str, offset_ns: int) -> list[tuple[int, str]]:
    ev = []
    for line in ANSI.sub("", stderr).splitlines():
        m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z\s+\w+\s+(.*)", line)
        if not m:
            continue
        t = _dt.datetime.fromisoformat(m.group(1)).replace(tzinfo=_dt.timezone.utc)
        wall_ns = int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000
        ev.append((wall_ns - offset_ns, m.group(2)))
    return ev


def first(ev, pred):
    return next((t for t, s in ev if pred(s)), None)


def safepoint(ev):
    """(start, duration) of the last RedefineClasses safepoint in ev."""
    for t, s in reversed(ev):
        if s.startswith('Safepoint "RedefineClasses"'):
            total = int(re.search(r"Total: (\d+) ns", s).group(1))
            return t - total, total
    return None, None


def run(cmd: list[str], env=None) -> tuple[int, int, int, str, str]:
    offset = time.time_ns() - time.monotonic_ns()
    t0 = time.monotonic_ns()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    t1 = time.monotonic_ns()
    return t0, t1, offset, p.stdout, p.stderr if p.returncode == 0 else f"[exit {p.returncode}]" + p.stderr


def redefine(jhot: Path, pid: int, cls: Path, kind: str, env=None) -> tuple[int, int, int, str]:
    """One timed `jhot redefine` that must have redefined the class: (t0, t1, offset, stderr)."""
    t0, t1, off, out, err = run([str(jhot), "redefine", str(pid), str(cls)], env)
    if "redefined 1" not in out:
        raise RuntimeError(f"{kind} redefine failed: {out}{err[-2000:]}")
    return t0, t1, off, err


def cold(jhot: Path, java: Path, busy: bool, cls: Path, tmp: Path) -> dict:
    log = tmp / "cold.log"
    t = Target(java, busy, log)
    try:
        env = dict(os.environ, JHOT_LOG="jhot_attach=debug,jhot_engine=debug,jhot=debug")
        t0, t1, off, err = redefine(jhot, t.pid, cls, "cold", env)
        time.sleep(0.2)
        j = jvm_events(log, t0)
        h = jhot_events(err, off)
    finally:
        t.stop()
    trig = first(h, lambda s: "attach trigger created" in s)
    up = first(h, lambda s: "attach listener started" in s)
    inst = first(j, lambda s: s.startswith("java.lang.instrument.Instrumentation ") or s.startswith("sun.instrument.InstrumentationImpl "))
    agent = first(j, lambda s: s.startswith("dev.jhot.agent.Agent "))
    req = first(j, lambda s: s.startswith("dev.jhot.agent.Req "))
    sp, sp_len = safepoint(j)
    marks = [t0, trig, up, inst, agent, req, sp, sp + sp_len if sp else None, t1]
    if any(m is None for m in marks):
        raise RuntimeError(f"missing marks {marks}")
    names = ["start", "signal", "to_agent", "jar", "agent_init", "to_safepoint", "safepoint", "finish"]
    r = {n: (b - a) / 1e6 for n, a, b in zip(names, marks, marks[1:])}
    r["total"] = (t1 - t0) / 1e6
    r["safepoints"] = sum(1 for _, s in j if s.startswith('Safepoint "RedefineClasses"'))
    return r


def warm_series(jhot: Path, java: Path, busy: bool, v1: Path, v2: Path, tmp: Path, n: int) -> list[dict]:
    log = tmp / "warm.log"
    t = Target(java, busy, log)
    rows = []
    try:
        for i in range(3):  # the agent resident, its code warmed a little
            run([str(jhot), "redefine", str(t.pid), str(v2 if i % 2 == 0 else v1)])
        env = dict(os.environ, JHOT_LOG="jhot_attach=debug,jhot_engine=debug,jhot=debug")
        for i in range(n):
            cls = v1 if i % 2 == 0 else v2
            t0, t1, off, err = redefine(jhot, t.pid, cls, "warm", env)
            time.sleep(0.05)
            j = jvm_events(log, t0)
            h = jhot_events(err, off)
            opened = first(h, lambda s: "agent channel open" in s)
            sp, sp_len = safepoint(j)
            if sp is None:
                raise RuntimeError("no redefinition safepoint in the JVM's log")
            # A jhot older than the "agent channel open" event: channel and request together.
            rows.append({"channel": (opened - t0) / 1e6 if opened else float("nan"),
                         "request": (sp - (opened or t0)) / 1e6,
                         "safepoint": sp_len / 1e6, "finish": (t1 - sp - sp_len) / 1e6, "total": (t1 - t0) / 1e6})
        # The same runs without the debug log (formatting it costs jhot time): the totals the
        # ratio is taken on.
        for i in range(n):
            cls = v1 if (n + i) % 2 == 0 else v2
            t0, t1, _, _ = redefine(jhot, t.pid, cls, "warm")
            rows[i]["unlogged"] = (t1 - t0) / 1e6
    finally:
        t.stop()
    return rows


def references(java: Path, busy: bool, tmp: Path, n: int, jhot: Path) -> dict:
    jattach = "/usr/bin/jattach"
    agent = REPO / "target/bench-samples/minimal-agent.jar"
    if not agent.is_file():
        agent = REPO / "target/samples/minimal-agent.jar"
    out = {"jattach_load": [], "jattach_jcmd": []}
    for _ in range(n):
        t = Target(java, busy, tmp / "ref.log")
        try:
            t0, t1, *_ = run([jattach, str(t.pid), "load", "instrument", "false", str(agent)])
            out["jattach_load"].append((t1 - t0) / 1e6)
            for _ in range(3):
                t0, t1, *_ = run([jattach, str(t.pid), "jcmd", "VM.version"])
                out["jattach_jcmd"].append((t1 - t0) / 1e6)
        finally:
            t.stop()
    for name, cmd in (("jhot_version", [str(jhot), "--version"]), ("true", ["/bin/true"])):
        times = []
        for _ in range(20):
            t0, t1, *_ = run(cmd)
            times.append((t1 - t0) / 1e6)
        out[name] = med(times)
    return out


def med(xs):
    xs = [x for x in xs if x == x]  # NaN: not measured
    return statistics.median(xs) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jhot", type=Path, default=REPO / "target/release/jhot")
    ap.add_argument("--jdk", type=int, action="append")
    ap.add_argument("--runs", type=int, default=7, help="cold runs (fresh JVMs) per configuration")
    ap.add_argument("--warm-runs", type=int, default=15)
    ap.add_argument("--label", default="", help="a word for the results (before, after)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    homes = jdks()
    samples = REPO / "target/bench-samples/hello-http"
    if not samples.is_dir():
        samples = REPO / "target/samples/hello-http"
    v1, v2 = samples / "classes/hello/Greeter.class", samples / "patches/body/hello/Greeter.class"
    L = [f"jhot redefine latency breakdown {args.label}, {_dt.datetime.now().isoformat(timespec='seconds')}",
         f"machine: {cpu_model()}, {os.cpu_count()} cores; jhot: {args.jhot} "
         f"({subprocess.run([str(args.jhot), '--version'], capture_output=True, text=True).stdout.strip()}, "
         f"{args.jhot.stat().st_size // 1024} KiB)",
         f"medians in ms; cold over {args.runs} fresh JVMs, warm over {args.warm_runs} runs on one JVM", ""]
    with tempfile.TemporaryDirectory(prefix="jhot-bd-") as d:
        tmp = Path(d)
        for feature in args.jdk or [17]:
            java = homes[feature] / "bin/java"
            for busy in (False, True):
                kind = "busy" if busy else "idle"
                colds = [cold(args.jhot, java, busy, v2, tmp) for _ in range(args.runs)]
                warms = warm_series(args.jhot, java, busy, v1, v2, tmp, args.warm_runs)
                refs = references(java, busy, tmp, max(3, args.runs // 2), args.jhot)
                L.append(f"JDK {feature}, {kind} target")
                L.append("  cold: " + "  ".join(f"{k} {med([c[k] for c in colds]):.1f}" for k in colds[0] if k != "safepoints")
                         + f"  (RedefineClasses safepoints: {max(c['safepoints'] for c in colds)})")
                L.append("  warm: " + "  ".join(f"{k} {med([w[k] for w in warms]):.1f}" for k in warms[0]))
                jl, jj = med(refs["jattach_load"]), med(refs["jattach_jcmd"])
                ct, wt = med([c["total"] for c in colds]), med([w["unlogged"] for w in warms])
                sp = med([w["safepoint"] for w in warms])
                L.append(f"  references: jattach load {jl:.1f}, jattach jcmd VM.version {jj:.1f}; "
                         f"ratios cold {ct / jl:.2f}x (target 1.5), warm {wt / jj:.2f}x without the log "
                         f"({wt:.1f} ms; target 3)")
                # What any tool pays for a warm redefinition: one attach-like round trip (jattach's
                # process and socket) plus the JVM's own RedefineClasses operation.
                L.append(f"  warm floor: jcmd round trip + the JVM's redefinition = {jj + sp:.1f} ms = "
                         f"{(jj + sp) / jj:.2f}x jcmd; processes: jhot --version {refs['jhot_version']:.1f}, "
                         f"/bin/true {refs['true']:.1f}")
                L.append("")
                print("\n".join(L[-6:]), file=sys.stderr, flush=True)
    text = "\n".join(L) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
