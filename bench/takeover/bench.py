#!/usr/bin/env python3
"""The takeover benchmark: how many requests fail while a running HTTP server is replaced by a
new version, with jhot and without.

For each sample x client mode x method it starts v1 of the sample, puts it under load with
jhot-loadgen, swaps it for v2 and counts every failed request (refused, reset, EOF, timeout,
non-2xx) and the latency around the swap.

The gRPC sample (samples/takeover/grpc) has its own client mode, `unary`: its load is the sample's
gRPC client (grpc-load.jar: grpc-java channels with unary calls in flight, no retry policy), and
every call that does not end OK counts as failed, by its gRPC status code. It listens on a port in
the kernel's ephemeral range, as gRPC servers do on 50051.

Methods:
  jhot-replace  v1 started plainly; `jhot replace PID --jar v2.jar --json` (unprepared JVM)
  jhot-run      v1 started as `jhot run --pid-file F -- java ...`; `jhot replace $(cat F) ...`
                (through the supervisor, with connection hand-over)
  naive         SIGTERM v1, wait for it to exit, start v2 (fresh bind)
  reuseport     v1 and v2 both under LD_PRELOAD=libjhot_shim.so JHOT_SHIM_REUSEPORT=1 (SO_REUSEPORT
                before bind); start v2 while v1 runs, wait for READY, SIGTERM v1

Writes bench/results/takeover-<date>.md, the raw JSON of every scenario under
bench/results/takeover/ and one SVG per scenario (bench/takeover/plot.py).

Loopback only. Every wait has a timeout. It stops only processes it started (by pid, after
checking the pid's command line still carries the scenario's port).
"""

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchlib import cpu_model, proc_alive, proc_cmdline, write_result  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
JAVA17 = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
# samples/takeover (README.md there): the three jhot knows by name, a home-grown one it knows
# nothing about, the four HTTP servers of issue 12, and gRPC
SAMPLES = ["jdk-httpserver", "spring-boot", "netty-epoll", "plain-socket", "jetty12", "undertow", "vertx5", "micronaut4", "grpc"]
MODES = ["keep-alive", "close", "unary"]
# Samples whose load is the gRPC client, and the modes that client has.
GRPC_SAMPLES = {"grpc"}
GRPC_MODES = {"unary"}
METHODS = ["jhot-replace", "jhot-run", "naive", "reuseport"]
JVM_FLAGS = ["-Xmx256m", "-Dsun.net.httpserver.nodelay=true"]


