"""What we ship besides the package: workflows, the Dockerfile and compose.yaml.

Structure is checked here (timeouts on every job, inputs only through env, secrets never in an
artifact or a layer), the soak-matrix scripts are run for real on sample data, and the same
linters as ``.ci/run`` (GitHub's workflow schema and the Compose spec via check-jsonschema,
hadolint) run when installed (the test extra installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
MATRIX = REPO / ".github" / "workflows" / "soak-matrix.yml"
BIN = Path(sys.executable).parent
MIB = 1 << 20


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        pytest.skip(f"{name} not installed (pip install -e '.[test]')")
    return which


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    jobs = _load(path)["jobs"]
    assert jobs
    missing = [name for name, job in jobs.items() if "timeout-minutes" not in job]
    assert not missing, f"{path.name}: jobs without timeout-minutes: {missing}"


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_name, step) for job_name, job in workflow["jobs"].items()
            for step in job.get("steps", [])]


def test_soak_matrix_structure() -> None:
    wf = _load(MATRIX)
    on = wf.get("on") or wf.get(True)  # YAML 1.1 reads a bare `on` as True
    assert set(on["workflow_dispatch"]["inputs"]) >= {"profiles", "runners", "hours"}
    assert wf["concurrency"]["group"]
    for job, step in _steps(wf):
        assert "${{" not in step.get("run", ""), f"{job}: an expression inside a script"
    soak = wf["jobs"]["soak"]
    assert "fromJSON(needs.setup.outputs.matrix)" in soak["strategy"]["matrix"]
    assert soak["runs-on"] == "${{ matrix.runs_on }}"
    runs = [s["run"] for s in soak["steps"] if "run" in s]
    verify = next(i for i, r in enumerate(runs) if "soakctl verify" in r)
    run = next(i for i, r in enumerate(runs) if "soakctl run" in r)
    assert verify < run
    upload = next(s for s in soak["steps"] if s.get("uses", "").startswith(
        "actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert "!soak-out/**/secrets/**" in upload["with"]["path"].splitlines()
    compare = wf["jobs"]["compare"]
    assert compare["needs"] == ["setup", "soak"]
    assert compare["if"].startswith("always()")
    assert any("soakctl compare" in s.get("run", "") for s in compare["steps"])


def _script(job: str, step_id: str | None = None, contains: str | None = None) -> str:
    for name, step in _steps(_load(MATRIX)):
        if name == job and ((step_id and step.get("id") == step_id)
                            or (contains and contains in step.get("run", ""))):
            return str(step["run"])
    raise AssertionError(f"no such step in {job}")


def _run_bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, **env, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env=full, cwd=cwd,
                          capture_output=True, text=True, timeout=180, check=False)


def test_setup_builds_the_matrix_and_refuses_bad_inputs(tmp_path: Path) -> None:
    script = _script("setup", step_id="plan")
    out = tmp_path / "out"
    out.write_text("")
    proc = _run_bash(script, {"PROFILES": '["bot-sim", "smoke"]',
                              "RUNNERS": '[["self-hosted", "linux"], ["ubuntu-latest"]]',
                              "HOURS": "0.5", "GITHUB_OUTPUT": str(out)}, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    cells = orjson.loads(outputs["matrix"])["include"]
    assert len(cells) == 4
    assert {(tuple(c["runs_on"]), c["profile"]) for c in cells} == {
        (("self-hosted", "linux"), "bot-sim"), (("self-hosted", "linux"), "smoke"),
        (("ubuntu-latest",), "bot-sim"), (("ubuntu-latest",), "smoke")}
    assert len({c["id"] for c in cells}) == 4
    assert outputs["base"] == cells[0]["id"]
    assert outputs["timeout"] == "90"
    for bad in ({"PROFILES": '["x; rm -rf /"]'}, {"PROFILES": "bot-sim"},
                {"RUNNERS": '["ubuntu-latest"]'}, {"HOURS": "-1"}, {"HOURS": "soon"}):
        env = {"PROFILES": '["bot-sim"]', "RUNNERS": '[["ubuntu-latest"]]', "HOURS": "1",
               "GITHUB_OUTPUT": str(out), **bad}
        proc = _run_bash(script, env, tmp_path)
        assert proc.returncode == 2 and "::error::" in proc.stdout, bad


def _run_dir(path: Path, leak_mib_per_h: float) -> None:
    path.mkdir(parents=True)
    (path / "secrets").mkdir()
    lines = [orjson.dumps({"ts": 1_780_000_000.0 + 2 * i, "rss_bytes": int(
        100 * MIB + leak_mib_per_h * MIB * 2 * i / 3600 + (i % 7) * 50_000)})
        for i in range(1800)]
    (path / "resources.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def test_fan_in_compares_every_cell_with_the_first(tmp_path: Path) -> None:
    script = _script("compare", contains="soakctl compare")
    _run_dir(tmp_path / "runs" / "soak-0-a-bot-sim" / "20260101T000000Z", 0)
    _run_dir(tmp_path / "runs" / "soak-1-a-smoke" / "20260101T000001Z", 0)
    _run_dir(tmp_path / "runs" / "soak-2-b-bot-sim" / "20260101T000002Z", 90)
    summary = tmp_path / "summary.md"
    proc = _run_bash(script, {"BASE_ID": "0-a-bot-sim", "GITHUB_STEP_SUMMARY": str(summary)},
                     tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = summary.read_text()
    assert "| run |" in text and "REGRESSED: 20260101T000002Z" in text
    assert "::error::" in proc.stdout

    shutil.rmtree(tmp_path / "runs" / "soak-2-b-bot-sim")
    summary.write_text("")
    proc = _run_bash(script, {"BASE_ID": "0-a-bot-sim", "GITHUB_STEP_SUMMARY": str(summary)},
                     tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no regression" in summary.read_text()


def test_compose_wires_secrets_prometheus_and_the_soak() -> None:
    compose = _load(REPO / "compose.yaml")
    services = compose["services"]
    assert set(services) >= {"sim", "bot", "soak", "prometheus"}
    assert set(compose["secrets"]) == {"bybit_api_key", "bybit_api_secret"}
    for name in ("sim", "bot"):
        assert set(services[name]["secrets"]) == {"bybit_api_key", "bybit_api_secret"}
    text = (REPO / "compose.yaml").read_text()
    assert not re.search(r"BYBIT_API_(KEY|SECRET)\s*[:=]", text), "a credential in the env"
    soak = " ".join(services["soak"]["command"])
    assert "--profile bot-sim" in soak and "--metrics-listen 0.0.0.0:9108" in soak
    prom = _load(REPO / compose["configs"]["prometheus_config"]["file"])
    targets = {t for job in prom["scrape_configs"] for sc in job["static_configs"]
               for t in sc["targets"]}
    assert targets == {"bot:9464", "soak:9108"}
    assert all(p.startswith("127.0.0.1:") for p in services["prometheus"].get("ports", []))


def test_dockerfile_is_multistage_non_root_and_secret_free() -> None:
    lines = [ln.strip() for ln in (REPO / "Dockerfile").read_text().splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    assert sum(1 for ln in lines if ln.startswith("FROM ")) >= 2
    assert all("slim" in ln for ln in lines if ln.startswith("FROM "))
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    health = next(ln for ln in lines if ln.startswith("HEALTHCHECK"))
    assert "/healthz" in " ".join(lines[lines.index(health):lines.index(health) + 2])
    assert lines[-2] == 'ENTRYPOINT ["soakctl"]' or 'ENTRYPOINT ["soakctl"]' in lines
    assert not any("secret" in ln.lower() for ln in lines if ln.startswith(("COPY", "ADD")))
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert "**/secrets" in ignored and "**/.venv" in ignored


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_match_githubs_schema(path: Path) -> None:
    proc = subprocess.run([_tool("check-jsonschema"), "--builtin-schema",
                           "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_matches_the_compose_spec() -> None:
    proc = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                           str(REPO / "compose.yaml")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_passes_hadolint() -> None:
    proc = subprocess.run([_tool("hadolint"), str(REPO / "Dockerfile")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# Distribution name -> import name, where they differ; pip-audit runs as a program.
_IMPORT_NAMES = {"pyyaml": "yaml", "prometheus-client": "prometheus_client"}
_PROGRAMS = {"pip-audit"}


def test_runtime_dependencies_are_imported_by_the_code() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ \[;]", dep, maxsplit=1)[0].lower().replace("_", "-")
             for dep in project["dependencies"]]
    sources = "\n".join(p.read_text(encoding="utf-8") for pkg in ("soakctl", "checks", "bot")
                        for p in (REPO / pkg).rglob("*.py"))
    unused = []
    for name in names:
        if name in _PROGRAMS:
            continue
        module = _IMPORT_NAMES.get(name, name.replace("-", "_"))
        if not re.search(rf"^\s*(import|from) {module}\b", sources, re.MULTILINE):
            unused.append(name)
    assert not unused, f"runtime dependencies no code imports (move to an extra): {unused}"
