"""The streaming lint core against a naive reference, across window sizes and both read paths."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soakctl.logtools import log_files
from soakctl.logtools.lint import Finding, lint_paths


def naive(path: Path, data: bytes, limit: int) -> tuple[list[Finding], int, int, int]:
    findings: list[Finding] = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    non_ascii = long_lines = 0
    for number, line in enumerate(lines, start=1):
        for col, byte in enumerate(line, start=1):
            if byte >= 0x80:
                non_ascii += 1
                findings.append(Finding(str(path), number, col, "non_ascii", byte=byte))
        if len(line) > limit:
            long_lines += 1
            findings.append(Finding(str(path), number, limit + 1, "long_line", length=len(line)))
    findings.sort(key=lambda f: (f.line, f.col))
    return findings, len(lines), non_ascii, long_lines


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    chunks=st.lists(
        st.sampled_from([b"a", b"bbbbbbb", b"\n", b"\xc3\xa9", b"\xff", b"x" * 40]), max_size=80
    ),
    limit=st.integers(1, 30),
    window=st.integers(1, 50),
    use_mmap=st.booleans(),
)
def test_matches_naive_reference(
    tmp_path: Path, chunks: list[bytes], limit: int, window: int, use_mmap: bool
) -> None:
    data = b"".join(chunks)
    path = tmp_path / "t.log"
    path.write_bytes(data)
    result = lint_paths(
        [path], max_line_length=limit, max_findings=10_000, window_bytes=window, use_mmap=use_mmap
    )
    findings, lines, non_ascii, long_lines = naive(path, data, limit)
    stats = result.files[0]
    assert (stats.lines, stats.non_ascii_bytes, stats.long_lines) == (lines, non_ascii, long_lines)
    assert result.findings == findings
    assert result.ok == (not findings)


def test_page_sized_windows_across_boundaries(tmp_path: Path) -> None:
    # Mapped windows are whole pages: put findings and long lines across page boundaries.
    line = b"x" * 5000 + b"\n"
    data = line * 3 + b"y" * 4095 + b"\xe2\x82\xac" + b"\n" + b"ok\n" * 3000 + b"z" * 9000
    path = tmp_path / "big.log"
    path.write_bytes(data)
    for use_mmap in (True, False):
        result = lint_paths([path], max_line_length=4096, window_bytes=4096, use_mmap=use_mmap)
        expected, lines, non_ascii, long_lines = naive(path, data, 4096)
        assert result.findings == expected
        assert (result.files[0].lines, result.files[0].long_lines) == (lines, long_lines)
        assert result.files[0].non_ascii_bytes == non_ascii == 3


def test_first_findings_only_but_all_counted(tmp_path: Path) -> None:
    path = tmp_path / "many.log"
    path.write_bytes(b"\xff\n" * 500)
    result = lint_paths([path], max_findings=100)
    assert len(result.findings) == 100
    assert result.findings[-1].line == 100
    assert result.total_findings == 500
    assert not result.ok


def test_findings_cap_spans_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_bytes(b"\xff" * 60)
    second.write_bytes(b"\xfe" * 60)
    result = lint_paths([first, second], max_findings=100)
    assert [f.path for f in result.findings].count(str(second)) == 40
    assert result.total_findings == 120


def test_clean_ascii_file_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.log"
    path.write_bytes(b"all\tgood\r\n" * 1000)
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    result = lint_paths([path, empty])
    assert result.ok
    assert [f.lines for f in result.files] == [1000, 0]


def test_log_files_expands_directories(tmp_path: Path) -> None:
    (tmp_path / "run" / "logs").mkdir(parents=True)
    for name in ("target.log", "target.log.1", "target.log.12", "notes.txt", "x.logger"):
        (tmp_path / "run" / "logs" / name).write_text("x\n")
    found = [p.name for p in log_files([tmp_path])]
    assert found == ["target.log", "target.log.1", "target.log.12"]
