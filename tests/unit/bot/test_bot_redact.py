"""Redaction: registered secrets by value, the seed's patterns, and the logging filter."""

from __future__ import annotations

import io
import logging

import pytest

from bot.common.redact import RedactionFilter, clear_registered_secrets, redact, register_secret
from bot.common.secrets import Secret


@pytest.fixture(autouse=True)
def _fresh() -> None:
    clear_registered_secrets()


def test_registered_secret_masked_anywhere() -> None:
    register_secret("s3cr3tVALUExyz")
    assert "s3cr3tVALUExyz" not in redact("prefix-s3cr3tVALUExyz-suffix and again s3cr3tVALUExyz")


def test_secret_object_registers_itself() -> None:
    Secret("AnotherSecretValue42")
    assert redact("boom AnotherSecretValue42") == "boom ***"


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("api_key=ABCDEFGHIJKLMNOPQRSTUV", "ABCDEFGHIJKLMNOPQRSTUV"),
        ('{"api_secret": "zzzyyyxxx"}', "zzzyyyxxx"),
        ("password: hunter2", "hunter2"),
        ("X-BAPI-SIGN: 942cd2fe6e0ad28979", "942cd2fe6e0ad28979"),
        ("Authorization: Bearer abcdefghijk.lmn", "abcdefghijk"),
        ("token abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnopqrstuvwxyz0123"),
        ("mail ops@example.com now", "ops@example.com"),
        ("peer 8.8.8.8:443", "8.8.8.8"),
        ("order 9aac161b-8ed6-450d-9cab-c5cc67c21784 filled", "9aac161b-8ed6"),
    ],
)
def test_patterns(text: str, leaked: str) -> None:
    assert leaked not in redact(text)


@pytest.mark.parametrize(
    "text", ["listening on 127.0.0.1:9464", "lan 192.168.1.5 and 10.0.0.1", "qty 0.001 px 30000.5"]
)
def test_local_and_numbers_kept(text: str) -> None:
    assert redact(text) == text


def test_filter_redacts_args_and_traceback() -> None:
    register_secret("TopSecretTopSecret")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    log = logging.getLogger("test.redact.filter")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("key is %s", "TopSecretTopSecret")
        try:
            raise ValueError("bad TopSecretTopSecret")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "TopSecretTopSecret" not in out
    assert "ValueError: bad ***" in out
