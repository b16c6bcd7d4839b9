#!/usr/bin/env python3
"""Latency of back-to-back requests on one keep-alive connection, to show stalls.

    bench/stall-probe.py URL [SECONDS] [THRESHOLD_MS]     defaults: 5 s, 5 ms

With no other load, every request should take well under a millisecond; a server whose event
loop is blocked (a long synchronous task on its only core) shows up as runs of slow requests. The
script prints p50/p99/max, p99.9 and how many requests took over 0.5, 1, 2, 5 and 10 ms, then
every request slower than THRESHOLD_MS with its time since the start, and how the slow ones fall
within the second (a periodic task stands out as one bucket).
Run it pinned to another cpu than the server, e.g. `taskset -c 0 bench/stall-probe.py ...`.
"""
import http.client
import sys
import time
from urllib.parse import urlsplit


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    url = urlsplit(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    threshold = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)

    samples = []  # (seconds since start, latency ms, status)
    start = time.monotonic()
    while (now := time.monotonic()) - start < seconds:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        samples.append((now - start, (time.monotonic() - now) * 1000, resp.status))

    lat = sorted(s[1] for s in samples)
    n = len(lat)
    bad = sum(1 for s in samples if not 200 <= s[2] < 300)
    print(f"{n} requests in {seconds:.0f} s ({n / seconds:.0f}/s), non-2xx {bad}: "
          f"p50 {lat[n // 2]:.2f} ms  p99 {lat[min(n - 1, n * 99 // 100)]:.2f} ms  max {lat[-1]:.2f} ms")
    p999 = lat[min(n - 1, n * 999 // 1000)]
    over = "  ".join(f">{t:g} ms: {sum(1 for x in lat if x > t)}" for t in (0.5, 1, 2, 5, 10))
    print(f"p99.9 {p999:.2f} ms; requests {over}")
    slow = [s for s in samples if s[1] > threshold]
    print(f"{len(slow)} requests slower than {threshold:g} ms, total {sum(s[1] for s in slow):.0f} ms")
    for t, ms, _ in slow[:60]:
        print(f"  t={t:7.3f} s  {ms:7.1f} ms")
    if len(slow) > 60:
        print(f"  ... {len(slow) - 60} more")
    buckets = [0] * 10
    for t, _, _ in slow:
        buckets[int((t % 1) * 10)] += 1
    print("slow requests by tenth of a second since start:", buckets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
