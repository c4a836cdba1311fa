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

    def fds_io_totals(self, pids: list[int]) -> tuple[int, int, int]:
        """(open fds, read bytes, written bytes) summed over ``pids``."""
        ...

    def uss_bytes(self, pid: int) -> int | None: ...

    def sys_cpu_times(self) -> tuple[float, float]:
        """(busy, total) CPU time of the whole machine, any unit."""
        ...

    def sys_mem_available(self) -> int: ...

    def spawn_marker(self) -> bytes | None:
        """Changes whenever a process is created on the machine; None if unknown."""
        ...

    # Optional, found with getattr: ``still(pids) -> bool``, True when no member has run since
    # its last reading (the last readings all hold; soakctl.procfs.LinuxProcReader.still).


class ProcessTree:
    def __init__(self, reader: ProcReader, root_pid: int | None = None) -> None:
        self._reader = reader
        self.root_pid = root_pid
        self.root_session: int | None = None
        self._members: dict[int, float] = {}  # pid -> start
        self._adopted: set[int] = set()
        self._marker: bytes | None = None
        self.probe_limit: int | None = None  # max new pids to probe; None: the tree's size
        self.version = 0  # changes whenever the membership does
        # The last refresh's readings, answered again while the reader says nothing ran (None:
        # walk next time).
        self._readings: list[ProcReading] | None = None
        self._still = getattr(reader, "still", None)

    def set_root(self, pid: int) -> None:
        """A new incarnation of the supervised process (after a restart); members persist."""
        self.root_pid = pid
        reading = self._reader.read(pid)
        if reading is not None:
            self._members[pid] = reading.start
            self.root_session = reading.session
            self.version += 1
        self._readings = None

    def adopt(self, pid: int) -> None:
        """Count an orphan reparented to the supervisor as a member of this tree."""
        self._adopted.add(pid)
        self._marker = None
        self._readings = None

    @property
    def marker(self) -> bytes | None:
        """The reader's spawn marker as the last refresh read it (None before one)."""
        return self._marker

    def start_of(self, pid: int) -> float | None:
        return self._members.get(pid)

    def pids(self) -> list[int]:
        """The members found by the last refresh."""
        return list(self._members)

    def refresh(self) -> list[ProcReading]:
        """Walk the tree and return a fresh reading of every member, zombies included.

        When no process was created and the reader says no member has run since the last
        refresh (``still``, see soakctl.procfs), that refresh's list is returned again, the
        same object.

        Children are listed only when a process was created somewhere since the last walk
        (the spawn marker moved): otherwise membership can only shrink, and reading the known
        members is enough. When the marker is the last pid the machine created (Linux), the
        new processes are exactly the pids between the old and the new marker: probing those
        few for a parent among the members replaces listing the children of every member
        (500 reads for a 500-process tree; a busy machine creates a few dozen pids a second).
        """
        read = self._reader.read
        marker = self._reader.spawn_marker()
        last = self._readings
        if (last is not None and marker is not None and marker == self._marker
                and self._still is not None and self._still(self._members)):
            return last
        walk = marker is None or marker != self._marker
        frontier = list(self._members)
        frontier.extend(self._adopted)
        if self.root_pid is not None and self.root_pid not in self._members:
            frontier.append(self.root_pid)
            walk = True
        elif walk and not self._adopted and self._members:
            walk = not self._probe_new_pids(self._marker, marker, frontier)
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
        members = {pid: r.start for pid, r in seen.items()}
        if members != self._members:
            self.version += 1
        self._members = members
        self._marker = marker
        self._adopted &= seen.keys()
        readings = self._readings = list(seen.values())
        return readings

    def _probe_new_pids(self, old: bytes | None, new: bytes | None, frontier: list[int]) -> bool:
        """Add to ``frontier`` the processes created since ``old`` whose parent is a member.

        False when that cannot be known this way (no last-pid marker, pids wrapped around) or
        the gap holds more pids than the tree has members: the caller then lists every
        member's children instead, which then costs less.
        """
        probe = getattr(self._reader, "read_uncached", None)
        leader = getattr(self._reader, "is_thread_group_leader", None)
        if probe is None or leader is None or old is None or new is None:
            return False
        old, new = old.strip(), new.strip()
        if not (old.isdigit() and new.isdigit()):
            return False
        first, last = int(old) + 1, int(new)
        # Probing a pid costs about as much as reading a member's children file (cached):
        # probe only when fewer pids than members were created.
        limit = self.probe_limit if self.probe_limit is not None else len(self._members)
        if last < first or last - first >= limit:
            return False
        parents = set(self._members)
        for pid in range(first, last + 1):
            reading = probe(pid)
            # A thread id also has a /proc entry, with its process's parent: not a child.
            if reading is not None and reading.ppid in parents and leader(pid):
                parents.add(pid)  # pids grow: its own children come later in this loop
                frontier.append(pid)
        return True
