"""``python -m chatkeeper`` runs the command line."""

from chatkeeper.cli.app import main

main()
