"""A tiny exporter for the Prometheus tests: one gauge, growing at RATE bytes/s or flat.

Usage: gauge_exporter.py READY_FILE RATE_BYTES_PER_S. Serves /metrics on a free loopback port
(written to READY_FILE) until killed; the value is computed at scrape time.
"""

import sys
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, start_http_server

ready, rate = Path(sys.argv[1]), float(sys.argv[2])
registry = CollectorRegistry()
gauge = Gauge("fleet_test_memory_bytes", "a process's memory", registry=registry)
t0 = time.time()
base = 200 * (1 << 20)
# Flat: a small sawtooth (GC-like, 64 KiB) around a constant level; growing: base + rate * t.
gauge.set_function(lambda: base + rate * (time.time() - t0) + (int(time.time()) % 4) * 16384)
server, _thread = start_http_server(0, addr="127.0.0.1", registry=registry)
tmp = ready.with_suffix(".tmp")
tmp.write_text(str(server.server_port))
tmp.replace(ready)
deadline = time.monotonic() + 600  # bounded even if the test forgets us
while time.monotonic() < deadline:
    time.sleep(1)
