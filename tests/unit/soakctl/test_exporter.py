"""The --metrics-listen exporter: address rules, the live leak estimate, observer fan-out.

The HTTP side is real (a server on 127.0.0.1:0) and the page is parsed with prometheus_client's
own text parser.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from soakctl.errors import UsageError
from soakctl.exporter import MetricsExporter, parse_listen
from soakctl.observer import FanOut, NullObserver


def _scrape(exporter: MetricsExporter) -> dict[str, list[Any]]:
    with urllib.request.urlopen(exporter.url, timeout=5) as resp:
        text = resp.read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


@given(st.integers(0, 65535))
def test_a_bare_port_binds_loopback(port: int) -> None:
    assert parse_listen(str(port)) == ("127.0.0.1", port, True)
    assert parse_listen(f":{port}") == ("127.0.0.1", port, True)
    assert parse_listen(f"[::1]:{port}") == ("::1", port, True)
    assert parse_listen(f"0.0.0.0:{port}") == ("0.0.0.0", port, False)


@given(st.text(max_size=30))
def test_parse_listen_never_crashes(text: str) -> None:
    try:
        host, port, _ = parse_listen(text)
    except ValueError:
        return
    assert 0 <= port <= 65535 and host


def test_bad_addresses_are_usage_errors() -> None:
    for bad in ("localhost:http", "1:2:3", "[::1]9100", "70000", "host:"):
        with pytest.raises(UsageError, match="--metrics-listen"):
            MetricsExporter(bad)


def test_loopback_by_default_without_warning() -> None:
    # Binding a non-loopback address is not tried here (tests stay on loopback); that it is
    # flagged non-loopback, hence warned about, is checked above.
    warnings: list[str] = []
    assert parse_listen("localhost:0")[2] and parse_listen("127.0.0.2:0")[2]
    assert not parse_listen("192.0.2.1:0")[2]
    exporter = MetricsExporter("0", warn=warnings.append)
    try:
        assert exporter.host == "127.0.0.1" and not warnings
    finally:
        exporter.close()


def test_samples_and_leak_estimate_are_exported() -> None:
    exporter = MetricsExporter("127.0.0.1:0")
    try:
        exporter.on_start({"run_id": "R1", "profile": "p"})
        exporter.on_sample({"name": "target", "ts": 1.0, "rss_bytes": 1000, "cpu_percent": 2.5,
                            "num_fds": 7, "num_threads": 3, "num_procs": 2, "zombies": 0,
                            "restarts": 4})
        families = _scrape(exporter)
        labels = {"run_id": "R1", "profile": "p", "name": "target"}
        assert [(s.labels, s.value) for s in families["soakctl_rss_bytes"]] == [(labels, 1000)]
        assert families["soakctl_restarts"][0].value == 4  # exposed as soakctl_restarts_total
        assert families["soakctl_restarts"][0].name == "soakctl_restarts_total"
        assert "soakctl_leak_slope_mib_per_hour" not in families or not families[
            "soakctl_leak_slope_mib_per_hour"]

        # Through a fan-out whose other observer has no on_leak_estimate: tolerated.
        fan = FanOut(NullObserver(), exporter)
        fan.on_leak_estimate({"series": "rss_bytes", "slope_mib_per_hour": 12.5,
                              "ci_mib_per_hour": [10.0, 15.0], "status": "leak"})
        fan.on_sample({"name": "target", "ts": 2.0, "rss_bytes": 2000})
        families = _scrape(exporter)
        slope = families["soakctl_leak_slope_mib_per_hour"]
        assert slope[0].value == 12.5 and slope[0].labels["series"] == "rss_bytes"
        assert families["soakctl_leak_ci_low_mib_per_hour"][0].value == 10.0
        states = {s.labels["status"]: s.value for s in families["soakctl_leak_status"]}
        assert states == {"leak": 1.0, "no_leak": 0.0, "inconclusive": 0.0}
        assert families["soakctl_rss_bytes"][0].value == 2000

        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(exporter.url.replace("/metrics", "/"), timeout=5)
        assert err.value.code == 404
        err.value.close()
    finally:
        exporter.close()


def test_keep_alive_head_and_refusals() -> None:
    exporter = MetricsExporter("127.0.0.1:0")
    conn = http.client.HTTPConnection("127.0.0.1", exporter.port, timeout=5)
    try:
        exporter.on_sample({"name": "target", "ts": 1.0, "rss_bytes": 5})
        for value in (5, 6):  # two scrapes on one connection, each sees the latest sample
            exporter.on_sample({"name": "target", "ts": 1.0, "rss_bytes": value})
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read().decode()
            assert resp.status == 200 and resp.getheader("Content-Type", "").startswith(
                "text/plain; version=0.0.4")
            assert f'soakctl_rss_bytes{{run_id="",profile="",name="target"}} {value}.0' in body
        conn.request("HEAD", "/metrics")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b""
        conn.request("POST", "/metrics", body=b"x")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 400
    finally:
        conn.close()
        exporter.close()


def test_label_values_are_escaped() -> None:
    exporter = MetricsExporter("127.0.0.1:0")
    try:
        exporter.on_start({"run_id": "r", "profile": 'we"ird\\name\nx'})
        exporter.on_sample({"name": "target", "ts": 1.0, "rss_bytes": 1})
        families = _scrape(exporter)
        assert families["soakctl_rss_bytes"][0].labels["profile"] == 'we"ird\\name\nx'
    finally:
        exporter.close()


def test_address_in_use_is_a_usage_error() -> None:
    first = MetricsExporter("127.0.0.1:0")
    try:
        with pytest.raises(UsageError, match="cannot listen"):
            MetricsExporter(f"127.0.0.1:{first.port}")
    finally:
        first.close()


_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                 max_size=8)
_values = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3))
_numbers = st.one_of(st.none(), st.booleans(), st.integers(0, 2**53),
                     st.floats(allow_nan=True, allow_infinity=True))
_sample = st.dictionaries(st.sampled_from(["rss_bytes", "cpu_percent", "num_fds", "num_threads",
                                           "num_procs", "zombies", "ts", "other"]),
                          _numbers).flatmap(
    lambda s: st.integers(0, 1000).map(lambda r: {**s, "restarts": r}))
_leak = st.fixed_dictionaries({}, optional={
    "name": _names, "slope_mib_per_hour": _values, "status": st.sampled_from(
        ["leak", "no_leak", "inconclusive", "warmup"]),
    "ci_mib_per_hour": st.one_of(st.lists(_values, max_size=3), st.none())})


@given(_names, _names, st.dictionaries(_names, _sample, max_size=3),
       st.dictionaries(_names, _leak, max_size=3))
def test_the_page_served_is_what_the_collector_describes(
        run_id: str, profile: str, samples: dict[str, dict[str, Any]],
        leaks: dict[str, dict[str, Any]]) -> None:
    """The page is written directly (fast); prometheus_client's families are the reference."""
    from soakctl.exporter import SampleCollector, _DirectText, _Latest, exposition

    latest = _Latest()
    latest.run = {"run_id": run_id, "profile": profile}
    latest.samples = {name: {**s, "name": name} for name, s in samples.items()}
    latest.leaks = {series: dict(est, series=series) for series, est in leaks.items()}
    reference = exposition(SampleCollector(latest).collect())
    assert _DirectText().render(latest) == reference
    text_string_to_metric_families(reference.decode())  # and it parses
