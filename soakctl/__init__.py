"""soakctl: will this process survive 24 hours?

The package owns the CLI (``soakctl.cli``), the supervisor, the process-tree sampler, log
rotation, the leak analysis and the report. Core modules return data and never import rich;
only ``soakctl.cli`` renders.
"""

__version__ = "0.1.0"
