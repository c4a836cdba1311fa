"""Log rotation: whole lines only, shift order, keep bound, pruning, byte accounting."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from soakctl.logpipe import RotatingLogFile


def _all_lines(path: Path, keep: int) -> list[bytes]:
    files = [path.with_name(f"{path.name}.{i}") for i in range(keep, 0, -1)] + [path]
    lines: list[bytes] = []
    for f in files:
        if f.exists():
            parts = f.read_bytes().split(b"\n")
            assert parts[-1] == b""  # every file ends on a whole line
            lines.extend(part + b"\n" for part in parts[:-1])
    return lines


def test_rotation_shifts_newest_to_dot_1_and_bounds_keep(tmp_path: Path) -> None:
    rotated: list[tuple[str, int, str | None]] = []
    log = RotatingLogFile(
        tmp_path / "t.log",
        max_bytes=100,
        keep=3,
        on_rotate=lambda p, n, d: rotated.append((p.name, n, d and d.name)),
    )
    for i in range(100):
        log.write(f"line {i:04d} {'x' * 20}\n".encode())
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.log", "t.log.1", "t.log.2", "t.log.3"]
    kept = _all_lines(tmp_path / "t.log", 3)
    numbers = [int(line.split()[1]) for line in kept]
    assert numbers == list(range(numbers[0], 100))  # the newest, in order, none missing
    assert all(len(p.read_bytes()) <= 100 for p in tmp_path.iterdir())
    assert rotated and all(name == "t.log" for name, _, _ in rotated)
    # The first `keep` rotations drop nothing; every later one drops the oldest, t.log.3.
    assert [d for _, _, d in rotated[:3]] == [None, None, None]
    assert {d for _, _, d in rotated[3:]} == {"t.log.3"}
    assert len(rotated) - sum(d is not None for _, _, d in rotated) == 3  # = files left


def test_total_bytes_and_prune_oldest(tmp_path: Path) -> None:
    log = RotatingLogFile(tmp_path / "t.log", max_bytes=50, keep=5)
    for _ in range(20):
        log.write(b"0123456789\n")
    log.flush()
    on_disk = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert log.total_bytes == on_disk
    oldest = log.prune_oldest()
    assert oldest is not None and oldest.name == "t.log.4"
    assert log.total_bytes == sum(p.stat().st_size for p in tmp_path.iterdir())
    log.close()


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(
        st.binary(min_size=0, max_size=60).map(lambda b: b.replace(b"\n", b"") + b"\n"),
        min_size=1,
        max_size=200,
    ),
    max_bytes=st.integers(min_value=1, max_value=300),
)
def test_no_line_lost_split_or_duplicated(
    tmp_path_factory,
    lines: list[bytes],  # type: ignore[no-untyped-def]
    max_bytes: int,
) -> None:
    path = tmp_path_factory.mktemp("rot") / "t.log"
    log = RotatingLogFile(path, max_bytes=max_bytes, keep=1000)
    for line in lines:
        log.write(line)
    log.close()
    assert _all_lines(path, 1000) == lines
