"""The server's secret keys, which seal the provider keys stored in the database
(domain/sealing.py): ``PROMPTDECK_SECRET_KEY``, else a key file (``PROMPTDECK_SECRET_KEY_FILE``;
on SQLite by default the database's file name with ``.key`` appended), created with one new
key and mode 0600 the first time a provider key is stored. The file stays out of the database
on purpose: a copy of the database (a backup, an export) holds sealed keys only."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from promptdeck.config import Settings
from promptdeck.domain.sealing import Keyring, new_key
from promptdeck.errors import ProviderKeyUnusable

KEY_FILE_MAX = 64_000


def key_file(settings: Settings) -> Path | None:
    """Where the keys are kept when the setting does not give them; None: nowhere."""
    if settings.secret_key_file:
        return Path(settings.secret_key_file)
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.key")


def read_or_create(path: Path) -> list[str]:
    """The file's keys; a file that is not there is made with one new key, readable by this
    user alone. It is written whole aside, then linked into place (which fails when another
    process linked first), so nobody reads a half-written file and racers agree on one key."""
    if not path.exists():
        aside = path.with_name(f".{path.name}.{os.getpid()}.new")
        try:
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(new_key() + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
        except OSError as exc:
            raise ProviderKeyUnusable(
                f"the secret key file {path} cannot be created ({exc.strerror})"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(aside)
    try:
        with path.open("rb") as found:
            text = found.read(KEY_FILE_MAX).decode("ascii")
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not ASCII"
        raise ProviderKeyUnusable(f"the secret key file {path} cannot be read ({reason})") from None
    keys = [line.strip() for line in text.splitlines() if line.strip()]
    if not keys:
        raise ProviderKeyUnusable(f"the secret key file {path} holds no key")
    return keys


def keyring_of(settings: Settings) -> Keyring:
    """The server's keyring; its keys are read on first use."""
    configured = settings.secret_key

    def load() -> list[str]:
        if configured is not None:
            return [k.strip() for k in configured.get_secret_value().split(",") if k.strip()]
        path = key_file(settings)
        if path is None:
            raise ProviderKeyUnusable(
                "this server has no secret key to seal provider keys with: set "
                "PROMPTDECK_SECRET_KEY or PROMPTDECK_SECRET_KEY_FILE, or name an environment "
                "variable that holds the key (api_key_env)",
                field="api_key",
            )
        return read_or_create(path)

    return Keyring(load)
