"""promptdeck: a self-hosted prompt registry."""

__version__ = "0.1.0"
