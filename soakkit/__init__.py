"""Small helpers shared by soakctl, checks and the bot, with no dependency on any of them.

soakctl must not import the bot and the bot must not import soakctl or checks; what both need
lives here: :mod:`soakkit.atomic` (files a reader never sees half-written) and
:mod:`soakkit.config_errors` (one line per invalid config file). This package imports nothing
from soakctl, checks or bot (a test enforces it).
"""
