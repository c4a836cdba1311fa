"""Bybit v5 product categories, the ``category`` parameter of every endpoint
(docs/bybit-v5.md §4)."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    SPOT = "spot"
    LINEAR = "linear"
    INVERSE = "inverse"
    OPTION = "option"
