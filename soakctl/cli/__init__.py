"""The thin CLI: parse flags, build config, call the core, render, map errors to exit codes.

One module per command (``run_cmd``, ``analyze_cmd``, ...), registered in ``main``. Heavy
imports (pandas, psutil, aiohttp) happen inside command functions so ``--help`` stays fast.
"""
