"""mmbot sim: a local Bybit-v5-compatible exchange (REST + WebSockets on one port)."""
