"""Diagnose a leak while the evidence is alive: snapshots at start, first live leak, and end.

At three moments (``start``, a few seconds after the target starts; ``leak``, when the live
evaluation first sees a leak; ``end``, before the target is stopped) the run, into
``RUN/diagnose/`` (docs/live.md §4):

* runs the profile's ``diagnose`` commands (placeholders expanded, ``SOAKCTL_TARGET_PID`` and
  ``SOAKCTL_DIAGNOSE_MOMENT`` in the environment), each bounded by ``COMMAND_TIMEOUT_S``, their
  output in ``MOMENT-N-NAME.txt``;
* on Linux, reads ``/proc/PID/smaps`` of every process of the target tree into
  ``MOMENT-smaps.json``: each mapping's resident bytes, and totals by kind (``heap``, ``anon``,
  ``file``, ``stack``, ``other``);
* with ``tracemalloc_url`` (a Python target that serves tracemalloc snapshots, as
  ``mmbot run --tracemalloc`` does at ``/debug/tracemalloc``), saves ``MOMENT-tracemalloc.json``.

At the end, the first and the last snapshot are diffed into ``diagnosis.json``: the top growing
allocation sites (``site`` "file:line", ``bytes``, ``count``), the growth by mapping kind and the
top growing mappings. A failure here is written down and never ends the run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soakctl.commands import resolve_command
from soakctl.contracts import Event
from soakctl.rundir import write_json_atomic

if TYPE_CHECKING:
    from soakctl.runner import SoakRun

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 60.0
FETCH_TIMEOUT_S = 30.0
START_AFTER_S = 5.0  # the "start" snapshot waits until the target had a moment to come up
RETRY_EVERY_S = 5.0  # a tracemalloc endpoint not up yet is asked again this often
MAX_OUTPUT_BYTES = 4 << 20
TOP = 15
_HEADER = re.compile(
    rb"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+ *(.*)$"
)


# -- /proc/PID/smaps ---------------------------------------------------------------------------
def mapping_kind(path: str) -> str:
    if path == "[heap]":
        return "heap"
    if path.startswith("[stack"):
        return "stack"
    if not path or path.startswith(("[anon", "/dev/zero", "/memfd:", "/SYSV")):
        return "anon"  # private anonymous, or shared anonymous memory (shown as a file)
    if path.startswith("/") or path.startswith("anon_inode:"):
        return "file" if path.startswith("/") else "other"
    return "other"


def parse_smaps(text: bytes) -> list[dict[str, Any]]:
    """Mappings of one process: start, end, perms, path, kind, rss/anonymous/swap bytes."""
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in text.split(b"\n"):
        m = _HEADER.match(line)
        if m is not None:
            path = m[4].decode("utf-8", "replace").strip()
            current = {"start": m[1].decode(), "end": m[2].decode(), "perms": m[3].decode(),
                       "path": path, "kind": mapping_kind(path), "rss_bytes": 0,
                       "anon_bytes": 0, "swap_bytes": 0}
            out.append(current)
            continue
        if current is None or not line.endswith(b" kB"):
            continue
        key, _, value = line.partition(b":")
        field = {b"Rss": "rss_bytes", b"Anonymous": "anon_bytes", b"Swap": "swap_bytes"}.get(key)
        if field is not None:
            with contextlib.suppress(ValueError, IndexError):
                current[field] = int(value.split()[0]) * 1024
    return out


def smaps_snapshot(pids: list[int]) -> dict[str, Any] | None:
    """Every readable process's mappings and the totals by kind; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    procs: dict[str, list[dict[str, Any]]] = {}
    kinds: dict[str, int] = {}
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps").read_bytes()
        except OSError:
            continue
        maps = parse_smaps(text)
        procs[str(pid)] = maps
        for mp in maps:
            kinds[mp["kind"]] = kinds.get(mp["kind"], 0) + mp["rss_bytes"]
    return {"pids": sorted(int(p) for p in procs), "kinds": kinds, "processes": procs}


