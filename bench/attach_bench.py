#!/usr/bin/env python3
"""Attach / redefine benchmark: jhot against jattach, jcmd and Arthas (not part of the tests).

What is timed (wall clock, from starting the command until it exits):

  jhot     `jhot redefine <pid> <Greeter.class>`: attach + load jhot's agent + redefine (cold), or
           redefine through the resident agent (warm). Checked: GET / changes.
  jattach  `jattach <pid> load instrument false minimal-agent.jar`: attach + load a trivial agent,
           no redefinition (a floor for "attach and load a Java agent"). Checked: the agent printed.
  jattach-jcmd `jattach <pid> jcmd VM.version`: one attach round trip, no agent (the floor of a
           command to a JVM whose listener is up; issue 15's warm reference). Checked: it printed
           the JVM's version.
  jcmd     `jcmd <pid> JVMTI.agent_load minimal-agent.jar`: the same through the JDK's jcmd (a JVM
           of its own). Checked: the agent printed (jcmd exits 0 even when the load fails).
  floor    the least any agent-based tool can pay for the same redefinition (samples/floor-agent:
           no checks, no pre-flight, no history, the class found by the system class loader).
           Cold: `jattach <pid> load instrument false floor-agent.jar=redefine=hello.Greeter,<file>`;
           warm: the agent resident on a Unix socket (loaded untimed before the warm-up), driven by
           bench/latency/floor_client.c, one process and one round trip like jattach. Checked: GET /
           changes. What jhot cannot go below, and the measure of how far the targets are reachable.
  agent-only  jhot's agent driven by the least possible client (bench/latency/agent_client.c): the
           two frames `jhot redefine` sends to a resident agent, from one small C process, with no
           checks of the target, no verdict and no output. Warm only (the agent is loaded by an
           untimed `jhot redefine` first). Checked: GET / changes. jhot warm minus agent-only warm is
           what jhot's own process costs; agent-only minus floor, what its agent does beyond the floor.
  arthas   `java -jar arthas-boot.jar <pid> -c 'redefine <Greeter.class>'`: attach + start the
           Arthas server in the target + telnet client + redefine (cold), or client + redefine with
           the server resident (warm). Checked: GET / changes. Arthas is stopped after each cold
           run (`-c stop`, not timed) and after the warm series.

Cold: every run on a FRESH target JVM (samples/hello-http, waited for LISTENING, GET / so that
hello.Greeter is loaded, then ~1 s idle). Targets are idle, or busy (`--target busy`: the sample's
hot loop never parks, so one of the cores runs C2-compiled code all the time, like a loaded
service). Warm: the timed runs spread over several fresh targets per tool (--warm-targets), each
first given untimed warm-up runs, alternating the v2 and v1 Greeter so every run really redefines
something. The tools take turns (cold run i of every tool, then run i + 1; warm target k of every
tool, then k + 1), so that the machine's drift over the minutes a JDK takes falls on all of them.

Also recorded: the size of the agent jar jhot embeds, the threads an idle resident agent leaves in
the target (from /proc/<pid>/task/*/comm, "Attach Listener" excluded: the JVM starts it on the
first attach), the listening sockets the target has after the tool ran (TCP with their address,
Unix sockets with their path), and the target's CPU per warm run by thread (compilers, VM Thread,
the tool's threads, the rest; from /proc/<pid>/task/*/schedstat around the timed runs): on two
cores the target's work during a command competes with the command.

Only loopback, only processes this script started (killed by pid / own process group), bounded
in time (--budget). Output: bench/results/<YYYY-MM-DD>-jdk<N>.txt.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import glob
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchlib import cpu_model, write_result

REPO = Path(__file__).resolve().parent.parent
V1 = "Hello from v1"
V2 = "Hello from v2"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Budget:
    """Overall time limit: once spent, the remaining runs are skipped (and the report says so)."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.exhausted = False

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> bool:
        if self.left() <= 0:
            self.exhausted = True
        return not self.exhausted


# --------------------------------------------------------------------------------------------
# Processes we start
# --------------------------------------------------------------------------------------------

STARTED: list[subprocess.Popen] = []


