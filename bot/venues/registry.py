"""The venues the bot can build, by name (``exchange.name`` in the config).

Explicit on purpose: adding a venue is one package under ``bot/venues/`` plus one line here
(docs/bot.md, "Adding a venue"). A test checks this table against the packages on disk.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.venues import bybit
from bot.venues.base import ExchangeConnector, VenueContext

VENUES: dict[str, Callable[[VenueContext], ExchangeConnector]] = {
    "bybit": bybit.build,
}


class UnknownVenueError(Exception):
    pass


def build_venue(name: str, ctx: VenueContext) -> ExchangeConnector:
    """The connector registered as ``name``."""
    factory = VENUES.get(name)
    if factory is None:
        known = ", ".join(sorted(VENUES))
        raise UnknownVenueError(f"unknown venue {name!r} (known: {known})")
    return factory(ctx)
