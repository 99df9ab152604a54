#!/usr/bin/env python3
"""The deploy benchmark on the realistic sample (samples/boot4-shop: Spring Boot 4, Tomcat 11,
Spring Data JPA with Hibernate and H2, caching, actuator, validation, Thymeleaf; about 13,800
application classes loaded after a few requests, 32,000 classes in a 61 MB fat jar).

Measured, on JDK 17 (and --java for others):
  cold   `jhot deploy PID boot4-shop-v1b.jar --dry-run` on a JVM without jhot's agent (the first
         command of all: attach, agent load, inventory, plan), one fresh JVM per run;
  warm   the same with the agent resident, several runs on one JVM;
  apply  `jhot deploy` of v1b then v1 (a one-method redefinition, then back), plan and apply;
  load   the target's request latency (GET /owners, a JPA + Thymeleaf page, one client at about
         50 requests/s) while nothing happens and while jhot plans over and over.
Targets (issue 10): plan <= 1 s warm, <= 1.5 s including the first agent load.

Writes bench/results/deploy-boot4-<YYYY-MM-DD>.md and .json. Loopback only; every wait has a
timeout; it stops only the JVMs it started, by pid.
"""

import argparse
import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from benchlib import cpu_model, write_result  # noqa: E402

JARS = REPO / "target/samples/takeover"
WARMUP = ["/", "/owners", "/owners/1", "/owners/new", "/vets", "/api/vets", "/api/owners/1", "/actuator/health"]


def log(msg):
    print(f"[boot4-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class App:
    def __init__(self, java, port, log_path):
        self.port = port
        self.out = open(log_path, "w")
        cmd = [java, "-Xmx512m", "-jar", str(JARS / "boot4-shop-v1.jar"), f"--port={port}"]
        self.popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT)
        self.pid = self.popen.pid
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if re.search(r"^READY ", Path(log_path).read_text(errors="replace"), re.M):
                break
            if self.popen.poll() is not None:
                raise RuntimeError(f"boot4-shop exited: {Path(log_path).read_text()[-2000:]}")
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("boot4-shop: no READY line within 120 s")
        for path in WARMUP:
            self.get(path)

    def get(self, path, timeout=10):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
            return r.read()

    def stop(self):
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self.out.close()


def deploy(jhot, pid, jar, dry_run):
    cmd = [jhot, "deploy", str(pid), str(jar), "--json"] + (["--dry-run"] if dry_run else [])
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
    wall = (time.monotonic() - t0) * 1000
    j = json.loads(r.stdout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stdout[:500]!r} {r.stderr[-500:]!r}")
    t = j["timings_ms"]
    return {"wall_ms": round(wall, 1), "plan_ms": t["plan"], "apply_ms": t["apply"], "decision": j["decision"],
            "counts": j["plan"]["counts"], "loaded": j["plan"]["loaded_classes"], "build": j["plan"]["build_classes"]}


def latencies(app, seconds, during=None):
    """GET /owners about 50 times a second for `seconds`; `during` runs meanwhile on this thread."""
    out, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            t0 = time.monotonic()
            app.get("/owners")
            out.append((time.monotonic() - t0) * 1000)
            time.sleep(max(0.0, 0.02 - (time.monotonic() - t0)))

    th = threading.Thread(target=client)
    th.start()
    end = time.monotonic() + seconds
    if during:
        while time.monotonic() < end:
            during()
    else:
        time.sleep(seconds)
    stop.set()
    th.join(timeout=30)
    out.sort()
    pct = lambda p: round(out[min(len(out) - 1, int(p * len(out)))], 1)
    return {"requests": len(out), "p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": round(out[-1], 1)}


