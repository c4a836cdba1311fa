"""Bybit v5 protocol facts, written once for the bot's Bybit venue and the simulator.

Only what the wire says, no behaviour: request signing and the timestamp / recv_window rule
(:mod:`~bot.bybit_v5.signing`), retCodes and what they mean (:mod:`~bot.bybit_v5.retcodes`),
product categories (:mod:`~bot.bybit_v5.categories`), the documented rate limits
(:mod:`~bot.bybit_v5.limits`) and the shapes of the messages both sides exchange
(:mod:`~bot.bybit_v5.schemas`). Nothing here imports the bot's trading code or the simulator,
so either may import it (docs/bybit-v5.md is the reference every module cites).
"""
