"""mmbot: an asyncio maker-rebate market-making bot for Bybit v5, and ``bot.sim``, a local
Bybit-v5-compatible exchange it can run against with no network and no account."""

__version__ = "0.1.0"
