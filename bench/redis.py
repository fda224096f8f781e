#!/usr/bin/env python3
"""make bench: sse serve --redis, several nodes sharing one stream.

Usage: bench/redis.py [--quick] [--out DIR]

On this machine: a redis-server (unix socket, no persistence), one
producing node and three relay nodes (--input none), subscribers spread
over the four, against the same load on one node without Redis:
delivered events/s and publish-to-receive latency (p50, p99; a
subscriber's time minus the publisher's CLOCK_MONOTONIC stamp), as ratios
in one run. Then how fast one producing node gets events into Redis
(flat out), and Redis's CPU per event. The tools (pub, loadgen) and
helpers are bench/run's. Every process started is stopped by PID.
"""

import argparse
import atexit
import importlib.machinery
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader("benchrun", os.path.join(HERE, "run"))
_spec = importlib.util.spec_from_loader("benchrun", _loader)
br = importlib.util.module_from_spec(_spec)
_loader.exec_module(br)

RATE = 10_000  # events/s in the latency phases (the goal)


def log(msg):
    print(f"bench: redis: {msg}", file=sys.stderr, flush=True)


def resp(sock_path, *args):
    """One Redis command over the unix socket; the reply, parsed simply."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock_path)
        out = f"*{len(args)}\r\n".encode()
        for a in args:
            a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        s.sendall(out)
        f = s.makefile("rb")
        return _read(f)


def _read(f):
    line = f.readline().rstrip(b"\r\n")
    t, rest = line[:1], line[1:]
    if t in (b"+", b"-"):
        return rest.decode()
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise RuntimeError(f"unexpected reply {line!r}")


class Redis:
    def __init__(self, d):
        self.sock = os.path.join(d, "redis.sock")
        self.proc = br.start(["redis-server", "--port", "0", "--unixsocket", self.sock,
                              "--save", "", "--appendonly", "no", "--dir", d,
                              "--logfile", os.path.join(d, "redis.log")],
                             stdout=subprocess.DEVNULL)

        def up():
            try:
                return resp(self.sock, "PING") == "PONG"
            except OSError:
                return None
        br.wait_for(up, 10, "redis-server to start", 0.05)
        self.url = "unix://" + self.sock

    def cpu_s(self):
        return br.cpu_s(self.proc.pid)

    def top(self, key="sse"):
        r = resp(self.sock, "XREVRANGE", key, "+", "-", "COUNT", "1")
        return int(r[0][0].split("-")[1]) if r else 0

    def stop(self):
        br.stop(self.proc)


def node(redis=None, extra=()):
    args = list(extra)
    if redis:
        args = ["--redis", redis.url] + args
    return br.SseServe().start(args)


def phase(cluster, n, secs, d):
    """n subscribers (on one node, or spread over four), RATE events/s."""
    count = int(RATE * secs)
    redis = Redis(tempfile.mkdtemp(prefix="redis.", dir=d)) if cluster else None
    nodes, lgs = [], []
    try:
        nodes.append(node(redis))
        if cluster:
            nodes += [node(redis, ["--input", "none"]) for _ in range(3)]
        per = [n // len(nodes) + (1 if i < n % len(nodes) else 0) for i in range(len(nodes))]
        for nd, k in zip(nodes, per):
            lgs.append(br.Loadgen(nd.port, nd.path, k, expect=count,
                                  timeout=secs + 30 + n / 500, idle=3))
        for lg in lgs:
            lg.connected()
        time.sleep(0.5)
        cpu0 = redis.cpu_s() if redis else 0
        pub_out = os.path.join(d, f"pub.{cluster}.{n}")
        argv, kw = nodes[0].publisher(count, RATE, False)
        br.run_timed(argv + ["-t", str(secs + 5), "-o", pub_out], secs + 40,
                     stderr=subprocess.DEVNULL, **kw)
        rs = [lg.result() for lg in lgs]
        cpu1 = redis.cpu_s() if redis else 0
    finally:
        for lg in lgs:
            lg.stop()
        for nd in nodes:
            nd.stop()
        if redis:
            redis.stop()
    pub = json.loads(br.read_file(pub_out) or "{}")
    sent = pub.get("sent", 0)
    events = sum(r["events"] for r in rs)
    out = {
        "nodes": len(nodes), "subscribers": n, "sent": sent, "deliveries": events,
        "complete": sent > 0 and events == sent * n,
        "events_per_s": events / max(pub.get("elapsed_s", secs), 1e-3),
        "lat_p50_us": max(r["lat_p50_us"] for r in rs),
        "lat_p99_us": max(r["lat_p99_us"] for r in rs),
        "lat_p99_us_per_node": [r["lat_p99_us"] for r in rs],
        "redis_cpu_us_per_event": (cpu1 - cpu0) / sent * 1e6 if redis and sent else None,
    }
    log(f"{len(nodes)} node(s), {n} subscribers: {events} deliveries of {sent} events, "
        f"p50 {out['lat_p50_us']:.0f} us p99 {out['lat_p99_us']:.0f} us, "
        f"complete {out['complete']}")
    return out


def ingest(count, d):
    """One producing node, no client, flat out: events/s into Redis."""
    redis = Redis(tempfile.mkdtemp(prefix="redis.", dir=d))
    nd = None
    try:
        nd = node(redis, ["--history", str(count), "--history-bytes", "256M"])
        argv, kw = nd.publisher(count, 0, True)
        cpu0 = redis.cpu_s()
        t0 = time.monotonic()
        p = br.start(argv + ["-t", "60"], stderr=subprocess.DEVNULL, **kw)
        br.wait_for(lambda: redis.top() >= count or None, 120, "the events in Redis", 0.02)
        secs = time.monotonic() - t0
        cpu1 = redis.cpu_s()
        br.stop(p)
    finally:
        if nd:
            nd.stop()
        redis.stop()
    out = {"events": count, "seconds": secs, "events_per_s": count / secs,
           "redis_cpu_us_per_event": (cpu1 - cpu0) / count * 1e6}
    log(f"ingest: {count} events into Redis in {secs:.2f} s: {out['events_per_s']:.0f} "
        f"events/s, Redis {out['redis_cpu_us_per_event']:.2f} us CPU an event")
    return out


def main():
    ap = argparse.ArgumentParser(description="sse serve --redis benchmarks")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    a = ap.parse_args()
    if not br.shutil.which("redis-server"):
        log("redis-server is missing (tools/deps.sh test): skipped")
        return 0
    atexit.register(br.stop_all)
    signal.signal(signal.SIGINT, br.on_signal)
    signal.signal(signal.SIGTERM, br.on_signal)
    br.TMP = d = tempfile.mkdtemp(prefix="sse-bench-redis.")
    br.raise_nofile()
    br.build_tools()
    if not br.sse_serve_usable():
        log("sse serve is not usable in this build: skipped")
        return 0
    # 10,000 events/s to each: 2M deliveries/s in all, which one node on
    # two cores still takes without queueing (1,000 subscribers do not)
    n = 50 if a.quick else 200
    secs = 3 if a.quick else 8
    one = phase(False, n, secs, d)
    four = phase(True, n, secs, d)
    ing = ingest(200_000 if a.quick else 1_000_000, d)
    rows = [
        ("redis: delivered events/s, 4 nodes vs 1", four["events_per_s"], one["events_per_s"],
         "", ""),
        (f"redis: p99 latency at {RATE} ev/s, 4 nodes vs 1 (ms)", four["lat_p99_us"] / 1e3,
         one["lat_p99_us"] / 1e3, "<= 2x", four["lat_p99_us"] <= 2 * one["lat_p99_us"]),
        ("redis: p50 latency, 4 nodes vs 1 (ms)", four["lat_p50_us"] / 1e3,
         one["lat_p50_us"] / 1e3, "", ""),
        ("redis: complete (every subscriber every event)", four["complete"], one["complete"],
         "", four["complete"]),
        ("redis: producer into Redis, events/s", ing["events_per_s"], None, ">= 250000",
         ing["events_per_s"] >= 250_000),
        ("redis: Redis CPU an event, ingest (us)", ing["redis_cpu_us_per_event"], None, "", ""),
        ("redis: Redis CPU an event, 4 nodes (us)", four["redis_cpu_us_per_event"], None, "",
         ""),
    ]
    print(f"{'measure':58} {'sse':>12} {'1 node':>12} {'ratio':>7} {'target':>10} holds")
    for m, s, p, target, holds in rows:
        def f(v):
            if isinstance(v, bool) or v is None:
                return str(v if v is not None else "")
            return f"{v:.2f}" if v < 100 else f"{v:.0f}"
        ratio = f"{s / p:.2f}" if isinstance(s, float) and isinstance(p, float) and p else ""
        print(f"{m:58} {f(s):>12} {f(p):>12} {ratio:>7} {target:>10} {holds}")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "redis-latest" + ("-quick" if a.quick else "") + ".json"),
              "w") as fp:
        json.dump({"one_node": one, "four_nodes": four, "ingest": ing}, fp, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
