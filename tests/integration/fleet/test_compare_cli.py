"""``soakctl compare`` as a user runs it: three runs against a base, one of them regressed."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import orjson

MIB = 1 << 20
T0 = 1_780_000_000.0


def _run_dir(path: Path, leak_mib_per_h: float = 0.0, rss_mib: float = 100.0,
             n: int = 1800) -> Path:
    """A run directory with samples and a run.json, as `soakctl run` leaves one."""
    path.mkdir(parents=True)
    lines = [orjson.dumps({
        "ts": T0 + 2 * i,
        "rss_bytes": int(rss_mib * MIB + leak_mib_per_h * MIB * 2 * i / 3600 + (i % 7) * 50_000),
        "cpu_percent": 3.0 + (i % 5) * 0.1, "num_fds": 12, "num_threads": 3, "num_procs": 1,
        "zombies": 0, "restarts": 0}) for i in range(n)]
    (path / "resources.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (path / "run.json").write_bytes(orjson.dumps({"run_id": path.name, "profile": "t",
                                                  "restarts": 0, "exit_reason": "duration"}))
    return path


def _compare(soakctl_bin: str, env: dict[str, str], *args: str
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([soakctl_bin, "compare", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def _analyse(soakctl_bin: str, env: dict[str, str], run: Path) -> Path:
    proc = subprocess.run([soakctl_bin, "analyze", str(run), "--json"], capture_output=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return run / "analysis.json"


def test_three_runs_one_regression_exits_one_naming_it(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    base = _run_dir(tmp_path / "base")
    same = _run_dir(tmp_path / "same")
    leaky = _run_dir(tmp_path / "leaky", leak_mib_per_h=80)
    bigger = _run_dir(tmp_path / "bigger", rss_mib=101)
    # A mix of inputs: BASE analysed beforehand (analysis.json), runs as bare directories.
    base_json = _analyse(soakctl_bin, clean_env, base)
    proc = _compare(soakctl_bin, clean_env, str(base_json), str(same), str(leaky), str(bigger),
                    "--format", "md")
    assert proc.returncode == 1, proc.stderr
    assert "leaky" in proc.stderr and "same" not in proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("|")]
    assert len(lines) == 2 + 4  # header, rule, base + three runs
    assert all(ln.endswith("|") for ln in lines)
    widths = {ln.count("|") - ln.count("\\|") for ln in lines}
    assert len(widths) == 1
    assert set(lines[1].replace("|", "").split()) == {"---"}
    rows = {ln.split("|")[1].strip(): ln for ln in lines[2:]}
    assert "REGRESSED" in rows["leaky"]
    assert "REGRESSED" not in rows["same"] and "REGRESSED" not in rows["bigger"]
    assert "REGRESSED: leaky" in proc.stdout
    assert "rss_slope_mib_per_hour regressed" in proc.stdout


def test_json_and_csv_forms(tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]) -> None:
    base = _run_dir(tmp_path / "base")
    ok = _run_dir(tmp_path / "ok")
    fat = _run_dir(tmp_path / "fat", rss_mib=200)
    proc = _compare(soakctl_bin, clean_env, str(base), str(ok), str(fat), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = orjson.loads(proc.stdout)
    assert doc["ok"] is False and doc["regressed"] == ["fat"]
    by_run = {r["run"]: r for r in doc["runs"]}
    assert set(by_run) == {"base (base)", "ok", "fat"}
    assert by_run["fat"]["d_rss_max_mib"] > 95
    assert by_run["ok"]["regressed"] is False
    assert any("rss_bytes.max regressed" in r for r in doc["regressions"]["fat"])

    proc = _compare(soakctl_bin, clean_env, str(base), str(ok), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    table = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["run"] for r in table] == ["base (base)", "ok"]
    assert table[1]["regressed"] == "False"

    proc = _compare(soakctl_bin, clean_env, str(base), str(ok))
    assert proc.returncode == 0
    assert "no regression" in proc.stdout


def test_bad_input_is_one_line_exit_two(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    base = _run_dir(tmp_path / "base")
    proc = _compare(soakctl_bin, clean_env, str(base), str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "missing" in proc.stderr
    (tmp_path / "broken.json").write_text("{")
    proc = _compare(soakctl_bin, clean_env, str(base), str(tmp_path / "analysis.json"))
    assert proc.returncode == 2
    bad = tmp_path / "bad" / "analysis.json"
    bad.parent.mkdir()
    bad.write_text("{not json")
    proc = _compare(soakctl_bin, clean_env, str(base), str(bad))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = _compare(soakctl_bin, clean_env, str(base), str(base), "--format", "xml")
    assert proc.returncode == 2 and "--format" in proc.stderr