def run_timed(cmd: list[str], timeout: float, cwd: Path | None = None, env: dict | None = None):
    """Runs cmd in its own process group; returns (seconds, returncode, output). On timeout, kills
    that process group (only processes this command started) and returns returncode None."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    STARTED.append(p)
    try:
        out, _ = p.communicate(timeout=timeout)
        dt = time.perf_counter() - t0
        return dt, p.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, _ = p.communicate()
        return time.perf_counter() - t0, None, out.decode("utf-8", "replace") + f"\n[timed out after {timeout}s]"
    finally:
        if p in STARTED:
            STARTED.remove(p)


def kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)  # p is a session leader we created
    except ProcessLookupError:
        pass


class Target:
    """A running hello-http sample JVM."""

    def __init__(self, java: Path, classes: Path, workdir: Path, jvm_args: list[str]):
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([str(java), *jvm_args, "-cp", str(classes), "hello.Main", "0"],
                                     cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        STARTED.append(self.proc)
        self.pid = self.proc.pid
        self.port = None
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with self.lock:
                for line in self.lines:
                    if line.startswith("LISTENING "):
                        self.port = int(line.split()[1])
            if self.port:
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if not self.port:
            out = self.output()
            self.stop()
            raise RuntimeError(f"target JVM did not print LISTENING within 20 s:\n{out}")

    def _read(self) -> None:
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def output(self) -> str:
        with self.lock:
            return "\n".join(self.lines)

    def count(self, needle: str) -> int:
        with self.lock:
            return sum(1 for line in self.lines if needle in line)

    def get(self, path: str, timeout: float = 5.0) -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
                return r.read().decode().strip()
        except OSError:
            return None

    def wait_body(self, path: str, expected: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.get(path) == expected:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def wait_count(self, needle: str, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count(needle) < n:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc in STARTED:
            STARTED.remove(self.proc)


def cleanup_started() -> None:
    for p in list(STARTED):
        try:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    STARTED.clear()


# --------------------------------------------------------------------------------------------
# /proc inspection
# --------------------------------------------------------------------------------------------

def thread_names(pid: int) -> list[str]:
    names = []
    for comm in glob.glob(f"/proc/{pid}/task/*/comm"):
        try:
            names.append(Path(comm).read_text().strip())
        except OSError:
            pass
    return sorted(names)


# The target's threads by what they do, for the CPU each warm command costs the target.
CPU_GROUPS = (
    ("JIT", re.compile(r"C[12] CompilerThre")),
    ("VM Thread", re.compile(r"VM Thread$")),
    ("tool", re.compile(r"(jhot-agent|floor-agent|Attach Listener|arthas)")),
)
OTHER_THREADS = "app+JVM"


def thread_cpu(pid: int) -> dict[tuple[str, str], int]:
    """Nanoseconds on CPU so far, per thread (tid, name), from /proc/<pid>/task/*/schedstat."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            name = Path(task, "comm").read_text().strip()
            out[(Path(task).name, name)] = int(Path(task, "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def cpu_by_group(before: dict, after: dict) -> dict[str, int]:
    groups: dict[str, int] = {}
    for key, ns in after.items():
        d = ns - before.get(key, 0)
        group = next((g for g, rx in CPU_GROUPS if rx.match(key[1])), OTHER_THREADS)
        groups[group] = groups.get(group, 0) + d
    return groups


def multiset_diff(after: list[str], before: list[str]) -> list[str]:
    rest = list(before)
    added = []
    for n in after:
        if n in rest:
            rest.remove(n)
        else:
            added.append(n)
    return added


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            inodes.add(m.group(1))
    return inodes


def _hex_addr(s: str, v6: bool) -> str:
    addr, port = s.split(":")
    port = int(port, 16)
    raw = bytes.fromhex(addr)
    if v6:
        # four little-endian 32-bit words
        b = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
        ip = socket.inet_ntop(socket.AF_INET6, b)
        return f"[{ip}]:{port}"
    return f"{socket.inet_ntop(socket.AF_INET, raw[::-1])}:{port}"


def listening_sockets(pid: int) -> list[str]:
    """Listening TCP sockets ("tcp 127.0.0.1:1234") and Unix sockets ("unix /path") of a pid."""
    inodes = socket_inodes(pid)
    out = []
    for name, v6 in (("tcp", False), ("tcp6", True)):
        try:
            rows = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if len(f) > 9 and f[3] == "0A" and f[9] in inodes:
                out.append(f"tcp {_hex_addr(f[1], v6)}")
    try:
        rows = Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]
    except OSError:
        rows = []
    for row in rows:
        f = row.split()
        # Num RefCount Protocol Flags Type St Inode [Path]; Flags 00010000 = listening
        if len(f) >= 7 and f[6] in inodes and int(f[3], 16) & 0x10000:
            out.append(f"unix {f[7] if len(f) > 7 else '(unnamed)'}")
    return sorted(out)


# Threads the JVM itself may start at any time (GC workers, compiler threads, the attach
# listener on the first attach): not counted as an agent's threads, reported apart.
JVM_THREAD = re.compile(r"^(Attach Listener|GC Thread#\d+|G1 .*|C[12] CompilerThre|Sweeper thread|VM Periodic Tas"
                        r"|Common-Cleaner|Notification Th|Service Thread)$")
# The JVM's own attach socket (bound as .java_pid<pid>.tmp, then renamed; /proc shows the bind name).
JVM_SOCKET = re.compile(r"^unix .*/\.java_pid\d+(\.tmp)?$")


def is_loopback(sock: str) -> bool:
    if not sock.startswith("tcp "):
        return True  # Unix sockets are local by nature
    addr = sock[4:]
    return addr.startswith("127.") or addr.startswith("[::1]") or addr.startswith("[::ffff:127.")


# --------------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------------

