"""Bybit v5 as a venue: settings (:mod:`.config`), wire-to-domain conversion (:mod:`.schemas`),
REST (:mod:`.http`), streams (:mod:`.websocket`) and the connector (:mod:`.execution`).
Protocol facts (signing, retCodes, limits, message shapes) come from :mod:`bot.bybit_v5`."""

from __future__ import annotations

from bot.venues.base import VenueContext
from bot.venues.bybit.config import BybitSettings
from bot.venues.bybit.execution import BybitConnector


def build(ctx: VenueContext) -> BybitConnector:
    return BybitConnector(BybitSettings.from_config(ctx.cfg), ctx)
