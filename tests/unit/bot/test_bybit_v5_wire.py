"""The shared Bybit v5 wire module: signing matches the documented vectors (docs/bybit-v5.md §2),
the simulator's verifiers accept exactly what the bot's signers produce, the recv_window rule
holds at its edges, and every retCode the simulator sends has one meaning for the bot."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.bybit_v5.limits import limit_per_s
from bot.bybit_v5.retcodes import Meaning, RetCode, meaning, message
from bot.bybit_v5.signing import (
    sign_rest,
    sign_ws_auth,
    timestamp_ok,
    verify,
    verify_rest,
    verify_ws_auth,
)

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


def test_verifiers_accept_the_vectors_and_nothing_else() -> None:
    get_sign = "942cd2fe6e0ad28979de1a46f51cc4b66bfd21663700b6d2e9d4034e5e86c003"
    query = b"category=linear&symbol=BTCUSDT"
    assert verify_rest(SECRET.encode(), TS, KEY, RECV, query, get_sign.upper())
    assert not verify_rest(SECRET.encode(), TS, KEY, RECV, query + b"&x=1", get_sign)
    assert not verify_rest(SECRET.encode(), TS, KEY, "5001", query, get_sign)
    ws_sign = "3ec41b3fad101f8091c82424901b009fdc5cb6bc3c480ee51411fc8b42533bc0"
    assert verify_ws_auth(SECRET.encode(), 1700000010000, ws_sign)
    assert verify_ws_auth(SECRET.encode(), "1700000010000", ws_sign)
    assert not verify_ws_auth(SECRET.encode(), 1700000010001, ws_sign)


@given(body=st.text(max_size=200), ts=st.integers(0, 10**13), window=st.integers(1, 10**6))
def test_signer_and_verifier_agree(body: str, ts: int, window: int) -> None:
    signature = sign_rest(SECRET, ts, KEY, window, body)
    assert verify_rest(SECRET.encode(), str(ts), KEY, str(window), body.encode(), signature)


def test_recv_window_rule_edges() -> None:
    now = 1_700_000_000_000
    assert timestamp_ok(now - 5000, 5000, now)
    assert not timestamp_ok(now - 5001, 5000, now)
    assert timestamp_ok(now + 999, 5000, now)
    assert not timestamp_ok(now + 1000, 5000, now)


def test_retcode_meanings() -> None:
    assert meaning(RetCode.TIMESTAMP_ERROR) is Meaning.CLOCK
    assert meaning(10003) is Meaning.AUTH
    assert meaning(RetCode.ORDER_NOT_EXISTS) is Meaning.ORDER_GONE
    assert meaning(RetCode.SPOT_ORDER_NOT_EXISTS) is Meaning.ORDER_GONE
    assert meaning(RetCode.DUPLICATE_LINK_ID) is Meaning.DUPLICATE_ID
    assert meaning(RetCode.TOO_MANY_VISITS) is Meaning.RATE_LIMITED
    assert meaning(RetCode.SERVER_ERROR) is Meaning.BUSY
    assert meaning(RetCode.NOTIONAL_TOO_LOW) is Meaning.REJECTED
    assert meaning(123456) is Meaning.REJECTED
    assert message(RetCode.INVALID_KEY) == "API key is invalid."


def test_rate_limits_by_category() -> None:
    assert limit_per_s("/v5/order/create", "linear") == 10
    assert limit_per_s("/v5/order/create", "spot") == 20
    assert limit_per_s("/v5/account/fee-rate", "linear") == 5
    assert limit_per_s("/v5/order/realtime", "spot") == 50
    assert limit_per_s("/v5/unknown", "linear") == 50


def test_every_wire_schema_carries_a_sample_with_its_field_names() -> None:
    import inspect
    import json
    import re
    import typing

    from bot.bybit_v5 import schemas

    shapes = [
        obj
        for _, obj in inspect.getmembers(schemas, inspect.isclass)
        if obj.__module__ == schemas.__name__
    ]
    assert len(shapes) >= 10
    for shape in shapes:
        doc = " ".join((shape.__doc__ or "").split())
        found = re.search(r"``(\{.*?\})``", doc)
        assert found, f"{shape.__name__}: no sample payload in the docstring"
        sample = json.loads(found.group(1).replace('" ', '"').replace(' "', '"'))
        fields = set(typing.get_type_hints(shape))
        unknown = {k for k in sample if k not in fields}
        extra_ok = {"contractType", "priceScale", "postOnlyMaxOrderQty", "maxMktOrderQty"}
        assert unknown <= extra_ok, f"{shape.__name__}: sample keys not in the schema: {unknown}"
