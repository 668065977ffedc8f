"""What a stored value may be, so that everything stored reads back, lists, exports and
imports unchanged on SQLite and PostgreSQL alike (docs/api.md, "What a value may be").

Pure functions: each returns the value to store or raises ``ValueError`` with a message
that says what is wrong (the wire schemas turn it into a 422 naming the field). They are
called once, before any transaction, by the wire schemas that the API, the UI, the CLI
(through the API) and import all go through.

- Text: valid Unicode scalar values only (no lone surrogates, which UTF-8 cannot encode)
  and no NUL (PostgreSQL refuses it in ``text`` and ``jsonb``; SQLite would keep it, so it
  is refused on both).
- Names (version names, tags): text as above, NFC-normalized (two names that look the same
  are the same name), without surrounding spaces and without control or invisible format
  characters (zero-width space, bidi overrides…).
- JSON (``model_config``): objects, arrays, strings, booleans, null and numbers, nested at
  most ``JSON_DEPTH_MAX`` deep. Integers within ±(2**53 - 1) (exact in every JSON reader);
  floats finite, not -0.0, and with |x| < 1e15 (PostgreSQL's ``jsonb`` keeps numbers as
  decimals and prints them without an exponent, so a larger float would come back as an
  integer, and -0.0 as 0).

``parse_model_config`` reads a model config typed by a person as JSON text (the UI's box, the
CLI's ``--model-config``) and raises `InvalidInput` naming ``model_config``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from promptdeck import limits
from promptdeck.errors import InvalidInput

_CANONICAL_ID = re.compile(r"(?:0|[1-9][0-9]{0,9})")
# Cc: controls; Cf: invisible format characters; Zl/Zp: line and paragraph separators;
# Co/Cn: private use and unassigned code points (they may look like anything later).
_REFUSED_IN_NAMES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"})


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_text(value: str) -> str:
    """Any text: valid Unicode scalar values, no NUL. Returned unchanged."""
    if "\x00" in value:
        raise ValueError("text cannot contain NUL (U+0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        raise ValueError(f"text contains {_describe(bad)}, a lone surrogate (not Unicode)") from exc
    return value


def is_text(value: str) -> bool:
    """True when ``value`` passes ``check_text`` (a name that cannot be stored names nothing)."""
    try:
        check_text(value)
    except ValueError:
        return False
    return True


def check_name(value: str) -> str:
    """A version name or a tag: text, NFC-normalized, no surrounding spaces, nothing
    invisible. Returns the normalized name."""
    check_text(value)
    value = unicodedata.normalize("NFC", value)
    if value != value.strip():
        raise ValueError("names cannot start or end with spaces")
    for char in value:
        if unicodedata.category(char) in _REFUSED_IN_NAMES:
            raise ValueError(
                f"names cannot contain {_describe(char)} (a control, invisible or unassigned "
                "character)"
            )
    return value


def lookup_name(value: str) -> str:
    """A name to look up (``?name=``): the same NFC form stored names have."""
    return unicodedata.normalize("NFC", check_text(value))


def check_number(value: int | float) -> int | float:
    """An integer in ±(2**53 - 1), or a finite float other than -0.0 with |x| < 1e15."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > limits.JSON_INT_MAX:
            raise ValueError(f"integers must be within ±{limits.JSON_INT_MAX} (2**53 - 1)")
        return value
    if not math.isfinite(value):
        raise ValueError("numbers must be finite (no NaN or Infinity)")
    if abs(value) >= limits.JSON_FLOAT_ABS_LIMIT:
        raise ValueError(
            f"non-integer numbers must be below {limits.JSON_FLOAT_ABS_LIMIT:.0e} in size "
            "(larger ones would not come back as written)"
        )
    if value == 0 and math.copysign(1.0, value) < 0:
        raise ValueError("-0.0 cannot be stored exactly (it would come back as 0.0)")
    return value


