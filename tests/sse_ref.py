#!/usr/bin/env python3
"""A reference for sse listen's json, data and data0 formats, written
straight from the WHATWG rules (HTML Standard, "Server-sent events",
"Parsing an event stream" and "Interpreting an event stream"), sharing no
code with sse. Standard library only.

Usage: sse_ref.py SEED DIR

Writes to DIR a random stream (seeded: the same SEED gives the same bytes)
that is mostly events of the shapes the parser hands over as runs (data,
an id line, an event line, as sse_serialize writes them), mixed
with everything that must break a run (id-only blocks, event, retry and
unknown fields, comments, ids with NUL, CR and CRLF line ends, a BOM,
non-ASCII, invalid UTF-8, U+2028), and:

  stream.sse       the stream
  script           an sse_server.py script sending it in random pieces
                   (one HTTP chunk each: one read each for the client)
  want.json, want.data, want.data0   the output each format must give
"""

import random
import sys


def events(stream):
    """The dispatched events: (type, data, last event ID) each."""
    text = stream.decode("utf-8", errors="replace")  # maximal subparts
    if text.startswith("\ufeff"):
        text = text[1:]
    lines, start, i = [], 0, 0
    while i < len(text):
        if text[i] in "\r\n":
            lines.append(text[start:i])
            if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
                i += 1
            start = i + 1
        i += 1
    out, data, etype, idbuf, last = [], "", "", "", ""
    for line in lines:  # an unterminated last line is never dispatched
        if line == "":
            last = idbuf
            if data != "":
                out.append((etype or "message", data[:-1], last))
            data, etype = "", ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            etype = value
        elif name == "data":
            data += value + "\n"
        elif name == "id" and "\0" not in value:
            idbuf = value
    return out


def jstr(s):
    esc = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
           "\f": "\\f", "\r": "\\r"}
    out = []
    for ch in s:
        o = ord(ch)
        if ch in esc:
            out.append(esc[ch])
        elif o < 0x20 or o == 0x7F or o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


ODD = [b'"', b"\\", b"\t", b"\x01", b"\x7f", b"\x00", "\u00e9".encode(),
       "\u2028".encode(), "\u2029".encode(), b"\xff", b"\xe2\x80",
       "\U0001F600".encode(), b":", b"\xef\xbb\xbf"]


def text(r, ascii_only):
    n = r.choice([0, 1, 3, 8, 40, 70, r.randrange(0, 200)])
    return b"".join(
        bytes([r.choice(b"abcXYZ019 ,.{}")])
        if ascii_only or r.random() < 0.8 else r.choice(ODD)
        for _ in range(n))


def stream(r):
    def nl():
        return r.choice([b"\n"] * 10 + [b"\r", b"\r\n"])

    parts = [b"\xef\xbb\xbf"] if r.random() < 0.5 else []
    for _ in range(400):
        k = r.random()
        if k < 0.3:
            parts.append(b"data: " + text(r, r.random() < 0.7) + b"\n\n")
        elif k < 0.5:
            parts.append(b"id: " + text(r, r.random() < 0.8)[:12] +
                         b"\ndata: " + text(r, r.random() < 0.7) + b"\n\n")
        elif k < 0.7:
            # typed, as sse_serialize writes them (in runs), now and then
            # not quite (type message or empty, id first: one by one)
            t = r.choice([b"tick", b"t", text(r, r.random() < 0.8)[:10],
                          b"message", b""])
            i = (b"id: " + text(r, r.random() < 0.8)[:12] + b"\n"
                 if r.random() < 0.7 else b"")
            ev = b"event: " + t + b"\n"
            parts.append((i + ev if r.random() < 0.1 else ev + i) +
                         b"data: " + text(r, r.random() < 0.7) + b"\n\n")
        else:
            parts.append(r.choice([
                b"id: " + text(r, False)[:8] + nl() + nl(),
                b"id: a\x00b" + nl(), b"id:  two" + nl(), b"id" + nl(),
                b"event: " + r.choice([b"message", b"t", b"", b'"']) + nl(),
                b":" + text(r, False)[:8] + nl(),
                b"retry: " + r.choice([b"10", b"", b"x"]) + nl(),
                b"data:" + text(r, False) + nl(), b"data" + nl(), nl(),
                b"foo: bar" + nl(), b"data:  two" + nl(),
                b"data: " + text(r, True) + nl() + nl(),
            ]))
    parts.append(b"data: unterminated")
    return b"".join(parts)


def main():
    r = random.Random(int(sys.argv[1]))
    d = sys.argv[2]
    s = stream(r)
    with open(d + "/stream.sse", "wb") as f:
        f.write(s)
    with open(d + "/script", "w") as f:
        i = 0
        while i < len(s):
            n = r.choice([1, 1, 2, 5, 17, 64, 300, 2000])
            f.write("send %r\n" % s[i : i + n])
            i += n
    evs = events(s)
    with open(d + "/want.json", "wb") as f:
        f.write("".join('{"event":%s,"data":%s,"id":%s}\n' % (
            jstr(t), jstr(v), jstr(i)) for t, v, i in evs).encode())
    for fmt, end in (("data", "\n"), ("data0", "\0")):
        with open(d + "/want." + fmt, "wb") as f:
            f.write("".join(v + end for t, v, i in evs).encode())


if __name__ == "__main__":
    main()
