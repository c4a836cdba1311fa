"""Profile model details, placeholders and Prometheus flattening."""

from __future__ import annotations

import pytest

from soakctl.errors import ProfileError
from soakctl.placeholders import expand
from soakctl.profile import load_profile, parse_profile
from soakctl.scrape import parse_metrics


def test_defaults_and_string_commands() -> None:
    profile = parse_profile({"target": {"command": "python -m 'my app' --flag"}})
    assert profile.target is not None
    assert profile.target.command == ["python", "-m", "my app", "--flag"]
    assert profile.interval_s == 1.0 and profile.target.restart == "on-failure"
    assert profile.logs.max_bytes == 50_000_000 and profile.logs.keep == 5


def test_nested_errors_name_the_key_path() -> None:
    with pytest.raises(ProfileError, match=r"p.yaml: services.0.ready.timeout: expected a dur"):
        parse_profile(
            {"services": [{"name": "x", "command": ["a"], "ready": {"timeout": "x"}}]}, "p.yaml"
        )
    with pytest.raises(ProfileError, match=r"logs.max_bytes: expected a size"):
        parse_profile({"logs": {"max_bytes": "lots"}})
    with pytest.raises(ProfileError, match=r"target.restart: "):
        parse_profile({"target": {"command": ["a"], "restart": "sometimes"}})


def test_placeholders_expand_only_known_forms() -> None:
    services = {"exchange": {"rest_url": "http://127.0.0.1:1"}}
    assert (
        expand('{run_dir}/x {services.exchange.rest_url} {other} {"a": 1}', "/r", services)
        == '/r/x http://127.0.0.1:1 {other} {"a": 1}'
    )
    with pytest.raises(ProfileError, match="no service 'nope'"):
        expand("{services.nope.url}", "/r", services)
    with pytest.raises(ProfileError, match="has no 'ws'"):
        expand("{services.exchange.ws}", "/r", services)


def test_missing_profile_names_the_bundled_ones(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProfileError, match="not found"):
        load_profile("does-not-exist")


def test_parse_metrics_sums_label_sets_and_drops_buckets() -> None:
    text = """# TYPE reconnects_total counter
reconnects_total{ws_type="public"} 2
reconnects_total{ws_type="private"} 3
# TYPE lat histogram
lat_bucket{le="0.1"} 4
lat_bucket{le="+Inf"} 5
lat_sum 0.3
lat_count 5
# TYPE depth gauge
depth NaN
"""
    assert parse_metrics(text) == {"reconnects_total": 5.0, "lat_sum": 0.3, "lat_count": 5.0}


def test_examples_dir_names_the_shipped_examples() -> None:
    from pathlib import Path

    example = Path(expand("{examples_dir}/ccxt_maker.py", "/r", {}))
    assert example.is_absolute() and example.is_file()
    assert "ccxt.pro" in example.read_text() or "ccxtpro" in example.read_text()


def test_port_placeholders_are_free_and_stable_within_a_run() -> None:
    ports: dict[str, int] = {}
    first = expand("{ports.metrics}", "/r", {}, ports)
    again = expand("http://127.0.0.1:{ports.metrics}/m", "/r", {}, ports)
    other = expand("{ports.admin}", "/r", {}, ports)
    assert again == f"http://127.0.0.1:{first}/m"
    assert int(first) > 0 and other != first
    import socket

    with socket.socket() as sock:  # it was free when chosen
        sock.bind(("127.0.0.1", int(first)))
