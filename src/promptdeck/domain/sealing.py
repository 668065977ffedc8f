"""Provider keys sealed at rest: Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``)
under the server's secret keys. The first key seals; every key opens (MultiFernet), so a new
key put first leaves the keys sealed under the old one readable until they are stored again.

The keys are loaded when a key is first sealed or opened (``load``: promptdeck/secret_key.py
reads the setting or the key file), so a server that stores no provider key needs none."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from promptdeck.domain.providers import Secret
from promptdeck.errors import ProviderKeyUnusable

SEALED_MAX = 8192  # a 4,096-character key sealed is about 5,600 characters of base64


def new_key() -> str:
    """A fresh secret key (44 characters of URL-safe base64: 32 random bytes)."""
    return Fernet.generate_key().decode("ascii")


def check_key(text: str) -> Fernet:
    """A secret key as Fernet takes it; the message never quotes it."""
    try:
        return Fernet(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ProviderKeyUnusable(
            "a secret key is 32 bytes in URL-safe base64 (44 characters), as "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'` prints"
        ) from None


class Keyring:
    """Seals and opens provider keys. ``load`` gives the secret keys, newest first, or raises
    ``ProviderKeyUnusable`` (none configured); it is called once, on first use."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        self._fernet: MultiFernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, keys: Sequence[str]) -> Keyring:
        return cls(lambda: keys)

    def _keys(self) -> MultiFernet:
        with self._lock:
            if self._fernet is None:
                keys = [check_key(k) for k in self._load()]
                if not keys:
                    raise ProviderKeyUnusable("the server has no secret key to seal keys with")
                self._fernet = MultiFernet(keys)
            return self._fernet

    def seal(self, key: Secret) -> str:
        return self._keys().encrypt(key.reveal().encode("ascii")).decode("ascii")

    def open(self, sealed: str, provider: str) -> Secret:
        try:
            return Secret(self._keys().decrypt(sealed.encode("ascii")).decode("ascii"))
        except (InvalidToken, UnicodeError):
            raise ProviderKeyUnusable(
                f"provider {provider}: its stored key was sealed with another secret key than "
                "this server's (the key file was lost, or PROMPTDECK_SECRET_KEY changed without "
                "keeping the old key after the new one); store the key again with "
                f"PUT /providers/{provider}"
            ) from None

    def __repr__(self) -> str:
        return "Keyring(***)"


NO_KEYS = Keyring(lambda: [])  # a server that was given no keys: sealing is refused
