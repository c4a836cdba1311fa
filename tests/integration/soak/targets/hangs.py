"""Test target: answers GET /healthz 200 on PORT for HEALTHY_S seconds, then hangs (alive,
listening, never answering again), like a bot whose event loop is stuck."""

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, healthy_s = int(sys.argv[1]), float(sys.argv[2])
started = time.monotonic()
stuck = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if time.monotonic() - started > healthy_s:
            stuck.wait(3600)  # hung: the probe times out
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
print(f"serving on {port}", flush=True)
server.serve_forever()
