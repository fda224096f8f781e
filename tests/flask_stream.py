#!/usr/bin/env python3
"""A Flask app in the shape of the usual /stream endpoint, for the interop
test of sse listen: it emits an id, `event: add` and JSON data for three
items, then a final `done` event. Served by Werkzeug on 127.0.0.1 on an
ephemeral port, which it prints on stdout."""

import json
import sys

from flask import Flask, Response
from werkzeug.serving import make_server

app = Flask(__name__)
ITEMS = ["apple", "pear", "fig"]


@app.route("/stream")
def stream():
    def events():
        for n, item in enumerate(ITEMS, 1):
            yield "id: %d\nevent: add\ndata: %s\n\n" % (
                n, json.dumps({"n": n, "item": item}))
        yield "id: %d\nevent: done\ndata: %s\n\n" % (
            len(ITEMS) + 1, json.dumps({"count": len(ITEMS)}))

    return Response(events(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache"})


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    sys.stdout.flush()
    server.serve_forever()
