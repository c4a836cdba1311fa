"""The run-file contracts: committed JSON Schemas match the code; writer and reader agree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest
from pydantic import TypeAdapter, ValidationError

from soakctl import contracts
from soakctl.analyze.loader import NUMERIC_FIELDS, REQUIRED_FIELDS, load_samples
from soakctl.contracts import Event, ExitReason, Sample
from soakctl.procfs import default_reader
from soakctl.proctree import ProcessTree
from soakctl.sample import ProcessTreeSampler

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("stem", ["sample", "event", "run", "analysis"])
def test_committed_schema_matches_the_code(stem: str) -> None:
    committed = REPO / "docs" / "schemas" / f"{stem}.schema.json"
    assert committed.is_file(), f"{committed} missing: run python -m soakctl.contracts"
    generated = contracts.render(contracts.json_schemas()[stem])
    assert committed.read_text(encoding="utf-8") == generated, (
        f"{committed} is stale: run python -m soakctl.contracts and commit docs/schemas/")


def test_regenerating_writes_every_schema(tmp_path: Path) -> None:
    written = contracts.main([str(tmp_path)])
    assert written == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["analysis.schema.json", "event.schema.json", "run.schema.json",
                     "sample.schema.json"]
    schema = json.loads((tmp_path / "run.schema.json").read_text())
    assert {"$ref": "#/$defs/ExitReason"} in schema["properties"]["exit_reason"]["anyOf"]
    assert set(schema["$defs"]["ExitReason"]["enum"]) == {r.value for r in ExitReason}


def test_every_event_has_a_record_type() -> None:
    assert set(contracts.EVENT_TYPES) == set(Event)
    for event, tp in contracts.EVENT_TYPES.items():
        assert {"ts", "event", "name"} <= set(tp.__annotations__), event


def test_the_loader_reads_the_fields_the_sampler_writes() -> None:
    assert set(REQUIRED_FIELDS) == set(Sample.__required_keys__) == {"ts", "rss_bytes"}
    assert set(NUMERIC_FIELDS) == set(Sample.__annotations__) - {"name", "metrics"}


def test_a_real_sample_fits_the_contract_and_loads(tmp_path: Path) -> None:
    reader = default_reader()
    tree = ProcessTree(reader)
    tree.set_root(os.getpid())
    sampler = ProcessTreeSampler(reader, tree, disk_path=tmp_path, uss_every=1)
    lines = [sampler.sample() for _ in range(3)]
    adapter = TypeAdapter(Sample)
    for line in lines:
        assert adapter.validate_json(orjson.dumps(line), strict=True) == line
        assert set(line) - {"metrics"} <= set(Sample.__annotations__)
    path = tmp_path / "resources.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    loaded = load_samples(path)
    assert loaded.n == 3
    written = set().union(*lines) - {"name", "metrics"}
    assert written <= set(loaded.columns)
    assert {"ts", "rss_bytes", "cpu_percent", "num_fds", "restarts", "uss_bytes"} <= written


def test_the_sample_contract_rejects_a_wrong_type() -> None:
    with pytest.raises(ValidationError, match="rss_bytes"):
        TypeAdapter(Sample).validate_json(b'{"ts": 1.5, "rss_bytes": "lots"}', strict=True)
    with pytest.raises(ValidationError, match="rss_bytes"):
        TypeAdapter(Sample).validate_json(b'{"ts": 1.5}', strict=True)


def test_records_are_open_to_new_fields() -> None:
    line = b'{"ts": 1.5, "rss_bytes": 10, "a_future_field": [1, 2]}'
    assert TypeAdapter(Sample).validate_json(line, strict=True)["rss_bytes"] == 10
    schema = contracts.json_schemas()["run"]
    assert schema.get("additionalProperties", True) is not False


def test_enums_serialise_as_their_values() -> None:
    record = {"ts": 1.0, "event": Event.EXIT, "reason": ExitReason.GAVE_UP}
    assert orjson.loads(orjson.dumps(record)) == {"ts": 1.0, "event": "exit",
                                                  "reason": "gave_up"}
    assert Event("log_rotated") is Event.LOG_ROTATED
