#!/usr/bin/env python3
"""Helpers of benchmarks/stream.sh.

  stamp            copies standard input to standard output, one line per progress line (the
                   stream redraws its line with carriage returns on a terminal), each prefixed
                   with the wall-clock time it arrived, in epoch seconds
  rate LOG         the sustained read rate of a stamped stream log: records per second between
                   the lines where 10% and 90% of the records had been read
  lag LOG FROM TO  the watermark's lag behind the wall clock, per progress line that arrived
                   within [FROM, TO) (epoch seconds): count, p50, p90, p99, max, and the read rate
  load LOG         min, mean and max of the 1-minute load average sampled into LOG
"""
import datetime
import re
import sys

LINE = re.compile(r'^([0-9.]+) \[\s*([0-9.]+) s\] streaming\s+read ([0-9,]+) \(([0-9,]+)/s\)'
                  r'(?:\s+watermark (\S+) \(lag [^)]*\))?')


def stamp():
    import time
    buf = b''
    src = sys.stdin.buffer
    while True:
        chunk = src.read1(4096) if hasattr(src, 'read1') else src.read(4096)
        if not chunk:
            break
        buf += chunk
        parts = re.split(rb'[\r\n]', buf)
        buf = parts.pop()
        now = time.time()
        for p in parts:
            text = p.decode('utf-8', 'replace').strip()
            if text:
                sys.stdout.write(f'{now:.3f} {text}\n')
        sys.stdout.flush()
    if buf.strip():
        sys.stdout.write(f'{time.time():.3f} {buf.decode("utf-8", "replace").strip()}\n')


def lines(path):
    out = []
    for text in open(path, errors='replace'):
        m = LINE.match(text)
        if m:
            wm = None
            if m.group(5):
                wm = datetime.datetime.fromisoformat(m.group(5).replace('Z', '+00:00')).timestamp()
            out.append((float(m.group(1)), float(m.group(2)), int(m.group(3).replace(',', '')),
                        int(m.group(4).replace(',', '')), wm))
    return out


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def rate(path):
    pts = lines(path)
    total = max(p[2] for p in pts)
    a = next(p for p in pts if p[2] >= 0.1 * total)
    b = next(p for p in pts if p[2] >= 0.9 * total)
    first = next(p for p in pts if p[2] > 0)
    last = next(p for p in pts if p[2] >= total)
    print(f'read {total:,} records; first at {first[1]:.1f} s, all at {last[1]:.1f} s; '
          f'sustained {(b[2] - a[2]) / (b[1] - a[1]):,.0f} records/s (10% to 90%, '
          f'{a[1]:.0f} s to {b[1]:.0f} s); whole {total / (last[1] - first[1] + 1e-9):,.0f}/s '
          f'from first to last record')


def lag(path, start, end):
    pts = [p for p in lines(path) if start <= p[0] < end and p[4] is not None]
    if not pts:
        print('no progress line with a watermark in that span')
        return
    lags = [p[0] - p[4] for p in pts]
    read = (pts[-1][2] - pts[0][2]) / (pts[-1][1] - pts[0][1]) if len(pts) > 1 else 0
    print(f'watermark lag over {len(lags)} samples ({pts[0][1]:.0f} s to {pts[-1][1]:.0f} s): '
          f'p50 {pct(lags, 50):.2f} s, p90 {pct(lags, 90):.2f} s, p99 {pct(lags, 99):.2f} s, '
          f'max {max(lags):.2f} s; read {read:,.0f} records/s meanwhile')


def load(path):
    vals = [float(line.split()[0]) for line in open(path) if line.strip()]
    print(f'load average (1 min) min {min(vals):.2f}, mean {sum(vals) / len(vals):.2f}, '
          f'max {max(vals):.2f} over {len(vals)} samples')


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'stamp':
        stamp()
    elif cmd == 'rate':
        rate(sys.argv[2])
    elif cmd == 'lag':
        lag(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    elif cmd == 'load':
        load(sys.argv[2])
    else:
        sys.exit(__doc__)
