"""The package version, in a module of its own: importing it does not import the client
(``promptdeck/__init__.py`` does), so nothing that needs the version makes an import circle."""

__version__ = "0.1.0"
