"""A small bundled demo target for trying soakctl without a real service.

It behaves like a modest daemon: two worker children, a short-lived helper every few seconds,
a heap that warms up in five seconds then stays flat (with a small sawtooth), and a log line
a second on stdout and stderr. Run it with
``soakctl run --minutes 1 -- python -m soakctl.demo``. Exits cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

_running = True


def _stop(signum: int, frame: object) -> None:
    global _running
    _running = False


def _worker(tag: str) -> None:
    cache: list[bytearray] = []
    n = 0
    while _running:
        if len(cache) < 40:
            cache.extend(bytearray(64 * 1024) for _ in range(8))  # warm-up: 20 MiB in 5 s
        n += 1
        scratch = [bytearray(16 * 1024) for _ in range(n % 10)]  # a small GC-like sawtooth
        print(f"{tag}: tick {n} scratch {len(scratch)}", flush=True)
        del scratch
        time.sleep(1.0)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if argv[:1] == ["--worker"]:
        _worker(argv[1] if len(argv) > 1 else "worker")
        return 0
    workers = [
        subprocess.Popen([sys.executable, "-m", "soakctl.demo", "--worker", f"worker-{i}"])
        for i in range(2)
    ]
    n = 0
    while _running:
        n += 1
        print(f"demo: heartbeat {n}", flush=True)
        if n % 5 == 0:
            print(f"demo: spawned helper at {n}", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-c", "pass"], check=False, timeout=30)
        time.sleep(1.0)
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
