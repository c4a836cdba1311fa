"""Readiness checks run by ``soakctl verify``: one module per check, an explicit registry,
and plugins through the ``soakctl.checks`` entry-point group."""
