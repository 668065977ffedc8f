"""The registry's prompts over MCP (docs/mcp.md): `handlers` (written once, against a
backend), `run` (`promptdeck mcp`: stdio, or `--http`). Needs the ``mcp`` extra:
``pip install 'promptdeck[mcp]'``."""
