"""The dead-man's switch: kills the supervised trees if soakctl itself dies (even by SIGKILL).

Started by the supervisor as ``python -m soakctl.guard`` with a pipe on stdin. The supervisor
writes ``pg PGID`` for each process group it starts, ``pid PID START`` for every member it
discovers and ``drop PID`` when a member is gone (so a day of short-lived children does not
grow the guard). If the pipe reaches EOF without a ``done`` line, soakctl is gone: the guard kills
every registered group, every process of those sessions, and every registered pid whose start
time still matches (a recycled pid is spared). ``PR_SET_PDEATHSIG`` alone would only cover the
direct child, never the grandchildren. POSIX only; on Windows kill-on-close job objects do this
job (:mod:`soakctl.winjob`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].split()


def _kill_all(groups: set[int], pids: dict[int, bytes]) -> None:
    for _ in range(3):  # a process forking while we kill: sweep a few times
        for pgid in groups:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        if os.path.isdir("/proc"):
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                fields = _stat_fields(int(entry))
                if fields is None:
                    continue
                pid = int(entry)
                if int(fields[3]) in groups or pids.get(pid) == fields[19]:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    groups: set[int] = set()
    pids: dict[int, bytes] = {}
    for raw in sys.stdin.buffer:
        parts = raw.split()
        if not parts:
            continue
        if parts[0] == b"done":
            return 0
        if parts[0] == b"pg" and len(parts) == 2:
            groups.add(int(parts[1]))
        elif parts[0] == b"pid" and len(parts) == 3:
            pids[int(parts[1])] = parts[2]
        elif parts[0] == b"drop" and len(parts) == 2:
            pids.pop(int(parts[1]), None)
    _kill_all(groups, pids)
    return 0


if __name__ == "__main__":
    sys.exit(main())
