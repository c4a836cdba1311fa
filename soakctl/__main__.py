"""``python -m soakctl`` runs the CLI."""

from soakctl.cli.main import main

main()
