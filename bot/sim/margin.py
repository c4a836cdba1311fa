"""What open orders tie up: initial margin of linear orders and the coins spot orders lock.

A linear order that is not reduce-only reserves ``leavesQty x price / leverage`` of USDT (the
order IM Bybit reports as ``totalOrderIM``); a spot buy locks the quote it may spend, a spot
sell the base it may deliver (``locked``). :meth:`bot.sim.engine.Exchange.wallet` passes both
to :meth:`bot.sim.account.Account.wallet_wire` so the wallet agrees with the open orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from bot.sim.account import Account
from bot.sim.instruments import Category
from bot.sim.orders import Order

ZERO = Decimal(0)


def order_margins(orders: Iterable[Order], account: Account) -> tuple[Decimal, dict[str, Decimal]]:
    """``(order_im_usdt, locked_per_coin)`` of the given open orders."""
    order_im = ZERO
    locked: dict[str, Decimal] = {}
    for order in orders:
        inst = order.instrument
        leaves = inst.qty_dec(order.leaves_lots)
        if not leaves:
            continue
        price = inst.price_dec(order.price_ticks)
        if inst.category is Category.LINEAR:
            if not order.reduce_only:
                order_im += leaves * price / account.leverage_of(inst)
        elif order.is_buy:
            locked[inst.quote_coin] = locked.get(inst.quote_coin, ZERO) + leaves * price
        else:
            locked[inst.base_coin] = locked.get(inst.base_coin, ZERO) + leaves
    return order_im, locked
