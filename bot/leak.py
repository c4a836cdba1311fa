"""``--inject-leak MIB_PER_H``: a deliberate, test-only memory leak at a steady rate.

It exists to prove that a soak catches a leak: every second it keeps another
``rate / 3600`` MiB of *touched* memory (written bytes, so it is resident and shows in RSS),
and reports the total as ``mmbot_injected_leak_bytes``. Off unless asked for.
"""

from __future__ import annotations

import asyncio
import logging

from bot.metrics import BotMetrics

logger = logging.getLogger(__name__)

MIB = 1024 * 1024


async def leak_forever(mib_per_hour: float, metrics: BotMetrics, step_s: float = 1.0) -> None:
    """Grow a private list by ``mib_per_hour`` until cancelled."""
    hoard: list[bytes] = []
    chunk_bytes = max(1, int(mib_per_hour * MIB * step_s / 3600))
    total = 0
    logger.warning(
        "TEST ONLY: leaking memory at %.1f MiB/h on purpose (--inject-leak)", mib_per_hour
    )
    while True:
        hoard.append(b"\x5a" * chunk_bytes)
        total += chunk_bytes
        metrics.leak_bytes.set(total)
        await asyncio.sleep(step_s)