def smaps_growth(first: dict[str, Any], last: dict[str, Any], top: int = TOP) -> dict[str, Any]:
    """Growth by kind, and the mappings that grew most (a new mapping grew from zero)."""
    kinds = sorted(set(first["kinds"]) | set(last["kinds"]))
    by_kind = {k: {"first_bytes": first["kinds"].get(k, 0), "last_bytes": last["kinds"].get(k, 0),
                   "growth_bytes": last["kinds"].get(k, 0) - first["kinds"].get(k, 0)}
               for k in kinds}

    def index(snap: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {(pid, mp["start"], mp["path"]): mp
                for pid, maps in snap["processes"].items() for mp in maps}

    before, after = index(first), index(last)
    rows = []
    for key, mp in after.items():
        old = before.get(key)
        growth = mp["rss_bytes"] - (old["rss_bytes"] if old else 0)
        if growth > 0:
            rows.append({"pid": int(key[0]), "mapping": f"{mp['start']}-{mp['end']}",
                         "path": mp["path"] or "[anon]", "kind": mp["kind"],
                         "growth_bytes": growth, "last_bytes": mp["rss_bytes"],
                         "new": old is None})
    rows.sort(key=lambda r: -r["growth_bytes"])
    return {"by_kind": by_kind, "top_mappings": rows[:top],
            "new_mappings": sum(1 for k in after if k not in before),
            "gone_mappings": sum(1 for k in before if k not in after),
            "same_processes": first["pids"] == last["pids"]}


# -- tracemalloc -------------------------------------------------------------------------------
def fetch_tracemalloc(url: str) -> dict[str, Any]:
    """The endpoint's JSON (``{"stats": [{"file","line","size","count"}], ...}``)."""
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as resp:  # noqa: S310 - checked
        data = json.loads(resp.read(64 << 20))
    if not isinstance(data, dict) or not isinstance(data.get("stats"), list):
        raise ValueError("not a tracemalloc snapshot (no 'stats' list)")
    return data


def site_growth(first: dict[str, Any], last: dict[str, Any], top: int = TOP
                ) -> list[dict[str, Any]]:
    """Top growing allocation sites between two snapshots: ``site``, ``bytes``, ``count``."""
    def index(snap: dict[str, Any]) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for st in snap.get("stats", []):
            if isinstance(st, dict) and "file" in st and "line" in st:
                out[f"{st['file']}:{st['line']}"] = (int(st.get("size", 0)),
                                                     int(st.get("count", 0)))
        return out

    before, after = index(first), index(last)
    rows: list[dict[str, Any]] = []
    for site, (size, count) in after.items():
        old_size, old_count = before.get(site, (0, 0))
        if size - old_size > 0:
            rows.append({"site": site, "bytes": size - old_size, "count": count - old_count,
                         "last_bytes": size})
    rows.sort(key=lambda r: -int(r["bytes"]))
    return rows[:top]


# -- the run's diagnoser ---------------------------------------------------------------------
class Diagnoser:
    def __init__(self, run: SoakRun) -> None:
        self.run = run
        self.dir = run.run_dir / "diagnose"
        self.commands = [list(c) for c in run.profile.diagnose]
        self.url = run.profile.tracemalloc_url
        self.done: set[str] = set()
        self.smaps: dict[str, dict[str, Any]] = {}
        self.traces: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []
        self._trace_retry_at = 0.0

    def on_sample(self, elapsed_s: float) -> None:
        if "start" not in self.done and elapsed_s >= START_AFTER_S:
            self.moment("start")
        elif self.url and not self.traces and "start" in self.done:
            # the endpoint was not up at "start": the first snapshot that works is the baseline
            now = time.monotonic()
            if now >= self._trace_retry_at:
                self._trace_retry_at = now + RETRY_EVERY_S
                self._tracemalloc("start")

    def moment(self, name: str) -> None:
        """Take every snapshot for ``name`` (once); never raises."""
        if name in self.done:
            return
        self.done.add(name)
        try:
            self.dir.mkdir(exist_ok=True)
            self._moment(name)
        except Exception as exc:  # diagnosis is a bonus: it must never end a run
            logger.exception("diagnose %s failed", name)
            self.records.append({"moment": name, "error": f"{type(exc).__name__}: {exc}"})

    def _moment(self, name: str) -> None:
        target = self.run._target
        alive = target is not None and target.alive
        pids = target.tree.pids() if target is not None and alive else []
        if pids:
            snap = smaps_snapshot(pids)
            if snap is not None:
                snap.update(moment=name, ts=round(self.run.clock.time(), 3))
                write_json_atomic(self.dir / f"{name}-smaps.json", snap)
                self.smaps[name] = snap
        if self.url and alive:
            self._tracemalloc(name)
        env = self.run._env(self.run.target_spec.env)
        env.update(SOAKCTL_TARGET_PID=str(target.pid if target is not None else ""),
                   SOAKCTL_DIAGNOSE_MOMENT=name)
        for i, command in enumerate(self.commands, 1):
            self._command(name, i, resolve_command(self.run._expand_argv(command), env), env)
        self.run._emit(Event.DIAGNOSE, "soakctl", moment=name, dir="diagnose",
                       smaps=name in self.smaps, tracemalloc=name in self.traces,
                       commands=len(self.commands))

    def _tracemalloc(self, name: str) -> None:
        assert self.url is not None
        url = self.run._expand(self.url)
        if not url.startswith(("http://", "https://")):
            self.records.append({"moment": name, "error": f"tracemalloc_url: not http(s): {url}"})
            return
        try:
            snap = fetch_tracemalloc(url)
        except (OSError, ValueError) as exc:
            self.records.append({"moment": name, "tracemalloc_error": str(exc)[:300]})
            return
        snap.update(moment=name, ts=round(self.run.clock.time(), 3))
        write_json_atomic(self.dir / f"{name}-tracemalloc.json", snap)
        self.traces[name] = snap

    def _command(self, name: str, i: int, argv: list[str], env: dict[str, str]) -> None:
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(argv[0]).name)[:40] or "cmd"
        out_path = self.dir / f"{name}-{i}-{stem}.txt"
        started = time.monotonic()
        try:
            with out_path.open("wb") as out:
                proc = subprocess.run(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    env=env, timeout=COMMAND_TIMEOUT_S, check=False)
            code: int | str = proc.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        except OSError as exc:
            code = f"cannot start: {exc.strerror or exc}"
        if out_path.exists() and out_path.stat().st_size > MAX_OUTPUT_BYTES:
            with out_path.open("r+b") as fh:
                fh.truncate(MAX_OUTPUT_BYTES)
        self.records.append({"moment": name, "command": argv, "returncode": code,
                             "output": str(out_path.relative_to(self.run.run_dir)),
                             "duration_s": round(time.monotonic() - started, 3)})

    def finish(self) -> None:
        """Diff the first and last snapshots into ``diagnose/diagnosis.json``."""
        if not self.done:
            return
        out: dict[str, Any] = {"moments": sorted(self.done), "commands": self.records}
        traces = [self.traces[m] for m in ("start", "leak", "end") if m in self.traces]
        if len(traces) >= 2:
            out["sites"] = site_growth(traces[0], traces[-1])
            out["sites_between"] = [traces[0]["moment"], traces[-1]["moment"]]
        snaps = [self.smaps[m] for m in ("start", "leak", "end") if m in self.smaps]
        if len(snaps) >= 2:
            out["smaps"] = smaps_growth(snaps[0], snaps[-1])
            out["smaps_between"] = [snaps[0]["moment"], snaps[-1]["moment"]]
        try:
            self.dir.mkdir(exist_ok=True)
            write_json_atomic(self.dir / "diagnosis.json", out)
        except OSError as exc:
            logger.warning("cannot write diagnosis.json: %s", exc)


def start_diagnose(run: SoakRun) -> Diagnoser | None:
    profile = run.profile
    wanted = bool(profile.diagnose or profile.tracemalloc_url) or sys.platform.startswith("linux")
    return Diagnoser(run) if wanted else None
