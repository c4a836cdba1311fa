"""Venues: one package per exchange behind :class:`~bot.venues.base.ExchangeConnector`.

A venue package converts its wire protocol to the domain types of :mod:`bot.domain` and its
failures to :mod:`bot.errors`; the strategy, order manager, ledger and runner never see a wire
message. :mod:`bot.venues.registry` lists the venues the bot can build by name.
"""
