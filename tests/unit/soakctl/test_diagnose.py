"""The diagnosis parts: /proc/PID/smaps of a real process (this one) growing between two
snapshots, and the diff of two tracemalloc snapshots into top growing sites."""

from __future__ import annotations

import mmap
import os
import sys

import pytest

from soakctl.analyze.diagnosis import diagnosis_fields
from soakctl.diagnose import mapping_kind, parse_smaps, site_growth, smaps_growth, smaps_snapshot

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/smaps")


@linux
def test_smaps_growth_finds_a_new_anonymous_mapping() -> None:
    first = smaps_snapshot([os.getpid()])
    assert first is not None and first["kinds"]["file"] > 0
    size = 32 << 20
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        region.write(b"\x01" * size)  # touched: resident
        last = smaps_snapshot([os.getpid()])
        assert last is not None
        growth = smaps_growth(first, last)
    finally:
        region.close()
    assert growth["by_kind"]["anon"]["growth_bytes"] >= size * 0.9
    top = growth["top_mappings"][0]
    assert top["kind"] == "anon" and top["new"] and top["growth_bytes"] >= size * 0.9
    assert growth["same_processes"]


def test_parse_smaps_fields_and_kinds() -> None:
    text = (b"55d0-55e0 rw-p 00000000 00:00 0                          [heap]\n"
            b"Size:      64 kB\nRss:       12 kB\nAnonymous:      12 kB\n"
            b"7f00-7f10 r-xp 00000000 08:01 123  /usr/lib/libc.so.6\nRss:  40 kB\nSwap: 4 kB\n"
            b"7f20-7f30 rw-p 00000000 00:00 0 \nRss: 8 kB\n")
    maps = parse_smaps(text)
    assert [(m["kind"], m["rss_bytes"]) for m in maps] == [
        ("heap", 12288), ("file", 40960), ("anon", 8192)]
    assert maps[0]["anon_bytes"] == 12288 and maps[1]["swap_bytes"] == 4096
    assert mapping_kind("[stack]") == "stack" and mapping_kind("[vdso]") == "other"
    assert mapping_kind("/dev/zero (deleted)") == "anon"


def test_site_growth_orders_by_bytes_and_counts_new_sites() -> None:
    first = {"stats": [{"file": "a.py", "line": 1, "size": 1000, "count": 10},
                       {"file": "b.py", "line": 2, "size": 500, "count": 5}]}
    last = {"stats": [{"file": "a.py", "line": 1, "size": 1100, "count": 11},
                      {"file": "b.py", "line": 2, "size": 100, "count": 1},
                      {"file": "c.py", "line": 3, "size": 9000, "count": 9}]}
    rows = site_growth(first, last)
    assert [(r["site"], r["bytes"], r["count"]) for r in rows] == [
        ("c.py:3", 9000, 9), ("a.py:1", 100, 1)]  # shrinking b.py is no growth
    fields = diagnosis_fields({"sites": rows})
    assert fields["diagnosis"][0] == {"site": "c.py:3", "bytes": 9000, "count": 9}
    assert diagnosis_fields(None) == {} and diagnosis_fields({"sites": []}) == {}
