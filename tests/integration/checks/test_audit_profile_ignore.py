"""`soakctl audit --profile`: the profile's dated, reasoned audit.ignore entries excuse a
vulnerability until they expire (judged on a captured pip-audit JSON: no service here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "pip_audit"
SOAKCTL = str(Path(sys.executable).parent / "soakctl")


def _audit(tmp_path: Path, expires: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "p.yaml"
    profile.write_text(f"""
target: {{command: [sleep, "1"]}}
audit:
  ignore:
    - id: CVE-2024-22195
      package: jinja2
      reason: xmlattr is never used with user keys here
      expires: {expires}
""")
    return subprocess.run(
        [
            SOAKCTL,
            "audit",
            "--json",
            "--input",
            str(FIXTURES / "fixable.json"),
            "--profile",
            str(profile),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, CI="true"),
        check=False,
        cwd=tmp_path,
    )


def test_profile_ignore_excuses_until_it_expires(tmp_path: Path) -> None:
    excused = _audit(tmp_path, "2999-12-31")
    assert excused.returncode == 0, excused.stdout + excused.stderr
    report = json.loads(excused.stdout)
    assert report["ok"] is True
    assert [v["decision"] for v in report["vulnerabilities"]] == ["ignored"]
    expired = _audit(tmp_path, "2000-01-01")
    assert expired.returncode == 1, expired.stdout + expired.stderr
    assert json.loads(expired.stdout)["expired_ignores"][0]["id"] == "CVE-2024-22195"


def test_bad_profile_ignore_entry_is_a_usage_error(tmp_path: Path) -> None:
    result = _audit(tmp_path, "someday")
    assert result.returncode == 2
    assert "audit.ignore.0.expires" in result.stderr and "Traceback" not in result.stderr
