"""The registry's prompts over MCP (docs/mcp.md): `handlers` (written once), `stdio`
(`promptdeck mcp`). Needs the ``mcp`` extra: ``pip install 'promptdeck[mcp]'``."""
