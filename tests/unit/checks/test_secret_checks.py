"""``secrets``, ``log-lint`` and ``redaction``: pass on a good setup, fail for their reason."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from checks.base import Status
from checks.log_lint import LogLintCheck
from checks.redaction import RedactionCheck
from checks.secrets_files import SecretsCheck
from tests.unit.checks.conftest import MakeContext

BOT = {"target": {"command": ["mmbot", "run"]}}


def write_secrets(directory: Path, mode: int = 0o600) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    key, secret = directory / "bybit_api_key", directory / "bybit_api_secret"
    key.write_text("KEYKEYKEY-test\n")
    secret.write_text("SECRETSECRETSECRET-test\n")
    for path in (key, secret):
        path.chmod(mode)
    return key, secret


def test_secrets_pass_from_files_named_by_env(make_ctx: MakeContext, tmp_path: Path) -> None:
    key, secret = write_secrets(tmp_path / "creds")
    env = {"BYBIT_API_KEY_FILE": str(key), "BYBIT_API_SECRET_FILE": str(secret)}
    outcome = SecretsCheck().run(make_ctx(BOT, env=env))
    assert outcome.status is Status.PASS, outcome.message


def test_secrets_pass_from_secrets_dir_and_run_dir(make_ctx: MakeContext, tmp_path: Path) -> None:
    write_secrets(tmp_path / "run-secrets")
    ctx = make_ctx(BOT, secrets_dir=tmp_path / "run-secrets")
    assert SecretsCheck().run(ctx).status is Status.PASS
    write_secrets(tmp_path / "run-creds")
    ctx = make_ctx(BOT, env={"MMBOT_CREDENTIALS_DIR": str(tmp_path / "run-creds")})
    assert SecretsCheck().run(ctx).status is Status.PASS


def test_secrets_fail_as_plain_env_vars(make_ctx: MakeContext) -> None:
    outcome = SecretsCheck().run(make_ctx(BOT, env={"BYBIT_API_KEY": "abc", "PATH": "/bin"}))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("BYBIT_API_KEY set as plain environment variable")
    assert "abc" not in outcome.message


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_secrets_fail_world_readable(make_ctx: MakeContext, tmp_path: Path) -> None:
    write_secrets(tmp_path / "creds", mode=0o644)
    ctx = make_ctx(BOT, env={"MMBOT_CREDENTIALS_DIR": str(tmp_path / "creds")})
    outcome = SecretsCheck().run(ctx)
    assert outcome.status is Status.FAIL
    assert "world-accessible (mode -rw-r--r--)" in outcome.message
    assert outcome.fix and "chmod 600" in outcome.fix


def test_secrets_fail_missing_and_empty(make_ctx: MakeContext, tmp_path: Path) -> None:
    key, _ = write_secrets(tmp_path / "creds")
    key.write_text("")
    env = {"BYBIT_API_KEY_FILE": str(key), "BYBIT_API_SECRET_FILE": str(tmp_path / "nope")}
    outcome = SecretsCheck().run(make_ctx(BOT, env=env))
    assert outcome.status is Status.FAIL
    assert f"API key file {key} is empty" in outcome.message
    assert f"API secret file {tmp_path / 'nope'} does not exist" in outcome.message
    (tmp_path / "a-dir").mkdir()
    env["BYBIT_API_SECRET_FILE"] = str(tmp_path / "a-dir")
    outcome = SecretsCheck().run(make_ctx(BOT, env=env))
    assert f"API secret file {tmp_path / 'a-dir'} is not a regular file" in outcome.message


def test_secrets_fail_tracked_by_git(make_ctx: MakeContext, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_secrets(repo)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True, timeout=30)
    subprocess.run([*git, "add", "bybit_api_key"], check=True, timeout=30)
    ctx = make_ctx(BOT, env={"MMBOT_CREDENTIALS_DIR": str(repo)})
    outcome = SecretsCheck().run(ctx)
    assert outcome.status is Status.FAIL
    assert "bybit_api_key is tracked by git" in outcome.message
    assert "bybit_api_secret is tracked" not in outcome.message


def test_secrets_none_needed_or_missing(make_ctx: MakeContext) -> None:
    run_sim = {
        "target": {
            "command": ["mmbot", "run"],
            "env": {"MMBOT_REST_URL": "{services.exchange.rest_url}"},
        },
        "services": [{"name": "exchange", "command": ["mmbot", "sim", "--port", "0"]}],
    }
    assert SecretsCheck().run(make_ctx(run_sim)).status is Status.PASS
    assert SecretsCheck().run(make_ctx()).status is Status.SKIP  # `sleep`: no exchange
    outcome = SecretsCheck().run(make_ctx(BOT))  # mmbot against an external exchange
    assert outcome.status is Status.FAIL
    assert outcome.message == "no Bybit credentials found"


def test_log_lint_passes_on_ascii_and_fails_on_non_ascii(
    make_ctx: MakeContext, tmp_path: Path
) -> None:
    logs = tmp_path / "artifacts" / "20261124T000000Z" / "logs"
    logs.mkdir(parents=True)
    (logs / "target.log").write_text("quote placed\n" * 100)
    ctx = make_ctx(artifacts_dir=tmp_path / "artifacts")
    assert LogLintCheck().run(ctx).status is Status.PASS
    (logs / "target.log.1").write_bytes("price 3\u20ac\n".encode())
    outcome = LogLintCheck().run(ctx)
    assert outcome.status is Status.FAIL
    assert f"{logs / 'target.log.1'}:1:8: non-ASCII byte 0xe2" in outcome.message


def test_log_lint_without_logs(make_ctx: MakeContext, tmp_path: Path) -> None:
    assert LogLintCheck().run(make_ctx(artifacts_dir=tmp_path / "none")).status is Status.PASS


def test_redaction_masks_with_the_bot_filter(make_ctx: MakeContext) -> None:
    outcome = RedactionCheck().run(make_ctx())
    assert outcome.status is Status.PASS, outcome.message


def test_redaction_fails_when_the_filter_lets_secrets_through(make_ctx: MakeContext) -> None:
    outcome = RedactionCheck(handler_factory=logging.StreamHandler).run(make_ctx())
    assert outcome.status is Status.FAIL
    assert "appeared unmasked" in outcome.message


def test_redaction_skips_without_the_bot_module(make_ctx: MakeContext) -> None:
    def missing(stream: io.StringIO) -> logging.Handler:
        raise ModuleNotFoundError("No module named 'bot.common.redact'")

    outcome = RedactionCheck(handler_factory=missing).run(make_ctx())
    assert outcome.status is Status.SKIP
    assert "bot.common.redact" in outcome.message