def log(msg):
    print(f"[takeover-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def now_ms():
    return int(time.time() * 1000)


class ScenarioError(Exception):
    pass


# ---- processes --------------------------------------------------------------------------------


class Procs:
    """The processes one scenario started (directly, or through jhot): stopped by pid only, and
    only while their command line still carries the scenario's marker (its port)."""

    def __init__(self, marker):
        self.marker = marker
        self.items = []  # (pid, Popen or None, label)

    def add(self, pid, popen, label):
        if pid and all(p != pid for p, _, _ in self.items):
            self.items.append((pid, popen, label))

    def ours(self, pid, popen):
        if popen is not None:
            return popen.poll() is None
        return proc_alive(pid) and self.marker in proc_cmdline(pid)

    def reap(self):
        for _, popen, _ in self.items:
            if popen is not None:
                popen.poll()

    def signal(self, pid, popen, sig):
        if self.ours(pid, popen):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def wait_gone(self, pid, popen, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if popen is not None:
                if popen.poll() is not None:
                    return True
            elif not proc_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def stop_all(self, grace=20.0):
        """SIGTERM everything still running (newest first), then SIGKILL after `grace` s."""
        for pid, popen, _ in reversed(self.items):
            self.signal(pid, popen, signal.SIGTERM)
        end = time.monotonic() + grace
        for pid, popen, label in reversed(self.items):
            if not self.wait_gone(pid, popen, max(0.1, end - time.monotonic())):
                log(f"  {label} (pid {pid}) still running after SIGTERM: SIGKILL")
                self.signal(pid, popen, signal.SIGKILL)
                self.wait_gone(pid, popen, 5)
        self.reap()


CURRENT = []  # the Procs of the running scenario, for the signal handler


def on_signal(signum, _frame):
    log(f"signal {signum}: stopping what this run started")
    for p in CURRENT:
        p.stop_all(grace=5)
    sys.exit(130)


def spawn(cmd, out, err, env=None, cwd=None):
    """Starts cmd with stdout/stderr appended to files (O_APPEND: a new JVM that inherits or
    reopens them does not overwrite)."""
    fo = open(out, "ab")
    fe = fo if err == out else open(err, "ab")
    try:
        return subprocess.Popen(
            [str(c) for c in cmd],
            stdin=subprocess.DEVNULL,
            stdout=fo,
            stderr=fe,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        fo.close()
        if fe is not fo:
            fe.close()


def wait_line(path, pred, timeout, popen=None, what="line"):
    """Polls a log file until a line satisfies pred; returns (line, unix ms)."""
    end = time.monotonic() + timeout
    while True:
        try:
            with open(path, "r", errors="replace") as f:
                for line in f:
                    if pred(line):
                        return line.strip(), now_ms()
        except FileNotFoundError:
            pass
        if popen is not None and popen.poll() is not None:
            raise ScenarioError(f"{what}: process exited with {popen.returncode} first (see {path.name})")
        if time.monotonic() > end:
            raise ScenarioError(f"{what}: not seen within {timeout:.0f} s (see {path.name})")
        time.sleep(0.02)


def ready_pred(version, port):
    def pred(line):
        return line.startswith("READY ") and f"version={version}" in line and f"port={port}" in line

    return pred


def ready_pid(line):
    for tok in line.split():
        if tok.startswith("pid="):
            try:
                return int(tok[4:])
            except ValueError:
                return None
    return None


def free_port():
    """A free loopback port below the ephemeral range (jhot hands over listeners outside it, and
    the load generator's own connections never collide with it)."""
    lo = 32768
    try:
        lo = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        port = random.randint(max(1025, lo - 12000), lo - 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise ScenarioError("no free port")


def free_ephemeral_port():
    """A free port inside the kernel's ephemeral range (where gRPC's 50051 is): 50051 when it is
    free on both wildcards, else one the kernel picks."""
    lo, hi = 32768, 60999
    try:
        lo, hi = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2])
    except (OSError, ValueError):
        pass

    def free(port):
        for fam, addr in ((socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            try:
                s.bind((addr, port))
                return True
            except OSError:
                continue
            finally:
                s.close()
        return False

    if lo <= 50051 <= hi and free(50051):
        return 50051
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("0.0.0.0", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if lo <= port <= hi:
            return port
    raise ScenarioError("no free port in the ephemeral range")


def valid_pairs(args):
    """(sample, mode) pairs that make sense: gRPC samples with gRPC modes, HTTP samples with HTTP ones."""
    return [
        (s, m) for s in args.samples for m in args.modes if (s in GRPC_SAMPLES) == (m in GRPC_MODES)
    ]


def port_listening(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ---- setup ------------------------------------------------------------------------------------


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def cargo_build(pkg, timeout):
    # jhot as `make install` builds it (linked statically); the others as cargo does.
    cmd = ["cargo", "build-jhot"] if pkg == "jhot" else ["cargo", "build", "--release", "--locked", "-p", pkg]
    log(" ".join(cmd))
    try:
        r = subprocess.run(
            cmd,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"cargo build -p {pkg}: {e}"
    if r.returncode != 0:
        tail = r.stdout.decode(errors="replace").strip().splitlines()[-5:]
        return f"cargo build -p {pkg} failed: " + " / ".join(tail)
    return None


def run_text(cmd, timeout=20):
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return (r.stdout + r.stderr).decode(errors="replace").strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"({e})"


def machine_info(java):
    cpu = cpu_model()
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    commit = run_text(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = run_text(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "os": run_text(["sh", "-c", ". /etc/os-release 2>/dev/null && echo $PRETTY_NAME"]),
        "java": java,
        "java_version": run_text([java, "-version"]).splitlines()[:2],
        "tcp_migrate_req": read_migrate_req(),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def read_migrate_req():
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_migrate_req").read_text().strip())
    except (OSError, ValueError):
        return None


# ---- one scenario -----------------------------------------------------------------------------


def scenario_name(sample, mode, method):
    return f"{sample}-{mode}-{method}"


def java_cmd(args, jar, port):
    return [args.java, *JVM_FLAGS, "-jar", str(jar), f"--port={port}", "--bind=127.0.0.1"]


def run_jhot_replace(args, pid, jar, d, tag):
    """`jhot replace PID --jar JAR --json`; returns its parsed JSON."""
    out, err = d / f"replace-{tag}.json", d / f"replace-{tag}.err"
    cmd = [args.jhot, "replace", str(pid), "--jar", str(jar), "--json"]
    try:
        with open(out, "wb") as fo, open(err, "wb") as fe:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, timeout=args.replace_timeout)
    except subprocess.TimeoutExpired:
        raise ScenarioError(f"jhot replace did not finish within {args.replace_timeout} s") from None
    except OSError as e:
        raise ScenarioError(f"jhot replace: {e}") from None
    text = out.read_text(errors="replace").strip()
    report = None
    if text:
        try:
            report = json.loads(text)
        except json.JSONDecodeError:
            # one object expected; tolerate extra lines by taking the last JSON line
            for line in reversed(text.splitlines()):
                try:
                    report = json.loads(line)
                    break
                except json.JSONDecodeError:
                    continue
    if r.returncode != 0:
        msg = err.read_text(errors="replace").strip().splitlines()[-3:]
        raise ScenarioError(f"jhot replace exited {r.returncode}: {' / '.join(msg)}")
    if not isinstance(report, dict) or "new_pid" not in report:
        raise ScenarioError("jhot replace printed no JSON with new_pid")
    return report


def swap(args, sc, st):
    """Does the swap of one method. `st` holds the scenario state (procs, pids, events)."""
    method, port, d, procs, ev = sc["method"], st["port"], st["dir"], st["procs"], st["events"]
    v2 = st["jar_v2"]
    if method in ("jhot-replace", "jhot-run"):
        pid = st["app_pid"]
        if method == "jhot-run":
            try:
                pid = int(Path(st["pid_file"]).read_text().strip())
            except (OSError, ValueError) as e:
                raise ScenarioError(f"pid file: {e}") from None
        rep = run_jhot_replace(args, pid, v2, d, "1")
        st["jhot"] = rep
        new_pid = rep.get("new_pid")
        if isinstance(new_pid, int):
            procs.add(new_pid, None, "v2 (started by jhot)")
            st["new_pid"] = new_pid
        ev["jhot_replace_done"] = now_ms()
    elif method == "naive":
        old = st["old_popen"]
        old.send_signal(signal.SIGTERM)
        ev["old_sigterm"] = now_ms()
        try:
            old.wait(timeout=args.drain_timeout)
        except subprocess.TimeoutExpired:
            old.kill()
            old.wait(timeout=10)
            ev["old_killed"] = now_ms()
        ev["old_exited"] = now_ms()
        st["old_rc"] = old.returncode
        new = spawn(java_cmd(args, v2, port), d / "v2.log", d / "v2.log")
        procs.add(new.pid, new, "v2")
        ev["new_spawned"] = now_ms()
        line, t = wait_line(d / "v2.log", ready_pred("v2", port), args.ready_timeout, new, "v2 READY")
        ev["new_ready"] = t
        st["new_pid"] = new.pid
    elif method == "reuseport":
        env = dict(os.environ, LD_PRELOAD=str(args.shim), JHOT_SHIM_REUSEPORT="1")
        new = spawn(java_cmd(args, v2, port), d / "v2.log", d / "v2.log", env=env)
        procs.add(new.pid, new, "v2")
        ev["new_spawned"] = now_ms()
        line, t = wait_line(d / "v2.log", ready_pred("v2", port), args.ready_timeout, new, "v2 READY")
        ev["new_ready"] = t
        st["new_pid"] = new.pid
        old = st["old_popen"]
        old.send_signal(signal.SIGTERM)
        ev["old_sigterm"] = now_ms()
        try:
            old.wait(timeout=args.drain_timeout)
        except subprocess.TimeoutExpired:
            old.kill()
            old.wait(timeout=10)
            ev["old_killed"] = now_ms()
        ev["old_exited"] = now_ms()
        st["old_rc"] = old.returncode
    else:
        raise ScenarioError(f"unknown method {method}")


def start_old(args, sc, st):
    method, port, d, procs = sc["method"], st["port"], st["dir"], st["procs"]
    v1 = st["jar_v1"]
    env = None
    if method == "reuseport":
        env = dict(os.environ, LD_PRELOAD=str(args.shim), JHOT_SHIM_REUSEPORT="1")
    if method == "jhot-run":
        st["pid_file"] = d / "app.pid"
        cmd = [args.jhot, "run", "--pid-file", st["pid_file"], "--", *java_cmd(args, v1, port)]
        p = spawn(cmd, d / "v1.log", d / "jhot-run.err")
        procs.add(p.pid, p, "jhot run")
    else:
        p = spawn(java_cmd(args, v1, port), d / "v1.log", d / "v1.log", env=env)
        procs.add(p.pid, p, "v1")
    st["old_popen"] = p
    st["events"]["old_spawned"] = now_ms()
    line, t = wait_line(d / "v1.log", ready_pred("v1", port), args.ready_timeout, p, "v1 READY")
    st["events"]["old_ready"] = t
    app_pid = ready_pid(line) or p.pid
    st["app_pid"] = app_pid
    if method == "jhot-run":
        procs.add(app_pid, None, "v1 (under jhot run)")
        end = time.monotonic() + 10
        while not Path(st["pid_file"]).exists():
            if time.monotonic() > end:
                raise ScenarioError("jhot run wrote no --pid-file within 10 s")
            time.sleep(0.02)


def loadgen_cmd(args, sc, st):
    d = st["dir"]
    if sc["sample"] in GRPC_SAMPLES:
        return [
            args.java, "-Xmx256m", "-jar", args.samples_dir / "grpc-load.jar",
            f"--target=127.0.0.1:{st['port']}",
            f"--channels={args.grpc_channels}",
            f"--concurrency={args.grpc_concurrency}",
            f"--duration-ms={int(min(args.loadgen_cap, 600) * 1000)}",
            "--deadline-ms=5000",
            f"--bucket-ms={args.bucket_ms}",
            f"--stop-file={d / 'stop'}",
            f"--window-file={d / 'window'}",
            f"--json-out={d / 'loadgen.json'}",
            "--method=say",
        ]
    cmd = [
        args.loadgen,
        "--url", f"http://127.0.0.1:{st['port']}/",
        "-c", str(args.connections),
        "--duration", f"{args.loadgen_cap}s",
        "--timeout", "5s",
        "--bucket-ms", str(args.bucket_ms),
        "--stop-file", d / "stop",
        "--window-file", d / "window",
        "--json-out", d / "loadgen.json",
        "--threads", str(args.loadgen_threads),
        "--mode", sc["mode"],
    ]
    if args.rate > 0:
        cmd += ["--rate", str(args.rate)]
    return cmd


def bench_settings(args):
    return {
        "connections": args.connections,
        "rate": args.rate,
        "grpc_channels": args.grpc_channels,
        "grpc_concurrency": args.grpc_concurrency,
        "pre_s": args.pre,
        "post_s": args.post,
        "bucket_ms": args.bucket_ms,
        "jvm_flags": JVM_FLAGS,
        "command": " ".join(args.argv_echo),
        "date": datetime.date.today().isoformat(),
    }


def run_scenario(args, sc):
    """Runs one scenario; returns its result record (never raises)."""
    name = scenario_name(sc["sample"], sc["mode"], sc["method"])
    d = args.work / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    res = {"scenario": name, **sc, "status": "ok", "error": None, "notes": [], "bench": bench_settings(args)}
    try:
        port = free_ephemeral_port() if sc["sample"] in GRPC_SAMPLES else free_port()
    except ScenarioError as e:
        res.update(status="failed", error=str(e))
        return res
    procs = Procs(f"--port={port}")
    CURRENT[:] = [procs]
    ev = {}
    st = {
        "port": port,
        "dir": d,
        "procs": procs,
        "events": ev,
        "jar_v1": args.samples_dir / f"{sc['sample']}-v1.jar",
        "jar_v2": args.samples_dir / f"{sc['sample']}-v2.jar",
    }
    res["port"] = port
    lg = None
    try:
        for j in (st["jar_v1"], st["jar_v2"]):
            if not j.is_file():
                raise ScenarioError(f"missing {j}")
        start_old(args, sc, st)
        lg = spawn(loadgen_cmd(args, sc, st), d / "loadgen.out", d / "loadgen.err")
        procs.add(lg.pid, lg, "loadgen")
        ev["loadgen_spawned"] = now_ms()
        started = "GRPC-LOAD started" if sc["sample"] in GRPC_SAMPLES else "LOADGEN started"
        _, t = wait_line(d / "loadgen.err", lambda l: l.startswith(started), 30, lg, started)
        ev["loadgen_started"] = t
        time.sleep(args.pre)
        ev["swap_start"] = now_ms()
        try:
            swap(args, sc, st)
        finally:
            ev["swap_end"] = now_ms()
            (d / "window").write_text(f"{ev['swap_start'] - 250} {ev['swap_end'] + 1000}\n")
        time.sleep(args.post)
    except ScenarioError as e:
        res.update(status="failed", error=str(e))
        log(f"  FAILED: {e}")
    except Exception as e:  # noqa: BLE001 - one scenario must not stop the others
        res.update(status="failed", error=f"{type(e).__name__}: {e}")
        log(f"  FAILED: {type(e).__name__}: {e}")
    finally:
        # stop the load, then everything else
        if lg is not None:
            (d / "stop").write_text("")
            ev["stop_requested"] = now_ms()
            try:
                lg.wait(timeout=20)
            except subprocess.TimeoutExpired:
                res["notes"].append("loadgen did not stop on the stop file: SIGTERM")
                lg.send_signal(signal.SIGTERM)
                try:
                    lg.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    lg.kill()
                    lg.wait(timeout=5)
        old_pid = st.get("app_pid")
        if old_pid and sc["method"] in ("jhot-replace", "jhot-run") and "jhot" in st:
            res["old_exited_after_swap"] = not (proc_alive(old_pid) and f"--port={port}" in proc_cmdline(old_pid))
        procs.stop_all(grace=args.drain_timeout)
        CURRENT[:] = []
        if port_listening(port):
            res["notes"].append(f"port {port} still accepting after cleanup (a process not started here?)")

    # results
    res["events"] = ev
    res["jhot"] = st.get("jhot")
    if st.get("old_rc") is not None:
        res["old_exit_code"] = st["old_rc"]
    report = None
    try:
        report = json.loads((d / "loadgen.json").read_text())
    except (OSError, json.JSONDecodeError):
        if lg is not None:
            res["notes"].append("no loadgen report")
    res["loadgen"] = report
    if report is not None and res["status"] == "ok":
        gens = report.get("gens", {})
        if not gens.get("v2"):
            res.update(status="failed", error="no response from v2 after the swap")
        if res.get("old_exited_after_swap") is False:
            res["notes"].append("old process still running after the swap")
    return res


# ---- results ----------------------------------------------------------------------------------


def summary(res):
    """The numbers of one scenario for the table."""
    r = res.get("loadgen") or {}
    w = r.get("window") or {}
    ev = res.get("events") or {}
    lat = w.get("latency_ms") or {}
    grpc = "failed_by_code" in r  # the gRPC client: HTTP failure classes do not apply
    s = {
        "ok": r.get("ok"),
        "failed": r.get("failed"),
        "refused": r.get("refused"),
        "resets": (r.get("reset_fresh") or 0) + (r.get("reset_reused") or 0) if r and not grpc else None,
        "eofs": (r.get("eof_fresh") or 0) + (r.get("eof_reused") or 0) if r and not grpc else None,
        "timeouts": r.get("timeout"),
        "non2xx": r.get("non2xx"),
        "other": (r.get("other") or 0) + (r.get("connect_other") or 0) if r and not grpc else None,
        "rps": r.get("rps"),
        "swap_ms": ev["swap_end"] - ev["swap_start"] if "swap_end" in ev and "swap_start" in ev else None,
        "w_p50": lat.get("p50"),
        "w_p99": lat.get("p99"),
        "w_max": lat.get("max"),
        "w_failed": w.get("failed"),
        "gens": r.get("gens"),
        "idle_closed": r.get("idle_closed"),
        "failed_by_code": r.get("failed_by_code"),
    }
    j = res.get("jhot") or {}
    if j:
        s["jhot_total_ms"] = (j.get("timings_ms") or {}).get("total_ms")
        s["jhot_overhead_ms"] = (j.get("timings_ms") or {}).get("overhead_ms")
        s["handed_over"] = (j.get("drain") or {}).get("handed_over")
        s["drain"] = (j.get("drain") or {}).get("outcome")
    return s


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        if v >= 100:
            return f"{v:.0f}"
        return f"{v:.{digits}f}" if v >= 1 else f"{v:.2f}"
    return str(v)


def slim(res):
    """The raw JSON we keep: everything but bulky or per-request data (the loadgen report is
    already bucketed)."""
    out = {k: v for k, v in res.items() if k != "loadgen"}
    r = res.get("loadgen")
    if r is not None:
        r = dict(r)
        r["error_samples"] = (r.get("error_samples") or [])[:5]
        out["loadgen"] = r
    return out


def write_markdown(args, info, results, path, svg_names):
    stored = next((r["bench"] for r in results if r.get("bench")), None) or bench_settings(args)
    L = []
    L.append(f"# Takeover benchmark, {info['date']}")
    L.append("")
    L.append(
        "Failed requests while a loaded HTTP server is replaced by a new version (v1 → v2), per sample, "
        "client mode and method. Measured with `jhot-loadgen` (tests/loadgen): every failure class counted "
        "apart. `failed` = refused + resets + EOFs + timeouts + other; non-2xx answers are counted apart. "
        "The gRPC sample (mode `unary`) is measured with its gRPC client instead (grpc-load.jar): `failed` = "
        "calls that did not end OK, by status code. Goal for jhot: 0 failed and 0 non-2xx."
    )
    L.append("")
    L.append("## Summary")
    L.append("")
    L.append("| method | scenarios run | with 0 failed and 0 non-2xx | failed, all scenarios | non-2xx | old process killed at the drain deadline |")
    L.append("|---|---|---|---|---|---|")
    for m in args.methods:
        rows = [r for r in results if r["method"] == m and r.get("loadgen") and r["status"] == "ok"]
        if not rows:
            bad = [r for r in results if r["method"] == m]
            why = bad[0].get("error") if bad else None
            L.append(f"| {m} | 0 | – | – | – | {('not run: ' + why) if why else '–'} |")
            continue
        clean = sum(1 for r in rows if r["loadgen"]["failed"] == 0 and r["loadgen"]["non2xx"] == 0)
        failed = sum(r["loadgen"]["failed"] for r in rows)
        non2xx = sum(r["loadgen"]["non2xx"] for r in rows)
        killed = sum(1 for r in rows if ((r.get("jhot") or {}).get("drain") or {}).get("outcome") == "killed")
        nfail = sum(1 for r in results if r["method"] == m and r["status"] != "ok")
        extra = f" (+{nfail} failed/skipped)" if nfail else ""
        L.append(f"| {m} | {len(rows)}{extra} | {clean} | {failed} | {non2xx} | {killed if m.startswith('jhot') else '–'} |")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append(f"- CPU: {info['cpu']}, {info['cores']} cores (shared with other work); memory {info['memory']}")
    L.append(f"- Kernel: {info['kernel']} ({info['os']})")
    L.append(f"- JDK: {'; '.join(info['java_version'])} (`{info['java']}`), flags `{' '.join(stored['jvm_flags'])}`")
    mr = info["tcp_migrate_req"]
    if mr == 0:
        L.append(
            "- `net.ipv4.tcp_migrate_req = 0` (the default): with SO_REUSEPORT, connections still in the "
            "closing listener's accept queue are reset, not moved. The reuseport rows ran with it."
        )
    else:
        L.append(
            f"- `net.ipv4.tcp_migrate_req = {mr}` on this host: the reuseport scenarios ran in a private network "
            "namespace (`unshare -n`, `ip link set lo up`), where it is 0."
        )
    L.append(f"- jhot: commit {info['commit']}")
    rate = stored["rate"]
    L.append(
        f"- Load: {stored['connections']} connections, "
        + (f"{rate:g} requests/s in total (open schedule)" if rate > 0 else "closed loop (no rate cap)")
        + f", `GET /`, 5 s timeout; swap {stored['pre_s']:g} s after every connection had an answer, load "
        f"stopped {stored['post_s']:g} s after the swap. Timeline buckets of {stored['bucket_ms']} ms."
    )
    if any(s in GRPC_SAMPLES for s in args.samples):
        L.append(
            f"- gRPC load (sample grpc, mode unary): {stored.get('grpc_channels')} channels (one HTTP/2 connection "
            f"each) × {stored.get('grpc_concurrency')} `jhot.Hello/Say` calls in flight, closed loop, 5 s deadline, "
            "no retry policy (grpc-java's transparent retry only), 10 ms pause after a failed call."
        )
    L.append(
        "- Window columns: the buckets from 250 ms before the swap started to 1 s after it ended "
        "(latency over the requests that *started* in them)."
    )
    L.append("")
    L.append("Methods:")
    L.append("")
    L.append("- **jhot-replace**: v1 started plainly (`java … -jar v1.jar --port=P`), then `jhot replace PID --jar v2.jar --json`.")
    L.append("- **jhot-run**: v1 started as `jhot run --pid-file F -- java …`, then `jhot replace $(cat F) --jar v2.jar --json` (supervisor, connection hand-over).")
    L.append("- **naive**: SIGTERM v1, wait for it to exit, start v2 (fresh bind); swap ends when v2 prints READY.")
    L.append("- **reuseport**: v1 and v2 under `LD_PRELOAD=libjhot_shim.so JHOT_SHIM_REUSEPORT=1` (SO_REUSEPORT before bind); v2 started while v1 runs, SIGTERM v1 once v2 is READY; swap ends when v1 has exited.")
    L.append("")
    L.append(
        "Columns: *swap ms* from the start of the swap to its end (for jhot: `jhot replace` running); "
        "*jhot ms* jhot's own `timings_ms.total_ms`; *overhead ms* jhot's share of the swap, from the new process accepting on its last listener to the old one being told to drain (`timings_ms.overhead_ms`; target ≤ 20 ms); *drain* how the old process ended (jhot's `drain.outcome`: `exited`, or `killed` at the drain deadline); *handed* connections handed over (jhot-run); "
        "*idle* keep-alive connections the server closed between two requests, noticed by the client before it "
        "wrote the next request and reopened, as pooled clients (Go, OkHttp, hyper) do: not failures. A client that "
        "writes on a pooled connection without checking it (the research prototype's blocking client) would fail "
        "one request for each of these."
    )
    L.append("")
    for sample in args.samples:
        for mode in args.modes:
            rows = [r for r in results if r["sample"] == sample and r["mode"] == mode]
            if not rows:
                continue
            L.append(f"## {sample}, {mode}")
            L.append("")
            L.append(
                "| method | status | failed | refused | resets | EOFs | timeouts | non2xx | ok | rps | swap ms | jhot ms | overhead ms | "
                "drain | window p50 ms | p99 ms | max ms | window failed | handed | idle | answers by gen |"
            )
            L.append("|" + "---|" * 21)
            for r in rows:
                s = summary(r)
                status = r["status"] if r["status"] == "ok" else f"**{r['status']}**"
                gens = ", ".join(f"{k} {v}" for k, v in (s["gens"] or {}).items()) or "–"
                L.append(
                    "| "
                    + " | ".join(
                        [
                            r["method"],
                            status,
                            f"**{fmt(s['failed'])}**",
                            fmt(s["refused"]),
                            fmt(s["resets"]),
                            fmt(s["eofs"]),
                            fmt(s["timeouts"]),
                            fmt(s["non2xx"]),
                            fmt(s["ok"]),
                            fmt(s["rps"]),
                            fmt(s["swap_ms"]),
                            fmt(s.get("jhot_total_ms")),
                            fmt(s.get("jhot_overhead_ms"), 2),
                            fmt(s.get("drain")),
                            fmt(s["w_p50"], 2),
                            fmt(s["w_p99"], 2),
                            fmt(s["w_max"], 2),
                            fmt(s["w_failed"]),
                            fmt(s.get("handed_over")),
                            fmt(s["idle_closed"]),
                            gens,
                        ]
                    )
                    + " |"
                )
            if sample in GRPC_SAMPLES:
                L.append("")
                L.append(
                    "gRPC calls (`jhot.Hello/Say`, closed loop): *failed* counts every call that did not end OK; "
                    "refused/resets/EOFs do not apply (see the status codes)."
                )
                for r in rows:
                    codes = summary(r).get("failed_by_code")
                    if codes:
                        L.append(f"- {r['method']}: failed calls by status code: " + ", ".join(f"{k} {v}" for k, v in codes.items()))
            notes = [r for r in rows if r.get("error") or r.get("notes")]
            if notes:
                L.append("")
                for r in notes:
                    parts = ([r["error"]] if r.get("error") else []) + r.get("notes", [])
                    L.append(f"- {r['method']}: " + "; ".join(parts))
            L.append("")
    L.append("## Plots")
    L.append("")
    L.append(
        "Latency per bucket (p50, p99, max; log scale) against time, failed requests per bucket in red below, "
        "the swap shaded. One SVG per scenario:"
    )
    L.append("")
    L.append("| sample | mode | " + " | ".join(args.methods) + " |")
    L.append("|---|---|" + "---|" * len(args.methods))
    for sample, mode in valid_pairs(args):
        cells = []
        for m in args.methods:
            n = scenario_name(sample, mode, m)
            cells.append(f"[svg](takeover/{n}.svg)" if n in svg_names else "–")
        L.append(f"| {sample} | {mode} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("## Reproduce")
    L.append("")
    L.append("```")
    L.append("bash bench/takeover/run.sh                 # everything (builds jhot, the shim, the loadgen and the samples)")
    L.append("bash bench/takeover/run.sh --samples jdk-httpserver --methods naive,jhot-run --modes keep-alive")
    L.append("bash bench/takeover/run.sh --rate 0         # closed loop instead of a fixed rate")
    L.append("python3 bench/takeover/plot.py bench/results/takeover/*.json   # redraw the SVGs")
    L.append("```")
    L.append("")
    L.append(
        "Raw data: `bench/results/takeover/<sample>-<mode>-<method>.json` (the loadgen report with its "
        "bucketed timeline and the swap window, the swap's event times in unix ms, jhot's JSON)."
    )
    L.append("")
    L.append(f"Command: `{stored['command']}`")
    L.append("")
    write_result(path, "\n".join(L))


# ---- main -------------------------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", default=",".join(SAMPLES))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rate", type=float, default=4000, help="total requests/s; 0 = closed loop (default 4000)")
    ap.add_argument("--pre", type=float, default=2.0, help="seconds of load before the swap (after LOADGEN started)")
    ap.add_argument("--post", type=float, default=3.0, help="seconds of load after the swap")
    ap.add_argument("--bucket-ms", type=int, default=50)
    ap.add_argument("--grpc-channels", type=int, default=4, help="gRPC load: channels (one connection each)")
    ap.add_argument("--grpc-concurrency", type=int, default=8, help="gRPC load: calls in flight per channel")
    ap.add_argument("--ready-timeout", type=float, default=90, help="seconds for a sample to print READY")
    ap.add_argument("--drain-timeout", type=float, default=30, help="seconds for an old process to exit")
    ap.add_argument("--replace-timeout", type=float, default=150, help="seconds for `jhot replace`")
    ap.add_argument("--budget", type=float, default=4200, help="seconds for the whole run; later scenarios are skipped")
    ap.add_argument("--no-build", action="store_true", help="use the existing binaries and jars")
    ap.add_argument("--java", default=JAVA17)
    ap.add_argument("--jhot", type=Path, default=None, help="default: <target>/release/jhot")
    ap.add_argument("--shim", type=Path, default=None, help="default: <target>/release/libjhot_shim.so")
    ap.add_argument("--loadgen", type=Path, default=None, help="default: <target>/release/jhot-loadgen")
    ap.add_argument("--loadgen-threads", type=int, default=1)
    ap.add_argument("--samples-dir", type=Path, default=REPO / "target/samples/takeover")
    ap.add_argument("--results", type=Path, default=REPO / "bench/results")
    ap.add_argument("--work", type=Path, default=REPO / "target/bench-takeover")
    ap.add_argument("--netns", action="store_true",
                    help="run every scenario in a private network namespace (unshare -n; needs root). "
                    "Reuseport scenarios do so anyway when the host has tcp_migrate_req != 0")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: rewrite the markdown and the SVGs from the raw JSONs of the last run")
    ap.add_argument("--internal-scenario", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.samples = [s for s in args.samples.split(",") if s]
    args.modes = [s for s in args.modes.split(",") if s]
    args.methods = [s for s in args.methods.split(",") if s]
    for lst, allowed, what in ((args.samples, SAMPLES, "sample"), (args.modes, MODES, "mode"), (args.methods, METHODS, "method")):
        for x in lst:
            if x not in allowed:
                ap.error(f"unknown {what} {x!r} (one of {', '.join(allowed)})")
    tgt = target_dir()
    args.jhot = args.jhot or tgt / "release/jhot"
    args.shim = args.shim or tgt / "release/libjhot_shim.so"
    args.loadgen = args.loadgen or tgt / "release/jhot-loadgen"
    args.loadgen_cap = 60 + args.pre + args.post + args.ready_timeout + args.replace_timeout
    args.argv_echo = ["bench/takeover/run.sh", *sys.argv[1:]]
    return args


def scenario_in_netns(args, sc):
    """Runs one scenario in a private network namespace (for reuseport when the host has
    tcp_migrate_req != 0), via this script's --internal-scenario mode."""
    name = scenario_name(sc["sample"], sc["mode"], sc["method"])
    spec = args.work / f"{name}.spec.json"
    out = args.work / f"{name}.result.json"
    out.unlink(missing_ok=True)
    spec.write_text(json.dumps({"scenario": sc, "out": str(out)}))
    inner = [sys.executable, str(Path(__file__).resolve()), "--internal-scenario", str(spec), *sys.argv[1:]]
    inner = [a for a in inner if a != "--no-build"] + ["--no-build"]
    script = "ip link set lo up && exec " + " ".join(shlex_quote(a) for a in inner)
    try:
        r = subprocess.run(
            ["unshare", "-n", "sh", "-c", script], stdin=subprocess.DEVNULL, timeout=args.loadgen_cap + 120
        )
        if r.returncode == 0 and out.exists():
            return json.loads(out.read_text())
        err = f"unshare -n run exited {r.returncode}"
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
        err = f"unshare -n: {e}"
    return {"scenario": name, **sc, "status": "failed", "error": err, "notes": [], "events": {}}


def shlex_quote(s):
    import shlex

    return shlex.quote(str(s))


def main():
    args = parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    args.work.mkdir(parents=True, exist_ok=True)

    if args.internal_scenario:
        spec = json.loads(args.internal_scenario.read_text())
        res = run_scenario(args, spec["scenario"])
        res["notes"].append("ran in a private network namespace (unshare -n)")
        Path(spec["out"]).write_text(json.dumps(res))
        return 0

    if args.report_only:
        raw_dir = args.results / "takeover"
        results = []
        for sc in ({"sample": a, "mode": b, "method": c} for a, b in valid_pairs(args) for c in args.methods):
            f = raw_dir / f"{scenario_name(sc['sample'], sc['mode'], sc['method'])}.json"
            if f.exists():
                results.append(json.loads(f.read_text()))
        if not results:
            log(f"no raw results in {raw_dir}")
            return 1
        finish(args, machine_info(args.java), results, raw_dir)
        return 0

    t_start = time.monotonic()
    skip = {}  # method -> reason
    if not args.no_build:
        err = cargo_build("jhot-loadgen", 900)
        if err:
            log(err)
            return 1
        log("bash scripts/build-takeover-samples.sh")
        r = subprocess.run(["bash", "scripts/build-takeover-samples.sh", str(args.samples_dir)], cwd=REPO, stdin=subprocess.DEVNULL, timeout=1800)
        if r.returncode != 0:
            log("building the samples failed; scenarios with missing jars will be recorded as failed")
        if {"jhot-replace", "jhot-run"} & set(args.methods):
            err = cargo_build("jhot", 1800)
            if err:
                skip["jhot-replace"] = skip["jhot-run"] = err
        if "reuseport" in args.methods:
            err = cargo_build("jhot-shim", 900)
            if err:
                skip["reuseport"] = err
    http = any(s not in GRPC_SAMPLES for s, _ in valid_pairs(args))
    if http and not args.loadgen.is_file():
        log(f"no load generator at {args.loadgen} (build it: cargo build --release --locked -p jhot-loadgen)")
        return 1
    if not Path(args.java).is_file():
        log(f"no JDK 17 at {args.java}")
        return 1
    for m in ("jhot-replace", "jhot-run"):
        if m in args.methods and m not in skip and not args.jhot.is_file():
            skip[m] = f"no jhot binary at {args.jhot}"
    if "reuseport" in args.methods and "reuseport" not in skip and not args.shim.is_file():
        skip["reuseport"] = f"no shim at {args.shim}"

    info = machine_info(args.java)
    log(f"kernel {info['kernel']}, {info['cores']} cores, tcp_migrate_req={info['tcp_migrate_req']}")
    raw_dir = args.results / "takeover"
    raw_dir.mkdir(parents=True, exist_ok=True)

    results = []
    scenarios = [{"sample": s, "mode": m, "method": k} for s, m in valid_pairs(args) for k in args.methods]
    for i, sc in enumerate(scenarios, 1):
        name = scenario_name(sc["sample"], sc["mode"], sc["method"])
        if sc["method"] in skip:
            results.append({"scenario": name, **sc, "status": "skipped", "error": skip[sc["method"]], "notes": []})
            log(f"[{i}/{len(scenarios)}] {name}: skipped ({skip[sc['method']]})")
            continue
        if time.monotonic() - t_start > args.budget:
            results.append({"scenario": name, **sc, "status": "skipped", "error": "time budget used up", "notes": []})
            log(f"[{i}/{len(scenarios)}] {name}: skipped (budget)")
            continue
        log(f"[{i}/{len(scenarios)}] {name}")
        if args.netns or (sc["method"] == "reuseport" and info["tcp_migrate_req"] not in (0, None)):
            res = scenario_in_netns(args, sc)
        else:
            res = run_scenario(args, sc)
        s = summary(res)
        log(
            f"  {res['status']}: failed={s['failed']} refused={s['refused']} resets={s['resets']} eofs={s['eofs']} "
            f"timeouts={s['timeouts']} non2xx={s['non2xx']} ok={s['ok']} swap_ms={s['swap_ms']} gens={s['gens']}"
        )
        results.append(res)
        write_result(raw_dir / f"{name}.json", json.dumps(slim(res), separators=(",", ":")) + "\n")

    finish(args, info, results, raw_dir)
    return 0


def finish(args, info, results, raw_dir):
    """Plots and the markdown."""
    svg_names = set()
    jsons = [raw_dir / f"{r['scenario']}.json" for r in results if (raw_dir / f"{r['scenario']}.json").exists()]
    jsons = [j for j in jsons if json.loads(j.read_text()).get("loadgen")]
    if jsons:
        r = subprocess.run([sys.executable, str(HERE / "plot.py"), *map(str, jsons)], stdin=subprocess.DEVNULL, timeout=300)
        if r.returncode != 0:
            log("plot.py failed")
        svg_names = {j.stem for j in jsons if j.with_suffix(".svg").exists()}
    stored = next((r["bench"] for r in results if r.get("bench")), {})
    info = dict(info, date=stored.get("date", info["date"]))
    md = args.results / f"takeover-{info['date']}.md"
    write_markdown(args, info, results, md, svg_names)
    log(f"wrote {md.relative_to(REPO) if md.is_relative_to(REPO) else md}")
    print(md.read_text())


if __name__ == "__main__":
    sys.exit(main())
