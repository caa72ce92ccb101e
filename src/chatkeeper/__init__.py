"""ChatKeeper: the system of record for customer-service chat conversations."""

__version__ = "0.1.0"
