"""WebSocket order entry, ``/v5/trade`` (docs/bybit-v5.md §7): the REST order ops over a socket.

Replies use the retCode style, not the ``success`` style of the stream sockets:
``auth`` → ``{"retCode":0,"retMsg":"OK","op":"auth","connId":...}`` (20001 when repeated, 10004
bad signature, 10003 unknown key); each request ``{"reqId","header":{"X-BAPI-TIMESTAMP",
"X-BAPI-RECV-WINDOW"},"op":"order.create","args":[{...}]}`` runs the same endpoint function
as its REST twin, shares its rate-limit budget, and answers
``{"reqId","retCode","retMsg","op","data","retExtInfo","header":{X-Bapi-Limit...},"connId"}``.
A ``reqId`` reused on the connection is refused with 20006.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from bot.bybit_v5.retcodes import RetCode
from bot.bybit_v5.signing import DEFAULT_RECV_WINDOW_MS
from bot.sim import wire
from bot.sim.auth import RestAuthenticator, check_timestamp
from bot.sim.rest import GhostReply
from bot.sim.wire import ApiError, WithExtInfo, dumps

if TYPE_CHECKING:
    from bot.sim.rest import RestApi
    from bot.sim.wsconn import WsConnection

OPS = {
    "order.create": "/v5/order/create",
    "order.amend": "/v5/order/amend",
    "order.cancel": "/v5/order/cancel",
    "order.create-batch": "/v5/order/create-batch",
    "order.amend-batch": "/v5/order/amend-batch",
    "order.cancel-batch": "/v5/order/cancel-batch",
}
NOT_AUTHORIZED: int = RetCode.INVALID_KEY
REPEAT_AUTH: int = RetCode.WS_REPEAT_AUTH
DUPLICATE_REQ_ID: int = RetCode.WS_DUPLICATE_REQ_ID
BAD_OP: int = RetCode.BAD_WS_OP
RECENT_REQ_IDS = 1000


class TradeGateway:
    """Handles every text frame of ``/v5/trade`` connections."""

    def __init__(self, rest: RestApi, auth: RestAuthenticator) -> None:
        self.rest = rest
        self.auth = auth
        self.clock = rest.exchange.clock
        self._req_ids: dict[str, deque[str]] = {}

    def forget(self, conn: WsConnection) -> None:
        self._req_ids.pop(conn.conn_id, None)

    def _send(self, conn: WsConnection, reply: dict[str, Any]) -> None:
        reply["connId"] = conn.conn_id
        conn.send(dumps(reply))

    def on_message(self, conn: WsConnection, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "ping":
            self._send(conn, {"op": "pong", "args": [str(self.clock.now_ms())]})
        elif op == "auth":
            self._auth(conn, message.get("args"))
        else:
            self._request(conn, str(op)[:50], message)

    def _auth(self, conn: WsConnection, args: object) -> None:
        if conn.api_key is not None:
            code, msg = REPEAT_AUTH, "Repeat auth"
        else:
            try:
                conn.api_key = self.auth.verify_ws(args, self.clock.now_ms())
                code, msg = 0, "OK"
            except ValueError as exc:
                text = str(exc)
                code = wire.INVALID_KEY if "key" in text else wire.SIGN_ERROR
                msg = text
        self._send(conn, {"retCode": code, "retMsg": msg, "op": "auth"})

    def _request(self, conn: WsConnection, op: str, message: dict[str, Any]) -> None:
        req_id = message.get("reqId")
        req_id = req_id if isinstance(req_id, str) and len(req_id) <= 36 else ""
        now = self.clock.now_ms()
        reply: dict[str, Any] = {"reqId": req_id, "op": op, "data": {}, "retExtInfo": {}}
        limit = (10, 9, now)
        try:
            if conn.api_key is None:
                raise ApiError(NOT_AUTHORIZED, "Request not authorized")
            path = OPS.get(op)
            if path is None:
                raise ApiError(BAD_OP, f"Invalid op: {op}")
            seen = self._req_ids.setdefault(conn.conn_id, deque(maxlen=RECENT_REQ_IDS))
            if req_id and req_id in seen:
                raise ApiError(DUPLICATE_REQ_ID, "Duplicate reqId")
            if req_id:
                seen.append(req_id)
            self._check_header(message.get("header"), now)
            args = message.get("args")
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
                raise wire.params_error("args must hold one request object")
            params = args[0]
            category = params.get("category")
            limit_value, remaining, reset_ms, allowed = self.rest.limiter.hit(
                conn.api_key, path, category if isinstance(category, str) else "", now
            )
            limit = (limit_value, remaining, reset_ms)
            if not allowed:
                raise ApiError(wire.TOO_MANY_VISITS)
            try:
                result = self.rest.routes[("POST", path)][0](params)
            except GhostReply:
                return  # accepted, and the answer never comes (ghost_order_rate)
            if isinstance(result, WithExtInfo):
                result, reply["retExtInfo"] = result.result, result.ext_info
            reply.update(retCode=0, retMsg="OK", data=result)
        except ApiError as err:
            reply.update(retCode=err.code, retMsg=err.message)
        reply["header"] = {
            "X-Bapi-Limit": str(limit[0]),
            "X-Bapi-Limit-Status": str(limit[1]),
            "X-Bapi-Limit-Reset-Timestamp": str(limit[2]),
            "Traceid": f"{now:x}{len(reply):04x}",
            "Timenow": str(self.clock.now_ms()),
        }
        self._send(conn, reply)

    @staticmethod
    def _check_header(header: object, now_ms: int) -> None:
        if not isinstance(header, dict):
            raise wire.params_error("header with X-BAPI-TIMESTAMP is required")
        window = header.get("X-BAPI-RECV-WINDOW") or str(DEFAULT_RECV_WINDOW_MS)
        check_timestamp(header.get("X-BAPI-TIMESTAMP"), window, now_ms)
