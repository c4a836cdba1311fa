"""Membership of one supervised process tree, refreshed cheaply every sample.

A member is identified by ``(pid, start)`` so a recycled pid is never mistaken for a member.
Each refresh walks from the root and from every member still alive to their children, so a
grandchild whose parent died (and which the subreaper adopted) stays a member: it was seen
before its parent exited. Orphans that were never seen are handed in by the supervisor with
:meth:`ProcessTree.adopt`, which knows which tree an adopted child came from.
"""

from __future__ import annotations

from typing import Protocol

from soakctl.procfs import ProcReading


class ProcReader(Protocol):
    def read(self, pid: int) -> ProcReading | None: ...

    def children(self, pid: int, num_threads: int = 0) -> list[int]: ...

    def num_fds(self, pid: int) -> int | None: ...

    def io_bytes(self, pid: int) -> tuple[int, int] | None: ...

    def uss_bytes(self, pid: int) -> int | None: ...

    def sys_cpu_times(self) -> tuple[float, float]:
        """(busy, total) CPU time of the whole machine, any unit."""
        ...

    def sys_mem_available(self) -> int: ...

    def spawn_marker(self) -> bytes | None:
        """Changes whenever a process is created on the machine; None if unknown."""
        ...


class ProcessTree:
    def __init__(self, reader: ProcReader, root_pid: int | None = None) -> None:
        self._reader = reader
        self.root_pid = root_pid
        self.root_session: int | None = None
        self._members: dict[int, float] = {}  # pid -> start
        self._adopted: set[int] = set()
        self._marker: bytes | None = None

    def set_root(self, pid: int) -> None:
        """A new incarnation of the supervised process (after a restart); members persist."""
        self.root_pid = pid
        reading = self._reader.read(pid)
        if reading is not None:
            self._members[pid] = reading.start
            self.root_session = reading.session

    def adopt(self, pid: int) -> None:
        """Count an orphan reparented to the supervisor as a member of this tree."""
        self._adopted.add(pid)
        self._marker = None

    def start_of(self, pid: int) -> float | None:
        return self._members.get(pid)

    def pids(self) -> list[int]:
        """The members found by the last refresh."""
        return list(self._members)

    def refresh(self) -> list[ProcReading]:
        """Walk the tree and return a fresh reading of every member, zombies included.

        Children are listed only when a process was created somewhere since the last walk
        (the spawn marker moved): otherwise membership can only shrink, and reading the known
        members is enough. That halves the cost of a sample on a quiet machine.
        """
        read = self._reader.read
        marker = self._reader.spawn_marker()
        walk = marker is None or marker != self._marker
        frontier = list(self._members)
        frontier.extend(self._adopted)
        if self.root_pid is not None and self.root_pid not in self._members:
            frontier.append(self.root_pid)
            walk = True
        seen: dict[int, ProcReading] = {}
        while frontier:
            pid = frontier.pop()
            if pid in seen:
                continue
            reading = read(pid)
            if reading is None:
                continue
            known_start = self._members.get(pid)
            if known_start is not None and known_start != reading.start:
                continue  # pid recycled by an unrelated process
            seen[pid] = reading
            if walk and not reading.zombie:
                frontier.extend(self._reader.children(pid, reading.num_threads))
        self._members = {pid: r.start for pid, r in seen.items()}
        self._marker = marker
        self._adopted &= seen.keys()
        return list(seen.values())