def check_json(value: Any, *, depth: int = 1) -> Any:
    """A JSON value as above; ``depth`` counts the containers around it (1 at the top)."""
    if value is None or isinstance(value, bool | str | int | float):
        if isinstance(value, str):
            return check_text(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return check_number(value)
        return value
    if isinstance(value, dict | list):
        if depth > limits.JSON_DEPTH_MAX:
            raise ValueError(f"JSON is nested more than {limits.JSON_DEPTH_MAX} levels deep")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ValueError("JSON object keys must be strings")
                check_text(key)
                check_json(item, depth=depth + 1)
        else:
            for item in value:
                check_json(item, depth=depth + 1)
        return value
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def json_size(value: Any) -> int:
    """UTF-8 bytes of the value's canonical JSON encoding (the size that is bounded)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8"))


def check_model_config(value: dict[str, Any]) -> dict[str, Any]:
    """A model config: a JSON object as above, at most ``MODEL_CONFIG_MAX_BYTES``."""
    check_json(value)
    if json_size(value) > limits.MODEL_CONFIG_MAX_BYTES:
        raise ValueError(f"model_config is larger than {limits.MODEL_CONFIG_MAX_BYTES} bytes")
    return value


def _json_object(text: str, field: str, like: str) -> dict[str, Any]:
    """JSON text typed in a form that must hold an object (``like`` shows one)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", field=field
        ) from exc
    except RecursionError as exc:  # thousands of nested brackets: refused like any deep JSON
        raise InvalidInput("JSON nested too deep", field=field) from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"must be a JSON object, like {like}", field=field)
    return value


def parse_model_config(text: str) -> dict[str, Any]:
    """The model config typed as JSON text; blank text is an empty config. What it may hold
    is checked with the rest of the request (``check_model_config``)."""
    return _json_object(text, "model_config", "{}") if text.strip() else {}


def parse_contract(text: str) -> dict[str, Any] | None:
    """A contract typed as JSON text (the web editor); blank text is none. What it may hold
    is checked when the version is created (``contracts.check_contract``)."""
    if not text.strip():
        return None
    return _json_object(text, "contract", '{"variables": {…}, "tools": […]}')


def parse_id(segment: str) -> int | None:
    """The id a path segment spells, or None when it is not an id (then it is a name).

    Only a canonical ASCII decimal up to ``ID_MAX`` is an id: ``007``, ``+7``, ``²``,
    other scripts' digits or ``7 `` are not, so one resource has one spelling and no
    spelling reaches the database as an out-of-range integer."""
    if _CANONICAL_ID.fullmatch(segment) is None:
        return None
    number = int(segment)
    return number if number <= limits.ID_MAX else None


def decimal_at_most(most: int) -> str:
    """A regular expression (no anchors, no look-around: JSON Schema's dialect and Python's
    alike) for the canonical decimals 1 to ``most``: one rule for the server and the OpenAPI
    document, where a digit count alone would allow numbers past ``most``."""
    digits = str(most)
    shorter = f"[1-9][0-9]{{0,{len(digits) - 2}}}" if len(digits) > 1 else None
    branches = [shorter] if shorter else []
    for i, char in enumerate(digits):
        low, high = (1 if i == 0 else 0), int(char) - 1
        if high >= low:
            rest = len(digits) - i - 1
            digit = str(low) if low == high else f"[{low}-{high}]"
            branches.append(digits[:i] + digit + (f"[0-9]{{{rest}}}" if rest else ""))
    branches.append(digits)
    return "(?:" + "|".join(branches) + ")"


# A required text that is more than spaces (a purge's or a deploy request's reason: both are
# stripped before they are checked), as the OpenAPI document's `pattern`.
NOT_BLANK_REGEX = r"\S"

# An id as a path segment or inside a cursor spells (``parse_id``): 0 to ID_MAX.
ID_REGEX = f"(?:0|{decimal_at_most(limits.ID_MAX)})"
