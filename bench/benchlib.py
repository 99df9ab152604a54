"""What the benchmark scripts share: looking at processes and at the machine through /proc."""

from pathlib import Path


def proc_alive(pid):
    """True while /proc/PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


REPO = Path(__file__).resolve().parent.parent


def write_result(path, text):
    """Writes a result file with paths inside the repository made relative to it: the results are
    committed, and the checkout's location on the machine that ran them means nothing elsewhere."""
    Path(path).write_text(text.replace(str(REPO) + "/", ""))


def cpu_model():
    """The CPU's model name, or "?"."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"
