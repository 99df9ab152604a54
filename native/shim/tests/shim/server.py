"""Test server for the shim's integration tests.

A selector-driven HTTP/1.1 keep-alive server, steered by commands on stdin and reporting what it
does on stdout, one line per event. It uses Python's socket module, which calls libc bind, listen,
accept4, recv, send, shutdown and close: the calls the shim interposes on.

Requests: "/close" closes the connection without an answer, "/last" answers with
"Connection: close" (and keeps the connection), `Expect: 100-continue` gets "100 Continue";
anything else gets "old pid=… peer=… path=… n=…".

Commands: bind NAME HOST PORT | bind-blocking NAME HOST PORT | pause NAME | resume NAME | flags NAME | clear-fcntl NAME |
clear-ioctl NAME | shutdown NAME | env | exit
Events: bound NAME PORT FD | bound-blocking NAME PORT FD | blocking-accepted NAME HOST:PORT |
blocking-eagain NAME | accepted NAME CID HOST:PORT | accept-eagain NAME | partial CID N |
continued CID | responded CID PATH | closing CID | eof CID | flags NAME nonblock|block |
shutdown NAME ok|ERR |
env-child LINE | env-self NAME | env-done | error TEXT
"""
import fcntl
import os
import selectors
import socket
import subprocess
import sys
import threading

sel = selectors.DefaultSelector()
listeners = {}
conns = {}
next_cid = [0]
eagain_reported = set()


def out(*words):
    print(*words, flush=True)


class Conn:
    def __init__(self, sock, peer):
        next_cid[0] += 1
        self.cid = "c%d" % next_cid[0]
        self.sock = sock
        self.peer = "%s:%d" % (peer[0], peer[1])
        self.buf = b""
        self.n = 0
        self.continued = False


def flags(name):
    fl = fcntl.fcntl(listeners[name].fileno(), fcntl.F_GETFL)
    out("flags", name, "nonblock" if fl & os.O_NONBLOCK else "block")


def command(line):
    words = line.split()
    if not words:
        return
    cmd, args = words[0], words[1:]
    if cmd == "bind":
        name, host, port = args
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((host, int(port)))
        except OSError as e:
            out("bind-error", name, e.errno)
            s.close()
            return
        s.listen(16)
        s.setblocking(False)
        listeners[name] = s
        sel.register(s, selectors.EVENT_READ, ("listener", name))
        out("bound", name, s.getsockname()[1], s.fileno())
    elif cmd == "bind-blocking":
        # A native-style blocking acceptor: never touches the flags, accepts on its own thread.
        name, host, port = args
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((host, int(port)))
        s.listen(16)
        listeners[name] = s

        def acceptor():
            try:
                conn, peer = s.accept()
                out("blocking-accepted", name, "%s:%d" % peer)
                conn.close()
            except BlockingIOError:
                out("blocking-eagain", name)

        threading.Thread(target=acceptor, daemon=True).start()
        out("bound-blocking", name, s.getsockname()[1], s.fileno())
    elif cmd == "pause":
        sel.unregister(listeners[args[0]])
        out("paused", args[0])
    elif cmd == "resume":
        sel.register(listeners[args[0]], selectors.EVENT_READ, ("listener", args[0]))
        out("resumed", args[0])
    elif cmd == "flags":
        flags(args[0])
    elif cmd == "clear-fcntl":
        fd = listeners[args[0]].fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        flags(args[0])
    elif cmd == "clear-ioctl":
        listeners[args[0]].setblocking(True)
        flags(args[0])
        listeners[args[0]].setblocking(False)
    elif cmd == "shutdown":
        try:
            listeners[args[0]].shutdown(socket.SHUT_RDWR)
            out("shutdown", args[0], "ok")
        except OSError as e:
            out("shutdown", args[0], "errno=%d" % e.errno)
    elif cmd == "env":
        child = subprocess.run(["/usr/bin/env"], capture_output=True, text=True, check=True)
        for line in child.stdout.splitlines():
            out("env-child", line)
        for k in sorted(os.environ):
            if k.startswith(("LISTEN_", "JHOT_SHIM_", "LD_PRELOAD")):
                out("env-self", "%s=%s" % (k, os.environ[k]))
        out("env-done")
    elif cmd == "exit":
        sys.exit(0)
    else:
        out("error", "unknown command", cmd)


def accept(name):
    try:
        sock, peer = listeners[name].accept()
    except BlockingIOError:
        if name not in eagain_reported:
            eagain_reported.add(name)
            out("accept-eagain", name)
        return
    sock.setblocking(False)
    c = Conn(sock, peer)
    conns[c.cid] = c
    sel.register(sock, selectors.EVENT_READ, ("conn", c.cid))
    out("accepted", name, c.cid, c.peer)


def close(c):
    sel.unregister(c.sock)
    c.sock.close()
    del conns[c.cid]


def readable(c):
    try:
        data = c.sock.recv(65536)
    except BlockingIOError:
        return
    except ConnectionError:
        data = b""
    if not data:
        out("eof", c.cid)
        close(c)
        return
    c.buf += data
    while True:
        head, sep, rest = c.buf.partition(b"\r\n\r\n")
        if not sep:
            if c.buf:
                out("partial", c.cid, len(c.buf))
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split()[:2]
        length = 0
        expect = False
        for h in lines[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
            if k.strip().lower() == "expect" and v.strip().lower() == "100-continue":
                expect = True
        if len(rest) < length:
            if expect and not c.continued:
                c.continued = True
                send(c, b"HTTP/1.1 100 Continue\r\n\r\n")
                out("continued", c.cid)
            out("partial", c.cid, len(c.buf))
            return
        c.continued = False
        c.buf = rest[length:]
        if path == "/close":
            out("closing", c.cid)
            close(c)
            return
        c.n += 1
        body = ("old pid=%d peer=%s path=%s n=%d\n" % (os.getpid(), c.peer, path, c.n)).encode()
        extra = b"Connection: close\r\n" if path == "/last" else b""
        send(c, b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n" % (extra, len(body)) + body)
        out("responded", c.cid, path)


def send(c, data):
    c.sock.setblocking(True)
    c.sock.sendall(data)
    c.sock.setblocking(False)


def main():
    os.set_blocking(0, False)
    sel.register(0, selectors.EVENT_READ, ("stdin", None))
    pending = b""
    out("ready", os.getpid())
    while True:
        for key, _ in sel.select():
            kind, what = key.data
            if kind == "stdin":
                chunk = os.read(0, 4096)
                if not chunk:
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    command(line.decode())
            elif kind == "listener":
                accept(what)
            elif what in conns:
                readable(conns[what])


main()
