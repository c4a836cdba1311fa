"""REST and WS authentication: the docs/bybit-v5.md §2 vectors, the recv_window rule, error codes,
and rate-limit windows."""

from __future__ import annotations

import pytest

from bot.bybit_v5.signing import sign_rest, sign_ws_auth
from bot.sim.auth import RateLimiter, RestAuthenticator
from bot.sim.wire import ApiError

KEY, SECRET, TS = "KEYKEYKEY", "SECRETSECRETSECRET", 1700000000000
GET_QUERY = "category=linear&symbol=BTCUSDT"
GET_SIGN = "942cd2fe6e0ad28979de1a46f51cc4b66bfd21663700b6d2e9d4034e5e86c003"
POST_BODY = (
    '{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", '
    '"qty": "0.001", "price": "30000", "timeInForce": "PostOnly", "orderLinkId": "mm-1"}'
)
POST_SIGN = "185b80173b0c5eb186cd445d1db9d197399d7a0159980d6750dd4dabe7482d38"
WS_SIGN = "3ec41b3fad101f8091c82424901b009fdc5cb6bc3c480ee51411fc8b42533bc0"


def headers(sign: str, ts: int = TS, key: str = KEY, recv: str = "5000") -> dict[str, str]:
    return {
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-SIGN": sign,
        "X-BAPI-RECV-WINDOW": recv,
    }


@pytest.fixture
def auth() -> RestAuthenticator:
    return RestAuthenticator({KEY: SECRET})


def test_documented_vectors(auth: RestAuthenticator) -> None:
    assert sign_rest(SECRET, TS, KEY, 5000, GET_QUERY) == GET_SIGN
    assert sign_rest(SECRET, TS, KEY, 5000, POST_BODY) == POST_SIGN
    assert sign_ws_auth(SECRET, 1700000010000) == WS_SIGN
    assert auth.verify(headers(GET_SIGN), GET_QUERY.encode(), TS + 10) == KEY
    assert auth.verify(headers(POST_SIGN.upper()), POST_BODY.encode(), TS) == KEY
    assert auth.verify_ws([KEY, 1700000010000, WS_SIGN], TS) == KEY


def code_of(auth: RestAuthenticator, hdrs: dict[str, str], payload: bytes, now: int) -> int:
    with pytest.raises(ApiError) as err:
        auth.verify(hdrs, payload, now)
    return err.value.code


def test_error_codes(auth: RestAuthenticator) -> None:
    body = POST_BODY.encode()
    assert code_of(auth, headers(POST_SIGN, key="OTHER"), body, TS) == 10003
    assert code_of(auth, headers(POST_SIGN), body.replace(b"30000", b"30001"), TS) == 10004
    assert code_of(auth, headers(POST_SIGN), body, TS + 5001) == 10002  # too old
    assert code_of(auth, headers(POST_SIGN), body, TS - 1000) == 10002  # from the future
    assert code_of(auth, {"X-BAPI-API-KEY": KEY}, body, TS) == 10001
    # server_time - recv_window <= ts < server_time + 1000
    assert auth.verify(headers(POST_SIGN), body, TS + 5000) == KEY
    assert auth.verify(headers(POST_SIGN), body, TS - 999) == KEY


def test_sign_error_masks_the_key(auth: RestAuthenticator) -> None:
    with pytest.raises(ApiError) as err:
        auth.verify(headers("00" * 32), b"{}", TS)
    assert KEY not in err.value.message and "origin_string[" in err.value.message


def test_ws_auth_rules(auth: RestAuthenticator) -> None:
    with pytest.raises(ValueError, match="expired"):
        auth.verify_ws([KEY, 1700000010000, WS_SIGN], 1700000010000)
    with pytest.raises(ValueError, match="signature"):
        auth.verify_ws([KEY, 1700000010000, "ab" * 32], TS)
    with pytest.raises(ValueError):
        auth.verify_ws(["nobody", 1700000010000, WS_SIGN], TS)
    with pytest.raises(ValueError):
        auth.verify_ws("not a list", TS)


def test_rate_limiter_windows() -> None:
    limiter = RateLimiter(enforce=True)
    results = [limiter.hit("u", "/v5/order/create", "linear", 1000 + i) for i in range(11)]
    assert [r[3] for r in results] == [True] * 10 + [False]
    assert results[0][:2] == (10, 9)
    assert results[-1][2] == 2000  # reset timestamp of the exceeded window
    assert limiter.hit("u", "/v5/order/create", "linear", 2000)[3] is True
    assert limiter.hit("u", "/v5/order/create", "spot", 1500)[0] == 20