def sh(cmd: list[str], timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def read_jdks() -> dict[int, Path]:
    env = Path(os.environ.get("JHOT_JDKS_ENV", REPO / ".cache/jdks/jdks.env"))
    jdks = {}
    if env.is_file():
        for line in env.read_text().splitlines():
            m = re.match(r"JHOT_JDK(\d+)=(.+)", line.strip())
            if m:
                jdks[int(m.group(1))] = Path(m.group(2))
    return jdks


def ensure_jdks(features: list[int]) -> dict[int, Path]:
    jdks = read_jdks()
    if not all(f in jdks for f in features):
        log("provisioning JDKs with scripts/jdks.sh")
        r = sh(["bash", str(REPO / "scripts/jdks.sh")], timeout=300)
        if r.returncode != 0:
            raise SystemExit(f"scripts/jdks.sh failed:\n{r.stdout}")
        jdks = read_jdks()
    missing = [f for f in features if f not in jdks]
    if missing:
        raise SystemExit(f"no JDK {missing} in jdks.env")
    return jdks


def ensure_jattach() -> str | None:
    path = shutil.which("jattach")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing jattach with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sh(["apt-get", "update", "-qq"], env=env)
        sh(["apt-get", "install", "-y", "-qq", "jattach"], env=env)
    return shutil.which("jattach")


def latest_arthas_version() -> str:
    """The newest 4.x arthas-packaging on Maven Central, through Maven's own metadata."""
    r = sh(["mvn", "-q", "-B", "dependency:get", "-Dartifact=com.taobao.arthas:arthas-packaging:RELEASE:pom",
            "-Dtransitive=false"], timeout=240)
    if r.returncode != 0:
        raise RuntimeError(f"mvn could not resolve arthas-packaging:\n{r.stdout[-2000:]}")
    m2 = Path(os.environ.get("MAVEN_REPO_LOCAL", Path.home() / ".m2/repository"))
    versions = []
    for meta in (m2 / "com/taobao/arthas/arthas-packaging").glob("maven-metadata*.xml"):
        versions += re.findall(r"<version>([0-9.]+)</version>", meta.read_text())
    v4 = sorted({v for v in versions if v.startswith("4.")}, key=lambda v: [int(x) for x in v.split(".")])
    if not v4:
        raise RuntimeError("no 4.x version of arthas-packaging in the Maven metadata")
    return v4[-1]


def ensure_arthas(cache: Path) -> tuple[Path, str]:
    """Arthas' full distribution (arthas-packaging:VERSION:zip:bin) unzipped in cache/<version>."""
    version = os.environ.get("ARTHAS_VERSION")
    if not version:
        have = sorted((p.parent.name for p in cache.glob("4.*/arthas-boot.jar")),
                      key=lambda v: [int(x) for x in v.split(".")])
        version = have[-1] if have and os.environ.get("ARTHAS_REFRESH") != "1" else latest_arthas_version()
    home = cache / version
    if (home / "arthas-boot.jar").is_file() and (home / "arthas-core.jar").is_file():
        return home, version
    log(f"fetching Arthas {version} from Maven Central with mvn")
    dl = cache / f"download-{version}"
    shutil.rmtree(dl, ignore_errors=True)
    r = sh(["mvn", "-q", "-B", "dependency:copy",
            f"-Dartifact=com.taobao.arthas:arthas-packaging:{version}:zip:bin", f"-DoutputDirectory={dl}"], timeout=240)
    zips = list(dl.glob("*.zip"))
    if r.returncode != 0 or not zips:
        raise RuntimeError(f"mvn dependency:copy of arthas-packaging {version} failed:\n{r.stdout[-2000:]}")
    tmp = cache / f".tmp-{version}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    r = sh(["unzip", "-q", str(zips[0]), "-d", str(tmp)])
    if r.returncode != 0:
        raise RuntimeError(f"unzip failed: {r.stdout}")
    shutil.rmtree(home, ignore_errors=True)
    tmp.rename(home)
    shutil.rmtree(dl, ignore_errors=True)
    return home, version


def build_samples(out: Path) -> None:
    r = sh(["bash", str(REPO / "scripts/build-samples.sh"), str(out)])
    if r.returncode != 0:
        raise SystemExit(f"scripts/build-samples.sh failed:\n{r.stdout}")


def ensure_jhot(build: bool, timeout: float) -> tuple[Path | None, str]:
    """target/release/jhot, brought up to date with `cargo build-jhot` (the release binary as
    `make install` builds it; a no-op when it is up to date)
    unless build is False and the binary exists. On a failed build the existing binary is used."""
    binary = REPO / "target/release/jhot"
    if build or not binary.is_file():
        if shutil.which("cargo") is None:
            return (binary if binary.is_file() else None), "cargo not found"
        log("building jhot: cargo build-jhot")
        try:
            r = sh(["cargo", "build-jhot"], cwd=REPO, timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            return (binary if binary.is_file() else None), f"cargo build-jhot took more than {timeout:.0f} s"
        if r.returncode != 0:
            tail = "\n".join(r.stdout.splitlines()[-15:])
            return (binary if binary.is_file() else None), f"cargo build-jhot failed:\n{tail}"
    return (binary if binary.is_file() else None), ""


def agent_jar_of_jhot() -> Path | None:
    jars = sorted(glob.glob(str(REPO / "target/release/build/jhot-*/out/jhot-agent.jar")), key=os.path.getmtime)
    return Path(jars[-1]) if jars else None


def first_line(cmd: list[str]) -> str:
    try:
        r = sh(cmd, timeout=60)
        lines = [line for line in r.stdout.splitlines() if line.strip()]
        return lines[0].strip() if lines else "?"
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# The tools
# --------------------------------------------------------------------------------------------

class Tool:
    """One benchmarked tool: how to run it cold / warm and how to check that it worked."""

    name = ""
    redefines = False  # True: toggles Greeter between v2/v1; False: loads the minimal agent
    warm_only = False  # True: no cold runs (the tool needs something loaded first)
    stops = False  # True: after_warm shuts the tool's server down in the target

    def __init__(self, ctx: "Ctx"):
        self.ctx = ctx

    def command(self, target: Target, cls: Path) -> list[str]:
        raise NotImplementedError

    def after_cold(self, target: Target) -> None:
        """Untimed clean-up after a cold run (before the target is stopped)."""

    def before_warm(self, target: Target) -> None:
        """Untimed set-up on the warm target, before the warm-up runs."""

    def after_warm(self, target: Target) -> None:
        """Untimed clean-up after the warm series."""

    def timeout(self) -> float:
        return 60.0

    def run_once(self, target: Target, want_v2: bool) -> tuple[float, bool, str]:
        """One timed invocation; returns (seconds, verified, output)."""
        if self.redefines:
            cls = self.ctx.v2 if want_v2 else self.ctx.v1
            dt, rc, out = run_timed(self.command(target, cls), self.timeout(), cwd=self.ctx.workdir)
            ok = rc == 0 and target.wait_body("/", V2 if want_v2 else V1, 3.0)
        else:
            before = target.count("MINIMAL-AGENT-LOADED")
            dt, rc, out = run_timed(self.command(target, self.ctx.minimal_jar), self.timeout(), cwd=self.ctx.workdir)
            ok = rc == 0 and target.wait_count("MINIMAL-AGENT-LOADED", before + 1, 3.0)
        return dt, ok, f"[exit {rc}]\n{out}"


class Jhot(Tool):
    name = "jhot"
    redefines = True

    def command(self, target, cls):
        return [str(self.ctx.jhot), *[a.format(pid=target.pid, cls=cls) for a in self.ctx.jhot_args]]


class JhotForce(Jhot):
    """jhot without its pre-flight check (--force): the redefinition alone, as the JVM decides."""
    name = "jhot-force"

    def command(self, target, cls):
        return [*super().command(target, cls), "--force"]


class AgentOnly(Tool):
    """jhot's resident agent, driven by bench/latency/agent_client.c instead of jhot."""
    name = "agent-only"
    redefines = True
    warm_only = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.sockets: dict[int, Path] = {}

    def command(self, target, cls):
        return [str(self.ctx.agent_client), str(self.sockets[target.pid]), "hello.Greeter", str(cls)]

    def before_warm(self, target):
        rc = run_timed([str(self.ctx.jhot), "redefine", str(target.pid), str(self.ctx.v2)], 60, cwd=self.ctx.workdir)[1]
        # The agent opens its channel just after answering the command that loaded it.
        sock = Path(f"/proc/{target.pid}/root/tmp/.jhot-{os.geteuid()}/{target.pid}.sock")
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if rc != 0 or not sock.exists():
            raise RuntimeError(f"jhot's agent did not open its channel (jhot exit {rc}, no {sock})")
        # A short path: sun_path holds 108 bytes, and the JVM is a local process here.
        self.sockets[target.pid] = Path(f"/tmp/.jhot-{os.geteuid()}/{target.pid}.sock")

    def after_warm(self, target):
        self.sockets.pop(target.pid, None)


class Jattach(Tool):
    name = "jattach"

    def command(self, target, jar):
        return [self.ctx.jattach, str(target.pid), "load", "instrument", "false", str(jar)]


class JattachJcmd(Tool):
    """One attach round trip with no agent: `jattach PID jcmd VM.version`."""
    name = "jattach-jcmd"

    def command(self, target, jar):
        return [self.ctx.jattach, str(target.pid), "jcmd", "VM.version"]

    def run_once(self, target, want_v2):
        dt, rc, out = run_timed(self.command(target, None), self.timeout(), cwd=self.ctx.workdir)
        return dt, rc == 0 and "JDK" in out, f"[exit {rc}]\n{out}"


class Floor(Tool):
    """A redefinition with nothing around it (samples/floor-agent): cold through jattach, warm
    through a resident agent and a C client."""
    name = "floor"
    redefines = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.sockets: dict[int, Path] = {}

    def command(self, target, cls):
        sock = self.sockets.get(target.pid)
        if sock is None:
            return [self.ctx.jattach, str(target.pid), "load", "instrument", "false",
                    f"{self.ctx.floor_jar}=redefine=hello.Greeter,{cls}"]
        return [str(self.ctx.floor_client), str(sock), "hello.Greeter", str(cls)]

    def before_warm(self, target):
        sock = self.ctx.floor_dir / f"{target.pid}.sock"  # a short path: sun_path holds 108 bytes
        rc = run_timed([self.ctx.jattach, str(target.pid), "load", "instrument", "false",
                        f"{self.ctx.floor_jar}=listen={sock}"], 30, cwd=self.ctx.workdir)[1]
        if rc != 0 or not sock.exists():
            raise RuntimeError(f"the floor agent did not start listening (jattach exit {rc})")
        self.sockets[target.pid] = sock

    def after_warm(self, target):
        sock = self.sockets.pop(target.pid, None)
        if sock is not None:
            sock.unlink(missing_ok=True)


class Jcmd(Tool):
    name = "jcmd"

    def command(self, target, jar):
        return [str(self.ctx.jcmd), str(target.pid), "JVMTI.agent_load", str(jar)]


class Arthas(Tool):
    name = "arthas"
    redefines = True
    stops = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.port_of: dict[int, int] = {}

    def _boot(self, target: Target, commands: str) -> list[str]:
        # --arthas-home: use the unzipped distribution, never download; --telnet-port: a free
        # loopback port per target (Arthas listens on --target-ip, 127.0.0.1 by default);
        # --http-port -1: no HTTP/WebSocket server. -c runs the commands and exits.
        port = self.port_of.setdefault(target.pid, free_port())
        return [str(self.ctx.tool_java), "-jar", str(self.ctx.arthas_home / "arthas-boot.jar"),
                "--arthas-home", str(self.ctx.arthas_home), "--target-ip", "127.0.0.1",
                "--telnet-port", str(port), "--http-port", "-1", "--width", "200",
                "-c", commands, str(target.pid)]

    def command(self, target, cls):
        return self._boot(target, f"redefine {cls}")

    def run_once(self, target, want_v2):
        dt, ok, out = super().run_once(target, want_v2)
        # arthas-boot exits 0 even when a command fails; check its answer too.
        return dt, ok and "redefine success" in out, out

    def _stop(self, target: Target) -> None:
        run_timed(self._boot(target, "stop"), 60, cwd=self.ctx.workdir)
        self.port_of.pop(target.pid, None)

    def after_cold(self, target):
        self._stop(target)

    def after_warm(self, target):
        self._stop(target)

    def timeout(self):
        return 120.0


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------

# In the order the tools run and are reported.
TOOL_CLASSES = {"jhot": Jhot, "jhot-force": JhotForce, "agent-only": AgentOnly, "jattach": Jattach,
                "jattach-jcmd": JattachJcmd, "floor": Floor, "jcmd": Jcmd, "arthas": Arthas}


class Ctx:
    pass


def settle_load(limit: float = 0.5, timeout: float = 30.0) -> None:
    """Waits (at most `timeout` s) until the 1-minute load average per core drops below `limit`,
    or at least 5 s, so that measurements do not start on a machine still busy with the set-up."""
    time.sleep(5)
    deadline = time.monotonic() + timeout
    cores = os.cpu_count() or 1
    while time.monotonic() < deadline and os.getloadavg()[0] / cores > limit:
        time.sleep(1)


def fresh_target(ctx: Ctx) -> Target:
    t = Target(ctx.java, ctx.classes, ctx.workdir, ctx.jvm_args)
    if t.get("/") != V1:  # loads hello.Greeter
        out = t.output()
        t.stop()
        raise RuntimeError(f"target answered unexpectedly on /:\n{out}")
    time.sleep(ctx.settle)
    return t


def bench_tools(ctx: Ctx, tools: list[Tool], results: dict[str, dict]) -> None:
    """Every tool's cold runs, then every tool's warm targets, taken in turns: run i of each tool
    before run i + 1 of any (the order of the tools rotating from one round to the next), so that
    a machine that gets busier or quieter over the minutes a JDK takes (a shared VM's neighbours)
    weighs on every tool alike instead of on whichever ran then. A tool that fails its first cold
    run, or a warm-up, is left out of the rounds that follow."""
    for tool in tools:
        results[tool.name].update(cold=[], warm=[], failures=[])

    def turns(k: int) -> list[Tool]:
        return tools[k % len(tools):] + tools[:k % len(tools)]

    def rounds(what: str, count: int, skip: set[str], step, budget_note) -> None:
        """Round k of every tool not in skip, in turns; a tool whose step returns False or raises
        joins skip. At the time budget, the tools still in play are told budget_note(k)."""
        for k in range(count):
            if not ctx.budget.check():
                for t in tools:
                    if t.name not in skip:
                        results[t.name]["failures"].append(budget_note(k))
                return
            for tool in turns(k):
                if tool.name in skip:
                    continue
                r = results[tool.name]
                try:
                    ok = step(tool, r, k)
                except Exception as e:  # noqa: BLE001 - report and go on with the other tools
                    r["failures"].append(f"{what} {k + 1}: error: {e}")
                    log(f"  {tool.name}: error: {e}")
                    ok = False
                if not ok:
                    skip.add(tool.name)

    rounds("cold run", ctx.runs, {t.name for t in tools if t.warm_only},
           lambda tool, r, i: cold_run(ctx, tool, r, i),
           lambda i: f"cold: stopped after {i} runs (time budget)")

    # Warm runs are spread over several fresh targets: two JVMs of the same kind gave warm medians
    # of 6.6 and 9.0 ms with one jhot binary (idle JDK 17/21, 2 cores), a spread no tool's change
    # could be told from on one target.
    per_target = [ctx.warm_runs // ctx.warm_targets + (1 if k < ctx.warm_runs % ctx.warm_targets else 0)
                  for k in range(ctx.warm_targets)]
    rounds("warm target", ctx.warm_targets, set(),
           lambda tool, r, k: not per_target[k]
           or warm_on_target(ctx, tool, r, k == 0, per_target[k], r["warm"], r["failures"]),
           lambda k: "warm: skipped (time budget)")
    for tool in tools:
        warm = results[tool.name]["warm"]
        log(f"  {tool.name} warm: {len(warm)} runs on {ctx.warm_targets} targets, median {statistics.median(warm) * 1000:.1f} ms"
            if warm else f"  {tool.name} warm: no successful run")


def cold_run(ctx: Ctx, tool: Tool, result: dict, i: int) -> bool:
    """Cold run i of a tool on a fresh target; False when the tool should run no more cold runs
    (its first one failed)."""
    cold, failures = result["cold"], result["failures"]
    t = fresh_target(ctx)
    try:
        dt, ok, out = tool.run_once(t, want_v2=True)
        if ok:
            cold.append(dt)
        else:
            failures.append(f"cold run {i + 1}: not verified ({dt:.3f}s)\n{out[-1500:]}\n--- target ---\n{t.output()[-800:]}")
        tool.after_cold(t)
    finally:
        t.stop()
    log(f"  {tool.name} cold {i + 1}/{ctx.runs}: {dt * 1000:.0f} ms{'' if ok else ' (FAILED)'}")
    if not ok and i == 0 and not cold:
        failures.append("cold: first run failed, skipping the rest of this tool")
        return False
    return True


def warm_on_target(ctx: Ctx, tool: Tool, result: dict, first: bool, runs: int, warm: list, failures: list) -> bool:
    """Warm-up, then `runs` timed runs on one fresh target; the footprint is taken on the first.
    False when a warm-up failed (the tool's warm runs stop there)."""
    t = fresh_target(ctx)
    try:
        threads_before = thread_names(t.pid)
        socks_before = listening_sockets(t.pid)
        tool.before_warm(t)
        # Warm-up: the tool's agent becomes resident, and its code (which runs interpreted at
        # first) gets the JIT's attention, as on a target the tool has been used on a few times.
        want_v2 = True
        for _ in range(ctx.warm_ups):
            dt, ok, out = tool.run_once(t, want_v2)
            if not ok:
                failures.append(f"warm-up: not verified\n{out[-1500:]}")
                return False
            want_v2 = not want_v2
        time.sleep(ctx.idle)
        if first:
            added_all = multiset_diff(thread_names(t.pid), threads_before)
            socks_after = listening_sockets(t.pid)
            new_all = sorted(set(socks_after) - set(socks_before))
            result["footprint"] = {
                "threads_added": [n for n in added_all if not JVM_THREAD.match(n)],
                "jvm_threads_added": [n for n in added_all if JVM_THREAD.match(n)],
                "sockets_added": [s for s in new_all if not JVM_SOCKET.match(s)],
                "jvm_sockets_added": [s for s in new_all if JVM_SOCKET.match(s)],
                "non_loopback": [s for s in new_all if not is_loopback(s)],
            }
        cpu_before, timed = thread_cpu(t.pid), 0
        for i in range(runs):
            if not ctx.budget.check():
                failures.append(f"warm: stopped after {len(warm)} runs (time budget)")
                break
            dt, ok, out = tool.run_once(t, want_v2)
            timed += 1
            if ok:
                warm.append(dt)
            else:
                failures.append(f"warm run {len(warm) + 1}: not verified ({dt:.3f}s)\n{out[-1500:]}")
            want_v2 = not want_v2
        if timed:
            cpu = result.setdefault("warm_cpu", {"runs": 0, "ns": {}})
            cpu["runs"] += timed
            for group, ns in cpu_by_group(cpu_before, thread_cpu(t.pid)).items():
                cpu["ns"][group] = cpu["ns"].get(group, 0) + ns
        tool.after_warm(t)
        if first and tool.stops:
            time.sleep(1.0)
            left = multiset_diff(thread_names(t.pid), threads_before)
            result["footprint"]["threads_after_stop"] = [n for n in left if not JVM_THREAD.match(n)]
            result["footprint"]["sockets_after_stop"] = [
                s for s in sorted(set(listening_sockets(t.pid)) - set(socks_before)) if not JVM_SOCKET.match(s)]
    finally:
        t.stop()
    return True


def stats_row(name: str, kind: str, xs: list[float]) -> str:
    if not xs:
        return f"{name:<13}{kind:<6}{'-':>10}{'-':>10}{'-':>10}{0:>5}"
    ms = [x * 1000 for x in xs]
    return f"{name:<13}{kind:<6}{statistics.median(ms):>10.1f}{min(ms):>10.1f}{max(ms):>10.1f}{len(ms):>5}"


def machine_info() -> list[str]:
    cpu = cpu_model()
    distro = "?"
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"cpus (nproc): {os.cpu_count()}  ({len(os.sched_getaffinity(0))} usable)", f"cpu model:    {cpu}",
            f"load average: {load} (when the report was written; other work on the machine skews the numbers)",
            f"memory:       {mem}", f"kernel:       {platform.release()}", f"os:           {distro}"]


def java_version(java: Path) -> str:
    r = sh([str(java), "-version"], timeout=60)
    return " | ".join(line.strip() for line in r.stdout.splitlines()[:3])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jdk", type=int, action="append", help="target JDK feature (repeatable; default 17)")
    ap.add_argument("--runs", type=int, default=10, help="cold runs per tool (default 10)")
    ap.add_argument("--warm-runs", type=int, default=40, help="warm runs per tool (default 40)")
    ap.add_argument("--warm-targets", type=int, default=4,
                    help="fresh targets the warm runs are spread over, each warmed up first (default 4)")
    ap.add_argument("--warm-ups", type=int, default=5, help="untimed runs on the warm target first (default 5)")
    ap.add_argument("--tools", default=",".join(TOOL_CLASSES),
                    help=f"comma-separated subset of {','.join(TOOL_CLASSES)}")
    ap.add_argument("--budget", type=float, default=540,
                    help="overall time limit in seconds, set-up included (default 540)")
    ap.add_argument("--settle", type=float, default=1.0, help="idle seconds after a target starts (default 1)")
    ap.add_argument("--idle", type=float, default=2.0, help="seconds after the warm-up before counting threads")
    ap.add_argument("--jvm-arg", action="append", default=[], help="extra JVM option for the targets (repeatable)")
    ap.add_argument("--target", action="append", choices=["idle", "busy"],
                    help="idle, busy (a core kept busy by the target's compiled hot loop); repeatable, default both")
    ap.add_argument("--jhot-args", default="redefine {pid} {cls}",
                    help="jhot arguments; {pid} and {cls} are replaced (default: 'redefine {pid} {cls}')")
    ap.add_argument("--no-build", action="store_true",
                    help="use target/release/jhot as it is (default: cargo build --release first)")
    ap.add_argument("--jhot", type=Path, help="the jhot binary (default: target/release/jhot, built if missing)")
    ap.add_argument("--out-dir", type=Path, default=REPO / "bench/results")
    args = ap.parse_args()

    budget = Budget(args.budget)
    features = args.jdk or [17]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOL_CLASSES]
    if bad:
        ap.error(f"unknown tool(s) {bad}; known: {list(TOOL_CLASSES)}")

    jdks = ensure_jdks(sorted(set(features + [17])))
    tool_home = jdks[17]
    workdir = REPO / "target/bench-work"
    workdir.mkdir(parents=True, exist_ok=True)
    samples = REPO / "target/bench-samples"
    log("building the samples")
    build_samples(samples)

    notes: list[str] = []
    ctx = Ctx()
    ctx.budget = budget
    ctx.runs, ctx.warm_runs, ctx.settle, ctx.idle = args.runs, args.warm_runs, args.settle, args.idle
    ctx.warm_ups = max(1, args.warm_ups)
    ctx.warm_targets = max(1, min(args.warm_targets, args.warm_runs))
    ctx.jvm_args = args.jvm_arg
    ctx.workdir = workdir
    ctx.classes = samples / "hello-http/classes"
    ctx.v1 = ctx.classes / "hello/Greeter.class"
    ctx.v2 = samples / "hello-http/patches/body/hello/Greeter.class"
    ctx.minimal_jar = samples / "minimal-agent.jar"
    ctx.floor_jar = samples / "floor-agent.jar"
    ctx.tool_java = tool_home / "bin/java"
    ctx.jhot_args = args.jhot_args.split()

    versions: dict[str, str] = {}
    if any(t.startswith("jhot") for t in tools):
        ctx.jhot, why = (args.jhot.resolve(), "") if args.jhot else ensure_jhot(not args.no_build, min(600, budget.left() - 120))
        if ctx.jhot is None:
            notes.append(f"jhot: not benchmarked ({why or 'no target/release/jhot'})")
            tools[:] = [t for t in tools if not t.startswith("jhot")]
        else:
            if why:
                notes.append(f"jhot: the build failed, using the existing binary ({why.splitlines()[0]})")
            versions["jhot"] = first_line([str(ctx.jhot), "--version"])
            jar = agent_jar_of_jhot()
            if jar:
                r = sh(["unzip", "-l", str(jar)])
                # last line: "<uncompressed bytes>   <n> files"
                m = re.search(r"^\s*(\d+)\s+(\d+) files?\s*$", r.stdout, re.M)
                inside = f"{m.group(2)} entries, {m.group(1)} bytes uncompressed" if m else "unzip -l failed"
                notes.append(f"jhot agent jar: {jar.relative_to(REPO)}: {jar.stat().st_size} bytes ({inside})")
            else:
                notes.append("jhot agent jar: not found under target/release/build/jhot-*/out/")
    if "floor" in tools:
        ctx.floor_dir = Path(tempfile.mkdtemp(prefix="jhot-floor-"))
        ctx.floor_client = workdir / "floor_client"
        r = sh(["gcc", "-O2", "-o", str(ctx.floor_client), str(REPO / "bench/latency/floor_client.c")])
        if r.returncode != 0:
            notes.append(f"floor: the client did not compile, skipped ({r.stdout.strip()[:200]})")
            tools.remove("floor")
    if "agent-only" in tools:
        ctx.agent_client = workdir / "agent_client"
        r = sh(["gcc", "-O2", "-o", str(ctx.agent_client), str(REPO / "bench/latency/agent_client.c")])
        if r.returncode != 0:
            notes.append(f"agent-only: the client did not compile, skipped ({r.stdout.strip()[:200]})")
            tools.remove("agent-only")
    if any(t.startswith("jattach") or t == "floor" for t in tools):
        ctx.jattach = ensure_jattach()
        if not ctx.jattach:
            notes.append("jattach: not installed and could not be installed, skipped")
            tools[:] = [t for t in tools if not t.startswith("jattach") and t != "floor"]
        else:
            q = sh(["dpkg-query", "-W", "-f=${Version}", "jattach"])
            versions["jattach"] = first_line([ctx.jattach, "-h"]) + (f" (deb {q.stdout})" if q.returncode == 0 else "")
    if "arthas" in tools:
        try:
            ctx.arthas_home, av = ensure_arthas(REPO / ".cache/arthas")
            versions["arthas"] = f"arthas-packaging {av} (arthas-boot run on {java_version(ctx.tool_java).split(' | ')[0]})"
        except Exception as e:  # noqa: BLE001
            notes.append(f"arthas: skipped: {e}")
            tools.remove("arthas")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    today = _dt.date.today().isoformat()
    written = []
    kinds = args.target or ["idle", "busy"]
    base_jvm_args = list(ctx.jvm_args)
    try:
        for kind in kinds:
            ctx.kind = kind
            ctx.jvm_args = base_jvm_args + (["-Dhello.busy=true"] if kind == "busy" else [])
            for feature in features:
                java_home = jdks[feature]
                ctx.java = java_home / "bin/java"
                ctx.jcmd = java_home / "bin/jcmd" if (java_home / "bin/jcmd").is_file() else tool_home / "bin/jcmd"
                if "jcmd" in tools:
                    versions["jcmd"] = f"{ctx.jcmd} ({java_version(ctx.jcmd.parent / 'java').split(' | ')[0]})"
                log(f"JDK {feature}: {java_version(ctx.java)}")
                # The set-up (javac, jar, Maven) leaves the 2 cores busy for a while; measured
                # right after it, the first tool's cold runs came out ~30% slower than alone.
                settle_load()
                started = time.monotonic()
                log(f"{', '.join(tools)} on JDK {feature}, {kind} target, in turns")
                results: dict[str, dict] = {name: {} for name in tools}
                bench_tools(ctx, [TOOL_CLASSES[name](ctx) for name in tools], results)
                out = args.out_dir / f"{today}-jdk{feature}-{kind}.txt"
                write_result(out, report(ctx, feature, java_home, tools, results, versions, notes, time.monotonic() - started))
                written.append(out)
                log(f"wrote {out}")
    finally:
        cleanup_started()
        if getattr(ctx, "floor_dir", None):
            shutil.rmtree(ctx.floor_dir, ignore_errors=True)
    for w in written:
        print(w.read_text())
    return 0


