"""The ``chatkeeper`` command: one module per command, each a thin call into a service."""
