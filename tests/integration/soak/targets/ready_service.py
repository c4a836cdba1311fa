"""Test service: serves Prometheus metrics on a free port and writes a JSON ready file."""

import json
import os
import signal
import sys
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

registry = CollectorRegistry()
queue = Gauge("demo_queue_depth", "queue depth", registry=registry)
ticks = Counter("demo_ticks", "ticks", ["kind"], registry=registry)
server, _thread = start_http_server(0, addr="127.0.0.1", registry=registry)
port = server.server_port
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump({"url": f"http://127.0.0.1:{port}/metrics", "port": port}, f)
os.replace(tmp, sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
n = 0
while True:
    n += 1
    queue.set(7)
    ticks.labels("a").inc()
    ticks.labels("b").inc(2)
    time.sleep(0.1)
