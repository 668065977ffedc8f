"""The service operations. One public method per operation, one transaction each."""

from promptdeck.core.registry import Registry

__all__ = ["Registry"]
