#!/usr/bin/env python3
"""Draws one SVG per takeover-benchmark scenario (no dependencies beyond Python 3).

    python3 bench/takeover/plot.py bench/results/takeover/*.json [--out DIR]

Each JSON is a scenario record written by bench.py: its "loadgen" report holds the bucketed
timeline (t, ok, failed, non2xx, p50, p99, max per bucket) and its "events" the swap's times (unix
ms). The SVG shows latency per bucket (p50, p99, max; log scale) over time, failed requests per
bucket as red bars below it, and the swap shaded. Output: <same dir>/<name>.svg (or --out DIR).
"""

import json
import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape

W, H = 900, 440
X0, X1 = 64, 880  # plot area, x
Y0, Y1 = 52, 300  # latency plot, y (top, bottom)
F0, F1 = 322, 382  # failure strip, y (top, bottom)
COLORS = {"p50": "#1f77b4", "p99": "#ff7f0e", "max": "#8c8c8c"}
EVENT_LABELS = {
    "old_sigterm": "SIGTERM v1",
    "old_exited": "v1 exited",
    "new_spawned": "v2 spawned",
    "new_ready": "v2 READY",
    "jhot_replace_done": "jhot done",
}


def nice(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 1:
        return f"{v:.1f}"
    return f"{v:.2f}"


def plot(rec):
    lg = rec["loadgen"]
    tl = lg.get("timeline") or []
    b = lg.get("bucket_ms", 50)
    t0 = lg["start_unix_ms"]
    t_end = max(lg.get("end_unix_ms", t0), t0 + b * len(tl), t0 + 1)
    dur = (t_end - t0) / 1000.0

    def x(unix_ms):
        s = (unix_ms - t0) / 1000.0
        return X0 + (X1 - X0) * min(max(s / dur, 0.0), 1.0)

    vals = [v for r in tl for k in ("p50", "p99", "max") if (v := r.get(k)) is not None and v > 0]
    lo = 10 ** math.floor(math.log10(min(vals))) if vals else 0.01
    hi = 10 ** math.ceil(math.log10(max(vals))) if vals else 10.0
    if hi <= lo:
        hi = lo * 10
    llo, lhi = math.log10(lo), math.log10(hi)

    def y(v):
        v = max(v, lo)
        return Y1 - (Y1 - Y0) * (math.log10(v) - llo) / (lhi - llo)

    out = []
    a = out.append
    a(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
      'font-family="sans-serif" font-size="11">')
    a(f'<rect width="{W}" height="{H}" fill="#fff"/>')

    # title
    name = rec.get("scenario", "")
    title = f"{rec.get('sample', '')} · {rec.get('mode', '')} · {rec.get('method', '')}"
    if rec.get("status") != "ok":
        title += f" — {rec.get('status')}"
    a(f'<text x="{X0}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>')
    cls = (
        f"failed={lg.get('failed')} (refused {lg.get('refused')}, resets "
        f"{(lg.get('reset_fresh') or 0) + (lg.get('reset_reused') or 0)}, EOFs "
        f"{(lg.get('eof_fresh') or 0) + (lg.get('eof_reused') or 0)}, timeouts {lg.get('timeout')}) "
        f"non2xx={lg.get('non2xx')} ok={lg.get('ok')}"
    )
    ev = rec.get("events") or {}
    w = lg.get("window") or {}
    wl = w.get("latency_ms") or {}
    swap = (ev["swap_end"] - ev["swap_start"]) if "swap_end" in ev and "swap_start" in ev else None
    sub = cls + (f" · swap {swap} ms" if swap is not None else "")
    if wl:
        sub += f" · window p50 {nice(wl.get('p50'))} / p99 {nice(wl.get('p99'))} / max {nice(wl.get('max'))} ms"
    fail_color = "#c00" if lg.get("failed") or lg.get("non2xx") else "#333"
    a(f'<text x="{X0}" y="36" fill="{fail_color}">{escape(sub)}</text>')

    # swap shading and window outline
    if "swap_start" in ev and "swap_end" in ev:
        xs, xe = x(ev["swap_start"]), x(ev["swap_end"])
        a(f'<rect x="{xs:.1f}" y="{Y0}" width="{max(xe - xs, 1.5):.1f}" height="{F1 - Y0}" fill="#fde68a" opacity="0.6"/>')
        ws, we = x(ev["swap_start"] - 250), x(ev["swap_end"] + 1000)
        a(f'<rect x="{ws:.1f}" y="{Y0}" width="{we - ws:.1f}" height="{F1 - Y0}" fill="none" stroke="#d4a017" '
          'stroke-dasharray="3,3"/>')
        a(f'<text x="{xs:.1f}" y="{Y0 - 3}" fill="#a07000">swap</text>')

    # axes and grid
    a(f'<rect x="{X0}" y="{Y0}" width="{X1 - X0}" height="{Y1 - Y0}" fill="none" stroke="#444"/>')
    d = llo
    while d <= lhi + 1e-9:
        yy = y(10 ** d)
        a(f'<line x1="{X0}" x2="{X1}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e3e3e3"/>')
        label = f"{10 ** d:g}"
        a(f'<text x="{X0 - 4}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>')
        d += 1
    a(f'<text x="14" y="{(Y0 + Y1) / 2:.0f}" transform="rotate(-90 14 {(Y0 + Y1) / 2:.0f})" '
      'text-anchor="middle">latency ms (log)</text>')
    step = max(1, math.ceil(dur / 12))
    s = 0
    while s <= dur + 1e-9:
        xx = X0 + (X1 - X0) * s / dur
        a(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{Y1}" y2="{Y1 + 4}" stroke="#444"/>')
        a(f'<text x="{xx:.1f}" y="{F1 + 16}" text-anchor="middle">{s}</text>')
        s += step
    a(f'<text x="{X1}" y="{F1 + 32}" text-anchor="end">seconds since the load started (bucket {b} ms)</text>')

    # latency lines (broken where a bucket had no answer)
    for key in ("max", "p99", "p50"):
        segs, cur = [], []
        for r in tl:
            v = r.get(key)
            if v is None:
                if cur:
                    segs.append(cur)
                cur = []
                continue
            cur.append(f"{x(r['t'] + b / 2):.1f},{y(v):.1f}")
        if cur:
            segs.append(cur)
        width = "1" if key == "max" else "1.5"
        for seg in segs:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                a(f'<circle cx="{cx}" cy="{cy}" r="1.5" fill="{COLORS[key]}"/>')
            else:
                a(f'<polyline fill="none" stroke="{COLORS[key]}" stroke-width="{width}" points="{" ".join(seg)}"/>')

    # failure strip
    a(f'<rect x="{X0}" y="{F0}" width="{X1 - X0}" height="{F1 - F0}" fill="none" stroke="#444"/>')
    a(f'<text x="{X0 - 4}" y="{(F0 + F1) / 2 + 4:.0f}" text-anchor="end">failed</text>')
    fmax = max([r.get("failed", 0) + r.get("non2xx", 0) for r in tl] + [0])
    if fmax > 0:
        bw = max((X1 - X0) * (b / 1000.0) / dur, 1.0)
        for r in tl:
            f, n = r.get("failed", 0), r.get("non2xx", 0)
            if f + n == 0:
                continue
            hgt = (F1 - F0 - 2) * math.log10(1 + f + n) / math.log10(1 + fmax)
            xx = x(r["t"])
            a(f'<rect x="{xx:.1f}" y="{F1 - hgt:.1f}" width="{bw:.1f}" height="{hgt:.1f}" '
              f'fill="{"#d62728" if f else "#9467bd"}"><title>{f} failed, {n} non-2xx</title></rect>')
        a(f'<text x="{X1 - 4}" y="{F0 + 12}" text-anchor="end" fill="#d62728">max {fmax} per bucket (log height)</text>')
    else:
        a(f'<text x="{(X0 + X1) / 2:.0f}" y="{(F0 + F1) / 2 + 4:.0f}" text-anchor="middle" fill="#2a7">no failed request</text>')

    # events
    ys = Y0 + 12
    for k, label in sorted(EVENT_LABELS.items(), key=lambda kv: ev.get(kv[0], 0)):
        if k in ev:
            xx = x(ev[k])
            a(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{Y0}" y2="{F1}" stroke="#555" stroke-dasharray="2,3"/>')
            a(f'<text x="{xx + 3:.1f}" y="{ys}" fill="#555">{label}</text>')
            ys += 12

    # legend (bottom left, one row)
    ly = H - 10
    lx = X0
    for key in ("p50", "p99", "max"):
        a(f'<line x1="{lx}" x2="{lx + 20}" y1="{ly - 4}" y2="{ly - 4}" stroke="{COLORS[key]}" stroke-width="2"/>')
        a(f'<text x="{lx + 24}" y="{ly}">{key}</text>')
        lx += 60
    a(f'<rect x="{lx}" y="{ly - 9}" width="14" height="9" fill="#fde68a"/>')
    a(f'<text x="{lx + 18}" y="{ly}">swap</text>')
    lx += 56
    a(f'<rect x="{lx}" y="{ly - 9}" width="14" height="9" fill="none" stroke="#d4a017" stroke-dasharray="3,3"/>')
    a(f'<text x="{lx + 18}" y="{ly}">window (swap -250 ms .. +1 s)</text>')
    lx += 200
    a(f'<rect x="{lx}" y="{ly - 9}" width="14" height="9" fill="#d62728"/>')
    a(f'<text x="{lx + 18}" y="{ly}">failed</text>')
    lx += 60
    a(f'<rect x="{lx}" y="{ly - 9}" width="14" height="9" fill="#9467bd"/>')
    a(f'<text x="{lx + 18}" y="{ly}">non-2xx only</text>')
    a("</svg>")
    return "\n".join(out) + "\n", name


def main(argv):
    out_dir = None
    files = []
    it = iter(argv)
    for arg in it:
        if arg == "--out":
            out_dir = Path(next(it))
        else:
            files.append(Path(arg))
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    rc = 0
    for f in files:
        try:
            rec = json.loads(f.read_text())
            if not rec.get("loadgen"):
                continue
            svg, name = plot(rec)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"plot.py: {f}: {e}", file=sys.stderr)
            rc = 1
            continue
        dest = (out_dir or f.parent) / f"{name or f.stem}.svg"
        dest.write_text(svg)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
