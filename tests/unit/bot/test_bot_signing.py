"""Signing matches the vectors in docs/bybit-v5.md §2 (computed with Python's hmac)."""

from __future__ import annotations

from bot.signing import sign_rest, sign_ws_auth, verify

SECRET, KEY, TS, RECV = "SECRETSECRETSECRET", "KEYKEYKEY", "1700000000000", "5000"
POST_BODY = (
    '{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", '
    '"qty": "0.001", "price": "30000", "timeInForce": "PostOnly", "orderLinkId": "mm-1"}'
)


def test_get_vector() -> None:
    sign = sign_rest(SECRET, TS, KEY, RECV, "category=linear&symbol=BTCUSDT")
    assert sign == "942cd2fe6e0ad28979de1a46f51cc4b66bfd21663700b6d2e9d4034e5e86c003"


def test_post_vector() -> None:
    sign = sign_rest(SECRET, TS, KEY, RECV, POST_BODY)
    assert sign == "185b80173b0c5eb186cd445d1db9d197399d7a0159980d6750dd4dabe7482d38"


def test_ws_auth_vector() -> None:
    sign = sign_ws_auth(SECRET, 1700000010000)
    assert sign == "3ec41b3fad101f8091c82424901b009fdc5cb6bc3c480ee51411fc8b42533bc0"
    assert verify(SECRET, "GET/realtime1700000010000", sign.upper())
    assert not verify(SECRET, "GET/realtime1700000010001", sign)