def report(ctx, feature, java_home, tools, results, versions, notes, elapsed) -> str:
    L = []
    L.append(f"jhot attach/redefine benchmark, {_dt.datetime.now().isoformat(timespec='seconds')}")
    L.append("command: bench/run.sh " + " ".join(sys.argv[1:]))
    L.append("")
    L.append("machine")
    L += ["  " + m for m in machine_info()]
    L.append("")
    L.append("JDKs")
    L.append(f"  target JDK {feature}: {java_home}")
    L.append(f"    {java_version(ctx.java)}")
    L.append(f"  tools' JDK (jcmd fallback, arthas-boot): {ctx.tool_java.parent.parent}")
    L.append(f"    {java_version(ctx.tool_java)}")
    L.append(f"  target: {ctx.kind}" + (" (-Dhello.busy=true: the hot loop keeps one core busy)" if ctx.kind == "busy" else ""))
    L.append(f"  target JVM options: {' '.join(ctx.jvm_args) or '(defaults)'}")
    L.append("")
    L.append("tool versions")
    for k, v in versions.items():
        L.append(f"  {k}: {v}")
    L.append("")
    L.append("method")
    L.append(f"  cold: {ctx.runs} runs, each on a fresh target (LISTENING, GET /, {ctx.settle:.1f} s idle);")
    L.append(f"  warm: {ctx.warm_runs} runs over {ctx.warm_targets} fresh targets, each first given {ctx.warm_ups} untimed")
    L.append(f"        warm-up runs and {ctx.idle:.0f} s idle;")
    L.append("        alternating Greeter v2/v1 (every run really redefines).")
    L.append("  the tools take turns: cold run i (warm target k) of every tool before run i + 1 of any.")
    L.append("  time = wall clock of the command until it exits; a run counts only if verified")
    L.append("  (jhot/arthas/floor: GET / answers the new version; jattach/jcmd: the agent printed).")
    L.append("  jattach/jcmd only load a trivial agent (no redefinition): a reference, not a like-for-like;")
    L.append("  floor is the like-for-like at its cheapest: an agent that only redefines (samples/floor-agent).")
    L.append("  agent-only is jhot's own agent and request from a minimal C client (warm only): jhot without its process.")
    L.append("  jhot checks every class against the bytes the JVM runs before sending (its pre-flight);")
    L.append("  jhot-force is the same redefinition with --force, which skips that check.")
    L.append("")
    L.append(f"results on JDK {feature} (milliseconds)")
    L.append(f"{'tool':<13}{'kind':<6}{'median':>10}{'min':>10}{'max':>10}{'n':>5}")
    for name in tools:
        r = results.get(name, {})
        if not TOOL_CLASSES[name].warm_only:
            L.append(stats_row(name, "cold", r.get("cold", [])))
        L.append(stats_row(name, "warm", r.get("warm", [])))
    L.append("")
    med = {(n, k): statistics.median(results[n][k]) for n in tools for k in ("cold", "warm") if results.get(n, {}).get(k)}
    ratios = []
    for n in ("jhot", "jhot-force"):
        if (n, "cold") in med and ("jattach", "cold") in med:
            ratios.append(f"  {n} cold / jattach bare load: {med[(n, 'cold')] / med[('jattach', 'cold')]:.2f}x (target <= 1.5x)")
        if (n, "warm") in med and ("jattach-jcmd", "warm") in med:
            ratios.append(f"  {n} warm / jattach jcmd VM.version: {med[(n, 'warm')] / med[('jattach-jcmd', 'warm')]:.2f}x (target <= 3x)")
    for k, ref, target in (("cold", "jattach", "1.5"), ("warm", "jattach-jcmd", "3")):
        if ("floor", k) in med and (ref, k) in med:
            f = med[("floor", k)]
            line = f"  floor {k} / {ref}: {f / med[(ref, k)]:.2f}x (where the {target}x target stands against the floor)"
            if ("jhot", k) in med:
                line += f"; jhot {k} / floor {k}: {med[('jhot', k)] / f:.2f}x"
            ratios.append(line)
    if ("agent-only", "warm") in med and ("jattach-jcmd", "warm") in med:
        a = med[("agent-only", "warm")]
        line = f"  agent-only warm / jattach jcmd VM.version: {a / med[('jattach-jcmd', 'warm')]:.2f}x (jhot's agent, the least client)"
        if ("jhot", "warm") in med:
            line += f"; jhot's own process: {(med[('jhot', 'warm')] - a) * 1000:.1f} ms of jhot's {med[('jhot', 'warm')] * 1000:.1f}"
        ratios.append(line)
    if ratios:
        L.append("ratios of medians (issue 15's targets are for jhot, with its pre-flight)")
        L += ratios
        L.append("")
    L.append("the target's CPU per warm run (ms, all timed runs of a tool; the gaps between runs included)")
    groups = [g for g, _ in CPU_GROUPS] + [OTHER_THREADS]
    L.append(f"  {'':<13}" + "".join(f"{g:>10}" for g in groups) + f"{'all':>10}")
    for name in tools:
        cpu = results.get(name, {}).get("warm_cpu")
        if not cpu or not cpu["runs"]:
            continue
        per = {g: cpu["ns"].get(g, 0) / cpu["runs"] / 1e6 for g in groups}
        L.append(f"  {name:<13}" + "".join(f"{per[g]:>10.2f}" for g in groups) + f"{sum(per.values()):>10.2f}")
    L.append("  JIT: the C1/C2 compiler threads; VM Thread: mostly the redefinitions' safepoints; tool: the tool's")
    L.append("  own threads in the target (its agent's, or the attach listener's); app+JVM: everything else.")
    L.append("  On 2 cores the target's CPU during a run competes with the command itself.")
    L.append("")
    L.append(f"footprint in the target after the warm-up and {ctx.idle:.0f} s idle (vs. before the first attach)")
    for name in tools:
        fp = results.get(name, {}).get("footprint")
        if fp is None:
            L.append(f"  {name}: not measured")
            continue
        th = fp["threads_added"]
        L.append(f"  {name}: threads added: {len(th)} {th if th else ''}".rstrip())
        L.append(f"  {name}: listening sockets added: {fp['sockets_added'] or 'none'}; "
                 f"non-loopback: {fp['non_loopback'] or 'none'}")
        L.append(f"  {name}:   (JVM's own, not counted: threads {fp['jvm_threads_added'] or 'none'}, "
                 f"sockets {fp['jvm_sockets_added'] or 'none'})")
        if "threads_after_stop" in fp:
            left = fp["threads_after_stop"]
            L.append(f"  {name}: after its own stop command: threads left: {len(left)} {left if left else ''}; "
                     f"listening sockets left: {fp['sockets_after_stop'] or 'none'}")
    L.append("")
    if notes:
        L.append("notes")
        L += ["  " + n for n in notes]
        L.append("")
    if ctx.budget.exhausted:
        L.append(f"NOTE: the time budget ({ctx.budget.seconds:.0f} s) ran out; some runs were skipped.")
        L.append("")
    L.append("failures")
    any_fail = False
    for name in tools:
        for f in results.get(name, {}).get("failures", []):
            any_fail = True
            L.append(f"  {name}: " + f.replace("\n", "\n    "))
    if not any_fail:
        L.append("  none")
    L.append("")
    L.append("raw samples (ms)")
    for name in tools:
        r = results.get(name, {})
        for kind in ("cold", "warm"):
            xs = r.get(kind, [])
            L.append(f"  {name} {kind}: " + (" ".join(f"{x * 1000:.1f}" for x in xs) or "-"))
    L.append("")
    L.append(f"elapsed for JDK {feature}: {elapsed:.0f} s")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        cleanup_started()
        sys.exit(130)
