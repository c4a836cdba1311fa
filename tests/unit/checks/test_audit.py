"""The audit policy on captured pip-audit JSON, the ignore list, and the unreachable path."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

import pytest

from checks.audit import (
    Decision,
    evaluate,
    load_ignore_rules,
    load_pip_audit_json,
    run_pip_audit,
)
from checks.base import Status
from checks.dependency_audit import DependencyAuditCheck
from soakctl.errors import InputError, UsageError
from tests.unit.checks.conftest import MakeContext

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pip_audit"
TODAY = dt.date(2026, 11, 24)


def fixture(name: str) -> Path:
    return FIXTURES / name


def ignore_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "audit-ignore.yaml"
    path.write_text(body)
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_fixable_vulnerability_blocks() -> None:
    verdict = evaluate(load_pip_audit_json(fixture("fixable.json")), [], TODAY)
    assert verdict.status is Status.FAIL
    (judged,) = verdict.judged
    assert judged.decision is Decision.BLOCK
    assert judged.vulnerability.aliases == ("CVE-2024-22195",)
    assert "jinja2 GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in verdict.message


def test_no_fix_warns_and_high_severity_blocks() -> None:
    verdict = evaluate(load_pip_audit_json(fixture("no_fix.json")), [], TODAY)
    assert verdict.status is Status.WARN
    assert verdict.judged[0].decision is Decision.WARN
    high = evaluate(load_pip_audit_json(fixture("severity_high_no_fix.json")), [], TODAY)
    assert high.status is Status.FAIL
    assert high.judged[0].why == "severity HIGH"


def test_clean_report_with_a_private_package_warns_naming_it() -> None:
    verdict = evaluate(load_pip_audit_json(fixture("clean.json")), [], TODAY)
    assert verdict.status is Status.WARN
    assert "1 package(s) not audited: private-tool" in verdict.message


def test_all_skipped_capture_is_unreachable() -> None:
    verdict = evaluate(load_pip_audit_json(fixture("unreachable_all_skipped.json")), [], TODAY)
    assert verdict.status is Status.WARN
    assert verdict.service_error
    assert "4 package(s) not audited: aiohappyeyeballs, aiohttp" in verdict.message


def test_ignore_rule_by_alias_until_expiry(tmp_path: Path) -> None:
    rules = load_ignore_rules(
        ignore_file(
            tmp_path,
            (
                "ignore:\n"
                "  - id: CVE-2024-22195\n"
                "    package: Jinja2\n"
                "    reason: templates never come from user input\n"
                "    expires: 2026-12-31\n"
            ),
        )
    )
    report = load_pip_audit_json(fixture("fixable.json"))
    live = evaluate(report, rules, TODAY)
    assert live.status is Status.PASS
    assert live.judged[0].decision is Decision.IGNORED
    assert "ignored until 2026-12-31" in live.judged[0].why
    expired = evaluate(report, rules, dt.date(2027, 1, 1))
    assert expired.status is Status.FAIL
    assert "expired ignore rule(s): CVE-2024-22195 (2026-12-31)" in expired.message


def test_ignore_rule_for_another_package_does_not_apply(tmp_path: Path) -> None:
    rules = load_ignore_rules(
        ignore_file(
            tmp_path,
            (
                "ignore: [{id: GHSA-h5c8-rqwp-cp95, package: other, reason: nope,"
                " expires: 2030-01-01}]\n"
            ),
        )
    )
    verdict = evaluate(load_pip_audit_json(fixture("fixable.json")), rules, TODAY)
    assert verdict.status is Status.FAIL


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("ignore: [{id: X, reason: because}]\n", "ignore.0.expires: required key is missing"),
        ("ignore: [{id: X, reason: because, expires: soon}]\n", "ignore.0.expires:"),
        ("ignore: [{id: X, expires: 2030-01-01}]\n", "ignore.0.reason: required key is missing"),
        (
            "ignore: [{id: X, reason: because, expires: 2030-01-01, until: 1}]\n",
            "ignore.0.until: unknown",
        ),
        ("ignore: [\n", "invalid YAML"),
    ],
)
def test_bad_ignore_file_is_a_usage_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_ignore_rules(ignore_file(tmp_path, body))


def test_bad_pip_audit_json_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"nope": 1}')
    with pytest.raises(InputError, match="not pip-audit JSON output"):
        load_pip_audit_json(path)


def test_pip_audit_unreachable_for_real() -> None:
    # A proxy that refuses connections: pip-audit itself fails to reach the service.
    env = {**os.environ, "HTTPS_PROXY": f"http://127.0.0.1:{closed_port()}"}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    report = run_pip_audit(timeout_s=60, env=env, probe=False)
    assert report.service_error and "unreachable" in report.service_error
    assert ("pip-audit", "not audited: " + report.service_error) in report.not_audited
    verdict = evaluate(report, [], TODAY)
    assert verdict.status is Status.WARN


def test_dependency_audit_check_warns_fast_when_unreachable(
    make_ctx: MakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port()}")
    outcome = DependencyAuditCheck().run(make_ctx())
    assert outcome.status is Status.WARN
    assert "pip-audit" in outcome.details["not_audited"]


def test_dependency_audit_check_fails_on_fixable(make_ctx: MakeContext) -> None:
    check = DependencyAuditCheck(audit=lambda ctx: load_pip_audit_json(fixture("fixable.json")))
    outcome = check.run(make_ctx())
    assert outcome.status is Status.FAIL
    assert outcome.fix and "upgrade" in outcome.fix


def test_dependency_audit_check_passes_on_clean_report(
    make_ctx: MakeContext, tmp_path: Path
) -> None:
    report = load_pip_audit_json(fixture("fixable.json"))
    report.vulnerabilities.clear()
    outcome = DependencyAuditCheck(audit=lambda ctx: report).run(make_ctx())
    assert outcome.status is Status.PASS
    assert outcome.message == "3 packages audited, no known vulnerability"
