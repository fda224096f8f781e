#!/usr/bin/env python3
"""Raw HTTP requests with heads of chosen shape and size, for serve.bats.

heads.py PORT sweep     requests of each shape whose heads cost from 2,000
                        to 6,000 (by SMALL_HEAD's measure in cmd/http/http.h;
                        the small pool takes up to 3,328), so that both
                        sides of the line between the two pools are tried:
                        prints "SHAPE COST STATUS" for each that FAILED
heads.py PORT big       a browser's worst: 8 KB of cookies and 60 headers
heads.py PORT huge      a 70 KB header: prints the status (431 expected)
heads.py PORT flood N   N connections that send nothing, then a normal
                        request; prints its status, then how many of the
                        first connections the server has closed
heads.py PORT browser KB
                        a browser's EventSource request with KB kilobytes of
                        cookies: prints the status
heads.py PORT endless N PID
                        N connections at once whose head never ends (a
                        header line that goes on for up to 1 MB each): prints
                        how many got each status, then how much the peak
                        memory of the server (PID) grew, in KiB
heads.py PORT idle-cost N KB PID
                        N streams at once, each with a browser's head and KB
                        kilobytes of cookies (none for 0): prints what one
                        costs the server (PID) in memory (VmRSS), in bytes
heads.py PORT stall     sends half a head and waits (until killed)
heads.py PORT starve N  N connections that send nothing, then a normal
                        request: prints "waits" if it gets no answer while
                        they are open (else "answered"), then its status
                        once they are closed
heads.py PORT starve-streams N
                        streams, one after another, until one gets no
                        answer (at most N): prints "waits" then, and its
                        status once the others are closed
"""
import socket
import sys
import time

PORT = int(sys.argv[1])
FIELD_COST = 64
COPIED = ("cookie", "origin", "access-control-request-headers")


def cost(head):
    """The small pool's measure of a head (see SMALL_HEAD in cmd/http/http.h)."""
    skipped = len(head) - len(head.lstrip("\r\n"))  # empty lines first
    head = head[skipped:]
    lines = head.split("\n")
    first = lines[0]
    total = skipped + len(head) + FIELD_COST * (
        head.count("\n") + first.count("?") + first.count("&")
        + head.count(";"))
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name.lower() in COPIED:
            total += len(value) + 1  # the value and the line's end, twice
        if colon and name.lower() == "cookie":  # ',' parts cookies too
            total += FIELD_COST * value.count(",")
    return total


def connect():
    return socket.create_connection(("127.0.0.1", PORT), timeout=5)


def answer(s, data=b""):
    """Read s's answer (after data) up to its first event, or its end (the
    server closes after any other answer); return (status, got an event)."""
    try:
        while b"data:" not in data:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (socket.timeout, ConnectionResetError):
        pass
    status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") \
        else "none"
    return status, b"data:" in data


def send(head):
    """Send a head; return (status, got an event) from the answer."""
    s = connect()
    s.sendall(head.encode())
    got = answer(s)
    s.close()
    return got


def sweep(make):
    """make(k) for k whose cost runs from 2,000 to 6,000, every ~50."""
    k, last = 1, 0
    while cost(make(k)) <= 6000:
        c = cost(make(k))
        if c >= 2000 and c - last >= 50:
            last = c
            yield make(k)
        k += 1


START = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SHAPES = {
    "one-long-header": lambda k: START + "X-Long: " + "a" * k + "\r\n\r\n",
    "many-headers": lambda k: START + "".join(
        "X-%d: v\r\n" % i for i in range(k)) + "\r\n",
    "url-arguments": lambda k: "GET /events?" + "&".join(
        "a%d=1" % i for i in range(k)) + " HTTP/1.1\r\nHost: x\r\n\r\n",
    "cookies": lambda k: START + "Cookie: " + "; ".join(
        "c%d=v" % i for i in range(k)) + "\r\n\r\n",
    "long-cookie": lambda k: START + "Cookie: c=" + "v" * k + "\r\n\r\n",
    "comma-cookies": lambda k: START + "Cookie: ids=" + ",".join(
        str(i) for i in range(k)) + "\r\n\r\n",
    "echoed-origin": lambda k: START + "Origin: http://" + "o" * k
    + "\r\n\r\n",
    "preflight": lambda k: "OPTIONS /events HTTP/1.1\r\nHost: x\r\n"
    "Origin: http://" + "o" * k + "\r\nAccess-Control-Request-Method: GET"
    "\r\nAccess-Control-Request-Headers: " + "h" * k + "\r\n\r\n",
    "last-event-id": lambda k: START + "Last-Event-ID: " + "9" * k
    + "\r\n\r\n",
    # Obsolete line folding: libmicrohttpd copies the folded value.
    "folded-origin": lambda k: START + "Origin: http://a\r\n " + "o" * k
    + "\r\n\r\n",
    "folded-then-long": lambda k: START + "X-Folded: " + "f" * (k // 4)
    + "\r\n\tg\r\nX-Long: " + "l" * k + "\r\n\r\n",
    # Empty lines before the request line, which libmicrohttpd skips.
    "empty-lines-first": lambda k: "\r\n\n" + START + "Cookie: c="
    + "v" * k + "\r\n\r\n",
    "empty-line-url-arguments": lambda k: "\r\nGET /events?" + "&".join(
        "a%d=1" % i for i in range(k)) + " HTTP/1.1\r\nHost: x\r\n\r\n",
}


# What Chromium sends with an EventSource request, before its cookies.
BROWSER = START + "".join(h + "\r\n" for h in (
    "Connection: keep-alive", "Pragma: no-cache", "Cache-Control: no-cache",
    'sec-ch-ua-platform: "Linux"', "Accept: text/event-stream",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    'sec-ch-ua: "Not:A-Brand";v="8", "Chromium";v="156"',
    "sec-ch-ua-mobile: ?0", "Sec-Fetch-Site: same-origin",
    "Sec-Fetch-Mode: cors", "Sec-Fetch-Dest: empty",
    "Referer: http://127.0.0.1/", "Accept-Encoding: gzip, deflate, br, zstd",
    "Accept-Language: en-US,en;q=0.9"))


def browser_head(kb):
    """BROWSER with kb KB of cookies, 100 bytes each (name, value, '; ')."""
    if kb == 0:
        return BROWSER + "\r\n"
    return BROWSER + "Cookie: " + "; ".join(
        "session%03d=%s" % (i, "x" * 86) for i in range(kb * 10)) + "\r\n\r\n"


def status_of(pid, key):
    """A /proc/PID/status value in bytes (VmRSS, VmHWM)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise SystemExit("heads.py: no %s for %d" % (key, pid))


def endless(n, pid):
    """n connections sending a head that never ends, a piece each in turn."""
    hwm0 = status_of(pid, "VmHWM")
    conns = [connect() for _ in range(n)]
    for s in conns:
        s.sendall(START.encode() + b"X-Endless: ")
        s.setblocking(False)
    piece, sent, live = b"a" * 16384, [0] * n, set(range(n))
    while live:
        for i in list(live):
            try:
                sent[i] += conns[i].send(piece)
                if sent[i] >= 1 << 20:
                    live.discard(i)
            except BlockingIOError:
                if sent[i] >= 1 << 20:
                    live.discard(i)
            except OSError:  # the server answered and closed
                live.discard(i)
        time.sleep(0.001)
    counts = {}
    for s in conns:
        s.setblocking(True)
        s.settimeout(5)
        try:
            status = answer(s)[0]
        except OSError:
            status = "reset"
        counts[status] = counts.get(status, 0) + 1
        s.close()
    print(" ".join("%s:%d" % kv for kv in sorted(counts.items())))
    print((status_of(pid, "VmHWM") - hwm0) // 1024)


def idle_cost(n, kb, pid):
    """The server's memory for n idle streams with browser_head(kb)."""
    time.sleep(0.2)
    rss0 = status_of(pid, "VmRSS")
    conns = []
    for _ in range(n):
        s = connect()
        s.sendall(browser_head(kb).encode())
        conns.append(s)
    for s in conns:  # each has its answer's head: the stream waits
        data = b""
        while b"\r\n\r\n" not in data:
            b = s.recv(65536)
            if not b:
                raise SystemExit("heads.py: a stream was closed")
            data += b
        if not data.startswith(b"HTTP/1.1 200"):
            raise SystemExit("heads.py: " + data.split(b"\r\n")[0].decode())
    time.sleep(0.5)
    print((status_of(pid, "VmRSS") - rss0) // n)
    for s in conns:
        s.close()


def starved(s, idle, data):
    """Close the idle connections; print the status s is answered with."""
    for i in idle:
        i.close()
    s.settimeout(5)
    print(answer(s, data)[0])


def main():
    mode = sys.argv[2]
    if mode == "sweep":
        tried = 0
        for name, make in SHAPES.items():
            for head in sweep(make):
                status, data = send(head)
                tried += 1
                ok = status == "204" if name == "preflight" else (
                    status == "200" and data)
                if not ok:  # the first failure of a shape is enough
                    print(name, cost(head), status, "FAILED")
                    break
        print(tried, "tried")
    elif mode == "big":
        head = START + "Cookie: " + "; ".join(
            "c%d=%s" % (i, "v" * 70) for i in range(110)) + "\r\n" + "".join(
            "X-Header-%d: value %d\r\n" % (i, i) for i in range(60)) + "\r\n"
        status, data = send(head)
        print(len(head), status, "data" if data else "no-data")
    elif mode == "huge":
        print(send(START + "X-Huge: " + "a" * 70000 + "\r\n\r\n")[0])
    elif mode == "flood":
        n = int(sys.argv[3])
        idle = [connect() for _ in range(n)]
        time.sleep(0.2)
        print(send(START + "\r\n")[0])
        closed = 0
        for s in idle[:n // 2]:
            s.settimeout(0.01)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except (socket.timeout, ConnectionResetError):
                pass
        print(closed)
    elif mode == "starve":
        idle = [connect() for _ in range(int(sys.argv[3]))]
        s = connect()
        s.sendall((START + "\r\n").encode())
        s.settimeout(0.5)
        data = b""
        try:
            data = s.recv(65536)
            print("answered" if data else "closed")
        except socket.timeout:
            print("waits")
        starved(s, idle, data)
    elif mode == "starve-streams":
        idle, data = [], b""
        for _ in range(int(sys.argv[3])):
            s = connect()
            s.sendall((START + "\r\n").encode())
            s.settimeout(0.5)
            try:
                if not s.recv(65536):
                    print("closed")  # dropped, not kept waiting: a failure
                    return
                idle.append(s)
            except socket.timeout:
                print("waits")
                break
        else:
            print("answered")
        starved(s, idle, data)
    elif mode == "endless":
        endless(int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "idle-cost":
        idle_cost(int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "browser":
        print(send(browser_head(int(sys.argv[3])))[0])
    elif mode == "stall":
        s = connect()
        s.sendall(START.encode())
        time.sleep(60)
    else:
        sys.exit("heads.py: unknown mode " + mode)


main()
