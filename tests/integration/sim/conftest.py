"""Fixtures for the simulator's integration tests (servers from :mod:`simtools`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from simtools import FAST, SimThread

from bot.sim.config import SimConfig


@pytest.fixture
def sim_factory() -> Iterator[Callable[..., SimThread]]:
    started: list[SimThread] = []

    def make(faults: dict[str, Any] | None = None, **overrides: Any) -> SimThread:
        config = SimConfig(**{**FAST, **overrides})
        server = SimThread(config, faults).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sim(sim_factory: Callable[..., SimThread]) -> SimThread:
    return sim_factory()
