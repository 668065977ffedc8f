"""Provider keys sealed under the server's secret keys (domain/sealing.py) and the key file
(promptdeck/secret_key.py): what is sealed is not the key, opens only with a key that sealed
it, survives a rotation, and the file is made once, for its owner alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from promptdeck.config import Settings
from promptdeck.domain.providers import Secret
from promptdeck.domain.sealing import NO_KEYS, Keyring, new_key
from promptdeck.errors import ProviderKeyUnusable
from promptdeck.secret_key import key_file, keyring_of, read_or_create

KEY = Secret("sk-pdtest-sealing-0001")


def test_a_sealed_key_is_not_the_key_and_opens_back_to_it() -> None:
    ring = Keyring.of([new_key()])
    sealed = ring.seal(KEY)
    assert KEY.reveal() not in sealed
    assert ring.seal(KEY) != sealed  # a fresh IV each time
    assert ring.open(sealed, "local").reveal() == KEY.reveal()


def test_a_new_key_put_first_still_opens_what_the_old_one_sealed() -> None:
    old, new = new_key(), new_key()
    sealed = Keyring.of([old]).seal(KEY)
    assert Keyring.of([new, old]).open(sealed, "local").reveal() == KEY.reveal()
    with pytest.raises(ProviderKeyUnusable, match="sealed with another secret key"):
        Keyring.of([new]).open(sealed, "local")


def test_no_secret_key_refuses_to_seal_and_says_why() -> None:
    with pytest.raises(ProviderKeyUnusable, match="no secret key"):
        NO_KEYS.seal(KEY)
    with pytest.raises(ProviderKeyUnusable, match="no secret key"):
        keyring_of(Settings(database_url="postgresql+psycopg://u@h/db")).seal(KEY)


def test_a_malformed_secret_key_stops_the_settings_without_quoting_it() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(secret_key="not-a-fernet-key-at-all")
    (error,) = refused.value.errors()
    assert error["loc"] == ("secret_key",) and "44 characters" in error["msg"]
    assert "not-a-fernet-key-at-all" not in error["msg"]


def test_the_key_file_is_made_once_with_mode_0600_and_read_back_alike(tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    first = read_or_create(path)
    assert len(first) == 1 and os.stat(path).st_mode & 0o777 == 0o600
    assert read_or_create(path) == first
    assert list(tmp_path.iterdir()) == [path]  # nothing left aside


def test_the_key_file_defaults_to_beside_a_sqlite_database_and_to_none_elsewhere() -> None:
    assert key_file(Settings(database_url="sqlite:////var/lib/pd/p.db")) == Path(
        "/var/lib/pd/p.db.key"
    )
    assert key_file(Settings(database_url="sqlite:///:memory:")) is None
    assert key_file(Settings(database_url="postgresql+psycopg://u@h/db")) is None
    given = Settings(database_url="postgresql+psycopg://u@h/db", secret_key_file="/k")
    assert key_file(given) == Path("/k")


def test_an_empty_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.key"
    path.write_text("\n")
    with pytest.raises(ProviderKeyUnusable, match="holds no key"):
        read_or_create(path)


def test_a_keyring_never_shows_its_keys_in_its_repr() -> None:
    key = new_key()
    assert key not in repr(Keyring.of([key])) and "sk-pdtest" not in repr(KEY)
