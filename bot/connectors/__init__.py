"""Exchange connectors: the pooled REST client and the WebSocket connection base with Bybit's
public and private hooks. Errors every connector raises are in :mod:`bot.connectors.errors`."""
