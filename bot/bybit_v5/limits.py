"""Bybit v5's documented per-UID request limits (docs/bybit-v5.md §3, "UTA2.0 Pro" defaults).

The simulator enforces them (fixed one-second windows); the bot paces itself below them with a
token bucket per endpoint, so neither side carries its own copy of the numbers.
"""

from __future__ import annotations

from bot.bybit_v5.categories import Category

# (path, category) -> requests per second; category "" applies to every category.
LIMITS_PER_S: dict[tuple[str, str], int] = {
    ("/v5/order/create", Category.LINEAR): 10,
    ("/v5/order/create", Category.SPOT): 20,
    ("/v5/order/amend", Category.LINEAR): 10,
    ("/v5/order/amend", Category.SPOT): 10,
    ("/v5/order/cancel", Category.LINEAR): 10,
    ("/v5/order/cancel", Category.SPOT): 20,
    ("/v5/order/cancel-all", Category.LINEAR): 10,
    ("/v5/order/cancel-all", Category.SPOT): 20,
    ("/v5/order/realtime", ""): 50,
    ("/v5/order/history", ""): 50,
    ("/v5/execution/list", ""): 50,
    ("/v5/position/list", ""): 50,
    ("/v5/account/wallet-balance", ""): 50,
    ("/v5/account/fee-rate", ""): 5,
}
DEFAULT_PRIVATE_LIMIT_PER_S = 50
# Public endpoints, per client: Bybit allows 600 per 5 s per IP; kept loose for local use.
PUBLIC_LIMIT_PER_S = 600


def limit_per_s(path: str, category: str) -> int:
    """The documented limit for a private request to ``path`` in ``category``."""
    found = LIMITS_PER_S.get((path, category))
    if found is None:
        found = LIMITS_PER_S.get((path, ""), DEFAULT_PRIVATE_LIMIT_PER_S)
    return found
