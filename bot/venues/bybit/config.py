"""What the Bybit venue reads from the bot's configuration, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import BotConfig, HttpConfig, WsConfig


@dataclass(frozen=True, slots=True)
class BybitSettings:
    rest_url: str
    ws_public_url: str
    ws_private_url: str
    category: str
    symbol: str
    recv_window_ms: int
    http: HttpConfig
    ws: WsConfig

    @classmethod
    def from_config(cls, cfg: BotConfig) -> BybitSettings:
        ex = cfg.exchange
        return cls(
            rest_url=ex.rest_url,
            ws_public_url=ex.ws_public_url,
            ws_private_url=ex.ws_private_url,
            category=ex.category,
            symbol=ex.symbol,
            recv_window_ms=ex.recv_window_ms,
            http=cfg.http,
            ws=cfg.ws,
        )
