"""Fixtures for the bot's integration tests (defined in :mod:`mmbot_procs`)."""

from __future__ import annotations

from mmbot_procs import bot_factory, sim_factory

__all__ = ["bot_factory", "sim_factory"]
