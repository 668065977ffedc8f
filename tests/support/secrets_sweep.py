"""After the whole suite: no raw API key, password or model provider key anywhere the suite
left its databases and server logs (issue 11), and no webhook secret in its logs. Keys are
stored as a hash with a short visible prefix (``pdk_XXXXXXXX``), passwords as argon2id,
provider keys sealed under the server's secret key (issue 25): a whole key, a test password
or a test provider key in a database file (WAL included) or a log is a leak."""

from __future__ import annotations

import re
from pathlib import Path

# A whole key: the visible prefix, then the secret part (never stored, never logged).
RAW_KEY = re.compile(rb"pdk_[0-9a-f]{8}_[A-Za-z0-9_\-]{20,}")
# Every password the tests give people (tests/access, tests/ui).
PASSWORDS = (b"a long password", b"a long enough password", b"wrong password!")
SUFFIXES = (".db", ".db-wal", ".log")
# The provider keys the tests store (tests/evaluations/test_providers_api.py, tests/ui, the
# CLI's): each starts with this, so one pattern finds them all.
PROVIDER_KEY_PREFIX = b"sk-pdtest-"
PROVIDER_KEY = re.compile(re.escape(PROVIDER_KEY_PREFIX) + rb"[A-Za-z0-9_\-]{8,}")
# Webhook secrets are kept as they are in the database (signing needs them; docs/webhooks.md,
# "Secrets"), so they are swept for in server logs only: a generated one by its shape, and
# the ones the tests give (tests/webhooks).
RAW_WEBHOOK_SECRET = re.compile(rb"whsec_[A-Za-z0-9_\-]{40,}")
WEBHOOK_SECRETS = (b"a shared secret of ours", b"a rotated secret value")


def sweep(root: Path) -> tuple[int, list[str]]:
    """(files read, the leaks found as "file: what") under ``root``."""
    read, leaks = 0, []
    for path in root.rglob("*"):
        if not path.is_file() or not path.name.endswith(SUFFIXES):
            continue
        data = path.read_bytes()
        read += 1
        if RAW_KEY.search(data):
            leaks.append(f"{path}: a whole API key")
        leaks += [f"{path}: a password" for pw in PASSWORDS if pw in data]
        if PROVIDER_KEY.search(data):
            leaks.append(f"{path}: a model provider's key")
        if path.name.endswith(".log"):
            if RAW_WEBHOOK_SECRET.search(data):
                leaks.append(f"{path}: a webhook secret")
            leaks += [f"{path}: a webhook secret" for s in WEBHOOK_SECRETS if s in data]
    return read, leaks