def summary(xs):
    return {"median": round(statistics.median(xs), 1), "min": round(min(xs), 1), "max": round(max(xs), 1), "n": len(xs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jhot", default=str(REPO / "target/release/jhot"))
    ap.add_argument("--java", default="/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
    ap.add_argument("--cold", type=int, default=3, help="cold runs, one fresh JVM each (default 3)")
    ap.add_argument("--warm", type=int, default=10, help="warm runs (default 10)")
    ap.add_argument("--port", type=int, default=23481)
    ap.add_argument("--results", default=str(REPO / "bench/results"))
    args = ap.parse_args()
    for v in ("v1", "v1b"):
        if not (JARS / f"boot4-shop-{v}.jar").is_file():
            sys.exit(f"{JARS}/boot4-shop-{v}.jar is missing: run scripts/build-takeover-samples.sh")
    work = REPO / "target/bench/deploy-boot4"
    work.mkdir(parents=True, exist_ok=True)
    v1, v1b = JARS / "boot4-shop-v1.jar", JARS / "boot4-shop-v1b.jar"
    res = {"date": datetime.date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(),
           "java": subprocess.run([args.java, "-version"], capture_output=True, text=True).stderr.splitlines()[0],
           "cold": [], "warm": [], "apply": []}

    for i in range(args.cold):
        app = App(args.java, args.port, work / f"cold-{i}.log")
        try:
            r = deploy(args.jhot, app.pid, v1b, True)
            log(f"cold {i + 1}: plan {r['plan_ms']} ms, wall {r['wall_ms']} ms, {r['decision']}")
            res["cold"].append(r)
        finally:
            app.stop()

    app = App(args.java, args.port, work / "warm.log")
    try:
        deploy(args.jhot, app.pid, v1b, True)  # the agent is resident from here on
        for i in range(args.warm):
            r = deploy(args.jhot, app.pid, v1b, True)
            log(f"warm {i + 1}: plan {r['plan_ms']} ms, wall {r['wall_ms']} ms")
            res["warm"].append(r)
        for jar in (v1b, v1, v1b, v1):
            r = deploy(args.jhot, app.pid, jar, False)
            log(f"apply {jar.name}: {r['decision']} plan {r['plan_ms']} ms apply {r['apply_ms']} ms")
            res["apply"].append(r)
        latencies(app, 15)  # the page's own warm-up (JIT), not counted
        res["latency_idle"] = latencies(app, 15)
        res["latency_planning"] = latencies(app, 15, during=lambda: deploy(args.jhot, app.pid, v1b, True))
        log(f"latency idle {res['latency_idle']}, while planning {res['latency_planning']}")
    finally:
        app.stop()

    cold = summary([r["plan_ms"] for r in res["cold"]])
    warm = summary([r["plan_ms"] for r in res["warm"]])
    warm_wall = summary([r["wall_ms"] for r in res["warm"]])
    first = res["warm"][0] if res["warm"] else {}
    md = [f"# jhot deploy on the realistic sample (boot4-shop), {res['date']}", "",
          f"Machine: {res['cpu']}, {res['cores']} cores. JVM: {res['java']}, `-Xmx512m`. "
          f"{first.get('loaded', '?')} application classes loaded (after {len(WARMUP)} warm-up requests), "
          f"{first.get('build', '?')} classes in the 61 MB fat jar. Build deployed: `boot4-shop-v1b.jar` "
          "(one method body changed). Generated by `bench/deploy/boot4.py` (`make bench-deploy`).", "",
          "| measurement | runs | plan median ms | min | max | target |", "|---|---|---|---|---|---|",
          f"| cold: first command on a fresh JVM (attach, agent load, inventory, plan) | {cold['n']} | {cold['median']} | {cold['min']} | {cold['max']} | <= 1500 |",
          f"| warm: agent resident | {warm['n']} | {warm['median']} | {warm['min']} | {warm['max']} | <= 1000 |",
          f"| warm, whole command (wall clock) | {warm_wall['n']} | {warm_wall['median']} | {warm_wall['min']} | {warm_wall['max']} | |", "",
          "Deploys of v1b, v1, v1b, v1 (decision, plan + apply ms): " + ", ".join(f"{r['decision']} {r['plan_ms']} + {r['apply_ms']}" for r in res["apply"]), "",
          "The target's latency, GET /owners (JPA + Thymeleaf), one client at about 50 requests/s, 15 s each:", "",
          "| | requests | p50 ms | p90 ms | p99 ms | max ms |", "|---|---|---|---|---|---|"]
    for k, label in (("latency_idle", "nothing else running"), ("latency_planning", "jhot planning back to back")):
        l = res[k]
        md.append(f"| {label} | {l['requests']} | {l['p50']} | {l['p90']} | {l['p99']} | {l['max']} |")
    out = Path(args.results)
    write_result(out / f"deploy-boot4-{res['date']}.json", json.dumps(res, indent=1) + "\n")
    write_result(out / f"deploy-boot4-{res['date']}.md", "\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
