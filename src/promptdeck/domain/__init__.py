"""Pure rules: names, default version names, hashes, cursors. No I/O."""
