"""analyze_path end to end in-process: run-directory context, criteria, baseline, outputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import orjson
import pytest

from soakctl.analyze import analyze_path
from soakctl.errors import InputError, UsageError

MIB = 1 << 20
T0 = 1_780_000_000.0


def write_samples(
    path: Path,
    hours: float = 1.0,
    leak_mib_per_h: float = 0.0,
    interval_s: float = 2.0,
    restarts_every_s: float | None = None,
) -> Path:
    gen = np.random.default_rng(1)
    n = int(hours * 3600 / interval_s)
    lines = []
    for i in range(n):
        el = i * interval_s
        since = el % restarts_every_s if restarts_every_s else el
        rss = 200 * MIB + leak_mib_per_h * MIB * since / 3600 + gen.normal(0, MIB)
        lines.append(
            orjson.dumps(
                {
                    "ts": T0 + el,
                    "elapsed_s": el,
                    "name": "target",
                    "pid": 10,
                    "num_procs": 2,
                    "rss_bytes": int(rss),
                    "cpu_percent": 20.0,
                    "num_threads": 8,
                    "num_fds": 30 + int(el // 60),
                    "zombies": 0,
                    "restarts": int(el // restarts_every_s) if restarts_every_s else 0,
                    "metrics": {"queue_depth": el / 36, "requests_total": i},
                }
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def make_run(
    tmp_path: Path,
    *,
    critical: bool = False,
    unexpected: bool = False,
    after_ok: bool = True,
    criteria: list[str] | None = None,
    leak_mib_per_h: float = 0.0,
) -> Path:
    run = tmp_path / "run"
    write_samples(run / "resources.jsonl", leak_mib_per_h=leak_mib_per_h)
    (run / "run.json").write_bytes(
        orjson.dumps(
            {
                "schema": 1,
                "run_id": "20261124T121500Z",
                "profile": "smoke",
                "start_ts": T0,
                "end_ts": T0 + 3600,
                "exit_reason": "duration_reached",
                "unexpected_exit": unexpected,
                "interrupted": False,
                "restarts": 0,
                "after_checks": [
                    {
                        "command": ["true"],
                        "returncode": 0 if after_ok else 1,
                        "ok": after_ok,
                        "duration_s": 0.1,
                    }
                ],
                "criteria": criteria or [],
                "artifacts_bytes": 12345,
            }
        )
    )
    (run / "events.jsonl").write_bytes(
        orjson.dumps({"ts": T0, "event": "start", "name": "target", "pid": 10})
        + b"\n"
        + orjson.dumps(
            {
                "ts": T0 + 1800,
                "event": "log_rotated",
                "name": "target",
                "file": "target.log.1",
                "bytes": 100,
            }
        )
        + b"\n"
    )
    logs = run / "logs"
    logs.mkdir()
    (logs / "target.log").write_text(
        "INFO ok\nWARNING hmm\n" + ("CRITICAL secret-free failure\n" if critical else "")
    )
    (logs / "target.log.1").write_text("INFO older\n")
    return run


def _by_expr(result_dict: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["expr"]: c for c in result_dict["criteria"]}  # type: ignore[index, union-attr]


def test_healthy_run_directory_passes_and_writes_all_outputs(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    result = analyze_path(run)
    assert result.verdict == "pass", result.reasons
    assert result.exit_code == 0
    data = result.to_dict()
    assert orjson.loads((run / "analysis.json").read_bytes()) == orjson.loads(orjson.dumps(data))
    crit = _by_expr(data)
    for expr in (
        "unexpected_exit == 0",
        "after_checks_failed == 0",
        "critical_log_lines == 0",
        "artifacts_bytes < 5000000000",
        "zombies.max == 0",
        "cpu_percent.avg < 80",
    ):
        assert crit[expr]["status"] == "pass", crit[expr]
    assert data["leak"]["status"] == "no_leak"
    assert data["run"]["profile"] == "smoke"
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (run / name).stat().st_size > 0


def test_fd_growth_and_metrics_are_analysed_but_counters_are_not(tmp_path: Path) -> None:
    data = analyze_path(make_run(tmp_path)).to_dict()
    assert data["leaks"]["num_fds"]["status"] == "leak"  # +60 fds/h over a 10/h threshold
    assert "metrics.queue_depth" in data["leaks"]
    assert "metrics.requests_total" not in data["leaks"]
    assert data["stats"]["metrics.requests_total"]["max"] > 0
    assert any("num_fds grows" in r for r in data["reasons"])
    assert data["verdict"] == "pass"  # only the RSS leak is a default criterion


@pytest.mark.parametrize(
    ("kwargs", "expr"),
    [
        ({"critical": True}, "critical_log_lines == 0"),
        ({"unexpected": True}, "unexpected_exit == 0"),
        ({"after_ok": False}, "after_checks_failed == 0"),
    ],
)
def test_run_level_default_criteria_fail_the_verdict(
    tmp_path: Path, kwargs: dict[str, bool], expr: str
) -> None:
    result = analyze_path(make_run(tmp_path, **kwargs))
    assert result.verdict == "fail"
    assert _by_expr(result.to_dict())[expr]["status"] == "fail"
    assert any(expr in r for r in result.reasons)


def test_critical_log_text_is_not_copied_into_outputs(tmp_path: Path) -> None:
    run = make_run(tmp_path, critical=True)
    analyze_path(run)
    for name in ("analysis.json", "report.html", "summary.md", "junit.xml"):
        assert "secret-free failure" not in (run / name).read_text()


def test_bare_file_skips_run_level_criteria(tmp_path: Path) -> None:
    path = write_samples(tmp_path / "only" / "samples.jsonl")
    data = analyze_path(path).to_dict()
    crit = _by_expr(data)
    for expr in (
        "unexpected_exit == 0",
        "after_checks_failed == 0",
        "critical_log_lines == 0",
        "artifacts_bytes < 5000000000",
    ):
        assert crit[expr]["status"] == "skip"
        assert crit[expr]["ok"] is True
    assert data["verdict"] == "pass"
    assert (tmp_path / "only" / "report.html").exists()


def test_leak_fails_and_profile_and_cli_criteria_are_evaluated(tmp_path: Path) -> None:
    run = make_run(tmp_path, leak_mib_per_h=80, criteria=["num_threads.max <= 8"])
    result = analyze_path(
        run,
        criteria=[
            "num_fds.slope_per_hour < 50",
            "leak_conclusive == 1",
            "rss_slope_mib_per_hour < 10",
        ],
    )
    data = result.to_dict()
    crit = _by_expr(data)
    assert data["leak"]["detected"] is True
    assert result.verdict == "fail" and result.exit_code == 1
    assert data["reasons"][0].startswith("RSS leak:")
    assert crit["num_threads.max <= 8"]["source"] == "profile"
    assert crit["num_threads.max <= 8"]["status"] == "pass"
    assert crit["num_fds.slope_per_hour < 50"]["status"] == "fail"  # 60 fds/h
    assert crit["rss_slope_mib_per_hour < 10"]["value"] == pytest.approx(80, rel=0.1)


def test_restarts_split_the_leak_analysis(tmp_path: Path) -> None:
    path = write_samples(
        tmp_path / "r.jsonl", hours=3, leak_mib_per_h=60, interval_s=2, restarts_every_s=2700
    )
    data = analyze_path(path).to_dict()
    assert data["leak"]["status"] == "leak"
    assert data["leak"]["slope_mib_per_hour"] == pytest.approx(60, rel=0.1)
    assert "restart" in (tmp_path / "report.html").read_text()


def test_baseline_regression_fails_and_is_reported_per_series(tmp_path: Path) -> None:
    old = write_samples(tmp_path / "old" / "resources.jsonl", leak_mib_per_h=0)
    new = write_samples(tmp_path / "new" / "resources.jsonl", leak_mib_per_h=40)
    result = analyze_path(new, baseline=old.parent, criteria=())
    base = result.to_dict()["baseline"]
    assert base["series"]["rss_slope_mib_per_hour"]["ok"] is False
    assert base["series"]["cpu_percent.avg"]["ok"] is True
    assert any("rss_slope_mib_per_hour regressed" in r for r in result.reasons)
    junit = ET.parse(tmp_path / "new" / "junit.xml").getroot()
    names = {
        c.get("name") for c in junit.iter("testcase") if c.get("classname") == "soakctl.baseline"
    }
    assert "rss_slope_mib_per_hour" in names
    analyze_path(old)  # writes old/analysis.json; the baseline can be that file, too
    again = analyze_path(new, baseline=old.parent / "analysis.json", write=False)
    assert again.to_dict()["baseline"]["ok"] is False


def test_junit_has_one_testcase_per_criterion(tmp_path: Path) -> None:
    run = make_run(tmp_path, critical=True)
    data = analyze_path(run).to_dict()
    root = ET.parse(run / "junit.xml").getroot()
    cases = list(root.iter("testcase"))
    assert len(cases) == len(data["criteria"])
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {c["expr"] for c in data["criteria"] if c["status"] == "fail"}
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == str(len(failed))


def test_report_is_self_contained_and_summary_has_a_mermaid_chart(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    analyze_path(run)
    page = (run / "report.html").read_text()
    assert "<script" not in page and "<link" not in page
    assert page.count("http") == page.count('xmlns="http://www.w3.org/2000/svg"')
    assert page.index("badge pass") < page.index("<svg")  # verdict first
    summary = (run / "summary.md").read_text()
    assert "```mermaid\nxychart-beta" in summary
    assert "| `cpu_percent.avg < 80` |" in summary
    # Both say the smallest leak this run could have caught, the same number.
    smallest = orjson.loads((run / "analysis.json").read_bytes())["leak"][
        "min_detectable_mib_per_hour"]
    assert smallest is not None and smallest > 10
    assert f"{smallest:.3g} MiB/h" in summary and f"{smallest:.3g} MiB/h" in page


def test_out_dir_and_no_write(tmp_path: Path) -> None:
    path = write_samples(tmp_path / "in" / "resources.jsonl")
    analyze_path(path, out_dir=tmp_path / "out" / "deep")
    assert (tmp_path / "out" / "deep" / "analysis.json").exists()
    assert not (tmp_path / "in" / "analysis.json").exists()
    analyze_path(path, write=False)
    assert not (tmp_path / "in" / "analysis.json").exists()


def test_errors(tmp_path: Path) -> None:
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(InputError, match=r"no resources\.jsonl"):
        analyze_path(empty_dir)
    with pytest.raises(InputError, match="no such file"):
        analyze_path(tmp_path / "missing.jsonl")
    path = write_samples(tmp_path / "ok.jsonl")
    with pytest.raises(UsageError, match="unknown series"):
        analyze_path(path, criteria=["bogus.max < 3"])
    with pytest.raises(UsageError, match="leak-threshold"):
        analyze_path(path, leak_threshold_mib_per_h=0)


def test_rss_and_uss_share_one_warm_up(tmp_path: Path) -> None:
    """One start-up: USS fills its cache for minutes, RSS barely moves; both skip the same span."""
    gen = np.random.default_rng(7)
    el = np.arange(0.0, 1800.0)
    uss = 80 * MIB + 30 * MIB * (1 - np.exp(-el / 60)) + gen.normal(0, 0.2 * MIB, el.size)
    rss = 120 * MIB + gen.normal(0, 0.2 * MIB, el.size)
    path = tmp_path / "resources.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps({
        "ts": T0 + e, "elapsed_s": e, "pid": 1, "rss_bytes": int(r), "uss_bytes": int(u),
    }) for e, r, u in zip(el.tolist(), rss, uss, strict=True)) + b"\n")
    doc = analyze_path(path, write=False).to_dict()
    rss_warm, uss_warm = doc["leak"]["warmup_s"], doc["leaks"]["uss_bytes"]["warmup_s"]
    assert uss_warm > 60
    assert rss_warm == pytest.approx(uss_warm, abs=20)


def _metric_run(tmp_path: Path, leak_series: list[str] | None = None) -> Path:
    el = np.arange(0.0, 3600.0, 2.0)
    run = tmp_path / "run"
    run.mkdir()
    (run / "resources.jsonl").write_bytes(b"\n".join(orjson.dumps({
        "ts": T0 + e, "elapsed_s": e, "pid": 1, "rss_bytes": 100 * MIB,
        "metrics": {"mmbot_pnl_quote": e / 10, "mmbot_position": e / 100,
                    "mmbot_fills_total": e, "mmbot_queue_depth": e / 36,
                    "mmbot_open_orders": e / 360},
    }) for e in el.tolist()) + b"\n")
    meta: dict[str, object] = {"schema": 1, "run_id": "r", "start_ts": T0}
    if leak_series is not None:
        meta["leak_series"] = leak_series
    (run / "run.json").write_bytes(orjson.dumps(meta))
    return run


def test_only_resource_like_gauges_are_judged_for_leaks(tmp_path: Path) -> None:
    doc = analyze_path(_metric_run(tmp_path), write=False).to_dict()
    assert set(doc["leaks"]) == {"metrics.mmbot_queue_depth"}
    assert doc["leaks"]["metrics.mmbot_queue_depth"]["status"] == "leak"
    notes = [r for r in doc["reasons"] if r.startswith("note:")]
    assert len(notes) == 1 and "mmbot_queue_depth" in notes[0]
    # The growth of business gauges is still there for criteria that ask for it.
    assert "metrics.mmbot_pnl_quote" in doc["stats"]


def test_a_profile_may_name_the_leak_series(tmp_path: Path) -> None:
    doc = analyze_path(_metric_run(tmp_path, ["mmbot_open_orders"]), write=False).to_dict()
    assert set(doc["leaks"]) == {"metrics.mmbot_open_orders"}


def test_leak_series_is_a_profile_key() -> None:
    from soakctl.profile import ProfileError, parse_profile

    assert parse_profile({"leak_series": ["mmbot_queue_depth"]}).leak_series == [
        "mmbot_queue_depth"]
    assert parse_profile({}).leak_series is None
    with pytest.raises(ProfileError, match="leak_series"):
        parse_profile({"leak_series": "mmbot_queue_depth"})


def test_rss_and_uss_share_one_warm_up_when_uss_is_sampled_less_often(tmp_path: Path) -> None:
    """The sampler reads USS every 10 s: its warm-up rounds up to its coarser buckets."""
    gen = np.random.default_rng(9)
    el = np.arange(0.0, 240.0)
    rss = 55 * MIB + 1.5 * MIB * (1 - np.exp(-el / 12)) + gen.normal(0, 0.02 * MIB, el.size)
    uss = rss - 18 * MIB
    path = tmp_path / "resources.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(
        {"ts": T0 + e, "rss_bytes": int(r), **({"uss_bytes": int(u)} if e % 10 == 0 else {})})
        for e, r, u in zip(el.tolist(), rss.tolist(), uss.tolist(), strict=True)) + b"\n")
    doc = analyze_path(path, write=False).to_dict()
    rss_warm, uss_warm = doc["leak"]["warmup_s"], doc["leaks"]["uss_bytes"]["warmup_s"]
    assert rss_warm > 0
    assert rss_warm == pytest.approx(uss_warm, abs=10)
