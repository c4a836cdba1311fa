"""The GitHub workflows follow the hardening rules (docs/windows-runner.md).

* no ``run:`` script pastes ``${{ inputs.* }}`` or ``${{ github.event.* }}`` (script injection:
  attacker-controllable text must reach a script through ``env``);
* every job has ``timeout-minutes``;
* every artifact upload excludes credentials (``!...secrets/**``);
* every ``setup-python`` pins a version;
* the Windows soak has a concurrency group, cleans up earlier runs first, and uploads and
  summarises even when cancelled; CI has a ``windows-latest`` job.

Schema validation (GitHub's workflow schema, vendored by check-jsonschema) runs here when
check-jsonschema is installed and in the project's CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
UNTRUSTED_IN_SCRIPT = re.compile(r"\$\{\{\s*(inputs\.|github\.event\.)")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items()
            for step in job.get("steps", [])]


def _uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def test_there_are_workflows() -> None:
    assert {p.name for p in FILES} >= {"ci.yml", "soak-windows.yml", "security.yml"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_untrusted_expression_inside_a_run_script(path: Path) -> None:
    for job_id, step in _steps(_load(path)):
        script = step.get("run")
        if script is None:
            continue
        found = UNTRUSTED_IN_SCRIPT.search(str(script))
        assert found is None, (
            f"{path.name}: job {job_id!r} step {step.get('name', script[:40])!r} pastes "
            f"{found.group(0) if found else ''}... into a script; pass it through env:")


def test_the_injection_check_catches_spacing_variants() -> None:
    for bad in ("run ${{ inputs.hours }}", "x ${{github.event.issue.title}}",
                "${{   inputs.profile || 'x' }}"):
        assert UNTRUSTED_IN_SCRIPT.search(bad)
    assert not UNTRUSTED_IN_SCRIPT.search("soakctl run --hours $env:SOAK_HOURS")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    for job_id, job in _load(path)["jobs"].items():
        assert "timeout-minutes" in job, f"{path.name}: job {job_id!r} has no timeout-minutes"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_artifact_uploads_exclude_credentials(path: Path) -> None:
    for job_id, step in _steps(_load(path)):
        if not _uses(step, "actions/upload-artifact"):
            continue
        lines = [line.strip() for line in str(step["with"]["path"]).splitlines()]
        assert any(line.startswith("!") and line.endswith("secrets/**") for line in lines), (
            f"{path.name}: job {job_id!r} uploads {lines} without excluding **/secrets/**")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_python_is_pinned(path: Path) -> None:
    for job_id, step in _steps(_load(path)):
        if _uses(step, "actions/setup-python"):
            version = str(step.get("with", {}).get("python-version", ""))
            assert re.fullmatch(r"3\.\d+(\.\d+)?", version), f"{path.name}: {job_id}: {version!r}"


def test_windows_soak_is_hardened() -> None:
    workflow = _load(WORKFLOWS / "soak-windows.yml")
    concurrency = workflow["concurrency"]
    assert concurrency["group"] and concurrency["cancel-in-progress"] is False
    job = workflow["jobs"]["soak"]
    env = job["env"]
    assert "inputs.profile" in env["SOAK_PROFILE"] and "inputs.hours" in env["SOAK_HOURS"]
    steps = job["steps"]
    scripts = [str(s.get("run", "")) for s in steps]
    cleanup = next(i for i, s in enumerate(scripts) if "soakctl cleanup" in s)
    first_soakctl = next(i for i, s in enumerate(scripts) if "soakctl " in s)
    assert cleanup == first_soakctl, "cleanup of earlier runs must come before any other soakctl"
    assert all("timeout-minutes" in s for s in steps if "run" in s)
    tail = [s for s in steps if s.get("if") == "always()"]
    assert any(_uses(s, "actions/upload-artifact") for s in tail)
    assert any("GITHUB_STEP_SUMMARY" in str(s.get("run", "")) for s in tail)
    assert any("soakctl cleanup" in str(s.get("run", "")) for s in tail)


def test_ci_runs_on_windows() -> None:
    jobs = _load(WORKFLOWS / "ci.yml")["jobs"]
    windows = [j for j in jobs.values() if j.get("runs-on") == "windows-latest"]
    assert len(windows) == 1
    scripts = " ".join(str(s.get("run", "")) for s in windows[0]["steps"])
    assert "pytest" in scripts and "soakctl run --profile bot-sim --minutes 2" in scripts
    assert "test_killed_soakctl.py" in scripts and "bench_windows_sampling.py" in scripts


def _check_jsonschema() -> str | None:
    beside = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    return beside or shutil.which("check-jsonschema")


@pytest.mark.skipif(_check_jsonschema() is None,
                    reason="check-jsonschema not installed (the project's CI installs it)")
def test_workflows_validate_against_githubs_schema() -> None:
    proc = subprocess.run([str(_check_jsonschema()), "--builtin-schema", "vendor.github-workflows",
                           *map(str, FILES)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
