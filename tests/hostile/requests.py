"""Hypothesis strategies for hostile requests, beyond what the OpenAPI schema says: path
spellings, cursors, headers, encodings, nesting, Unicode, UI form posts, import files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

# Names the generator also creates, so that many requests reach a real prompt.
NAMES = ("alpha", "beta.v2", "gamma_3")


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PATCH", "DELETE", "PUT")


weird_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "a\x00b",
            "\u200b",
            "e\u0301",  # e + combining acute: NFC is é
            "\u00e9",
            "\u202eevil",
            "\ufeff",
            "x" * 300,
            "..",
            "%00",
            "%2F",
            "\n",
            "💥",
            "\uff46\uff55\uff4c\uff4c",  # fullwidth "full"
        ]
    ),
)

# Ways to spell (or misspell) a prompt or version id, and names.
segment = st.one_of(
    st.sampled_from(NAMES),
    st.integers(min_value=-3, max_value=12).map(str),
    st.sampled_from(
        [
            "007",
            "+1",
            "1.0",
            "1e3",
            "0x1",
            "1_0",
            " 1",
            "²",
            "\u0661",  # Arabic-Indic one
            "\uff11",  # fullwidth one
            "99999999999999999999",
            str(2**63),
            str(2**31),
            "-0",
            "ALPHA",
            "Alpha",
            "alpha ",
            "al%00pha",
            "%ED%A0%80",
            "%FF",
            "a" * 129,
            "a" * 2000,
        ]
    ),
    st.text(min_size=1, max_size=12).filter(lambda s: "/" not in s and "?" not in s),
)


# Cursors are readable (domain/rules.py): k:<id>, t:<micros>:<id>; near misses of both.
cursor = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(lambda n: f"k:{n}"),
    st.tuples(st.integers(-(2**70), 2**70), st.integers(-(2**70), 2**70)).map(
        lambda t: f"t:{t[0]}:{t[1]}"
    ),
    st.sampled_from(["k:", "k:007", "k: 1", "k:1.5", "x:1", "k:\u0661", "k:1\x00", "t:-0:1"]),
)

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)

# JSON texts Python's json.dumps would not write: NaN, Infinity, lone surrogates, NUL,
# duplicate keys, deep nesting, numbers past every range.
raw_json_values = st.sampled_from(
    [
        b"NaN",
        b"-Infinity",
        b"1e400",
        b"-0.0",
        b"1e16",
        b"123456789012345678901234567890",
        b'"\\ud800"',
        b'"\\udfff\\ud800"',
        b'"a\\u0000b"',
        b'{"\\u0000": 1}',
        b'{"\\ud800": 1}',
        b'{"a": 1, "a": 2}',
        b"[" * 40 + b"]" * 40,
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 200 + b"1" + b"}" * 200,
        b"0.1",
        b"1.0",
        b"2.5e-8",
    ]
)

FIELDS = {
    "/prompts": (
        "name",
        "description",
        "tags",
        "content",
        "model_config",
        "version_name",
        "version_description",
        "max_versions",
    ),
    "patch": ("description", "tags", "content", "model_config", "max_versions"),
    "version": ("version_name", "description", "content", "model_config", "activate"),
}


@st.composite
def json_body(draw: st.DrawFn, fields: tuple[str, ...]) -> bytes:
    """A mostly valid body with hostile values, or raw hostile JSON text."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=40))
    if kind == 1:
        return draw(raw_json_values)
    body: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)):
        if name == "name":
            body[name] = draw(st.one_of(segment, st.sampled_from(NAMES)))
        elif name == "tags":
            body[name] = draw(st.lists(weird_text, max_size=4))
        elif name == "model_config":
            body[name] = draw(st.dictionaries(st.text(max_size=5), json_value, max_size=3))
        elif name in ("max_versions",):
            body[name] = draw(st.one_of(st.none(), st.integers(-5, 2**40)))
        elif name == "activate":
            body[name] = draw(st.one_of(st.booleans(), st.sampled_from(["yes", 1, None])))
        else:
            body[name] = draw(weird_text)
    text = json.dumps(body).encode()
    if kind == 2 and body:  # splice a raw hostile value into the first field
        first = next(iter(body))
        prefix = json.dumps({first: None}).encode()[:-5]
        text = prefix + draw(raw_json_values) + b"}"
    return text


headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            [
                "application/json",
                "application/json; charset=latin-1",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/problem+json",
                "",
            ]
        ),
        "If-Match": st.one_of(st.sampled_from(['"1-1"', "*", 'W/"1-2"', '"a1"', ""]), weird_text),
        "Idempotency-Key": st.sampled_from(["k1", "k2", "x" * 300, " ", "é"]),
        "X-Actor": st.sampled_from(["alice", "x" * 200, "é", " ", "\t"]),
        "If-None-Match": st.sampled_from(['"a1"', "*", "W/x", '"a99999999999"']),
        "Content-Encoding": st.sampled_from(["gzip", "br", "identity"]),
        "Accept": st.sampled_from(["text/html", "*/*", "application/xml"]),
    },
)


def _query(params: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items()}


query = st.builds(
    _query,
    st.fixed_dictionaries(
        {},
        optional={
            "limit": st.one_of(st.integers(-2, 300), st.sampled_from(["", "1e2", "٣", "5 "])),
            "cursor": cursor,
            "q": weird_text,
            "tag": weird_text,
            "name": weird_text,
            "deleted": st.sampled_from(["true", "false", "1", "yes", "", "TRUE"]),
            "archived": st.sampled_from(["true", "false", "maybe"]),
            "reason": weird_text,
            "a": st.one_of(segment, st.sampled_from(["active", "prev"])),
            "b": st.one_of(segment, st.sampled_from(["active", "prev"])),
            "view": st.sampled_from(["split", "unified", "x"]),
            "v": segment,
            "label": st.sampled_from(["active", "production", "x y", ""]),
            "done": weird_text,
            "next": st.sampled_from(["/ui/", "//evil.example/", "https://evil.example/"]),
            "events": st.sampled_from(["true", "1", "x"]),
            "kind": weird_text,
            "actor": weird_text,
            "prompt": weird_text,
        },
    ),
)

API_PATHS = (
    ("GET", "/prompts"),
    ("POST", "/prompts"),
    ("GET", "/prompts/{p}"),
    ("PATCH", "/prompts/{p}"),
    ("DELETE", "/prompts/{p}"),
    ("POST", "/prompts/{p}/restore"),
    ("POST", "/prompts/{p}/purge"),
    ("GET", "/prompts/{p}/events"),
    ("POST", "/prompts/{p}/versions"),
    ("GET", "/prompts/{p}/versions"),
    ("GET", "/prompts/{p}/versions/{v}"),
    ("POST", "/prompts/{p}/versions/{v}/rollback"),
    ("POST", "/prompts/{p}/versions/{v}/archive"),
    ("POST", "/prompts/{p}/versions/{v}/restore"),
    ("DELETE", "/prompts/{p}/versions/{v}"),
    ("GET", "/prompts/{p}/storage"),
    ("GET", "/prompts/{p}/active"),
    ("GET", "/prompts/{p}/export"),
    ("GET", "/export"),
    ("GET", "/healthz"),
    ("GET", "/ui/"),
    ("GET", "/ui/prompts/{p}"),
    ("GET", "/ui/prompts/{p}/versions"),
    ("GET", "/ui/prompts/{p}/versions/{v}"),
    ("GET", "/ui/prompts/{p}/compare"),
    ("GET", "/ui/prompts/{p}/versions/{v}/rollback"),
    ("GET", "/ui/prompts/{p}/delete"),
    ("GET", "/ui/deleted/{p}"),
    ("GET", "/ui/prompts/{p}/labels"),
    ("GET", "/ui/prompts/{p}/promote"),
    ("GET", "/ui/prompts/{p}/deploy-requests/{v}"),
    ("GET", "/ui/prompts/{p}/impact"),
    ("GET", "/ui/prompts/{p}/chat"),
    ("GET", "/ui/webhooks"),
    ("GET", "/ui/webhooks/{v}"),
    ("GET", "/ui/audit"),
    ("GET", "/ui/sign-in"),
    ("GET", "/ui/new"),
)

UI_FORMS = {
    "/ui/new": (
        "name",
        "description",
        "tags",
        "content",
        "model_config",
        "contract",
        "version_name",
        "version_description",
        "actor",
    ),
    "/ui/prompts/{p}": (
        "action",
        "etag",
        "content",
        "model_config",
        "contract",
        "version_name",
        "description",
        "actor",
    ),
    "/ui/prompts/{p}/versions/{v}/rollback": ("etag", "actor"),
    "/ui/prompts/{p}/delete": ("etag", "actor"),
    "/ui/prompts/{p}/restore": ("actor",),
    "/ui/prompts/{p}/labels/{v}": ("version_id", "etag", "reason", "actor", "accept_breaking"),
    "/ui/prompts/{p}/deploy-requests": ("label", "version_id", "reason", "actor"),
    "/ui/prompts/{p}/deploy-requests/{v}/approve": ("reason", "actor", "accept_breaking"),
    "/ui/prompts/{p}/deploy-requests/{v}/reject": ("reason", "actor"),
    "/ui/prompts/{p}/deploy-requests/{v}/cancel": ("reason", "actor"),
    "/ui/prompts/{p}/deploy-requests/{v}/{v}": ("reason", "actor"),
    "/ui/prompts/{p}/alerts": ("label", "min_success", "window_minutes", "min_count", "actor"),
    "/ui/prompts/{p}/alerts/{v}/remove": ("actor",),
    "/ui/prompts/{p}/chat": ("content", "model_config", "contract", "actor"),
    "/ui/webhooks": ("url", "events", "prompt", "description", "secret"),
    "/ui/webhooks/{v}/test": (),
    "/ui/webhooks/{v}/enabled": ("enabled",),
    "/ui/webhooks/{v}/delete": (),
    "/ui/sign-in": ("name", "password", "csrf", "next"),
    "/ui/sign-out": (),
}

# Values that reach further than any text: numbers, labels and URLs a form expects.
FORM_VALUES = {
    "version_id": st.integers(-2, 12).map(str),
    "label": st.sampled_from(["active", "production", "staging", "no-such", "ACTIVE", ""]),
    "min_success": st.sampled_from(["0.9", "1", "0", "2", "-0.1", "nan", "inf", "1e999", "0x1"]),
    "window_minutes": st.sampled_from(["15", "0", "-1", "99999999999999999999", "1.5"]),
    "min_count": st.sampled_from(["20", "0", "1e3", "99999999999999999999"]),
    "url": st.sampled_from(["http://127.0.0.1:9/x", "ftp://x", "http://", "javascript:1"]),
    "events": st.sampled_from(["*", "version.created", "label.moved,nope", ""]),
    "enabled": st.sampled_from(["true", "false", "on", "", "2"]),
    "next": st.sampled_from(["/ui/", "//evil.example/", "https://evil.example/", "/ui/\\x"]),
}


def _fill(template: str, p: str, v: str) -> str:
    from urllib.parse import quote

    return template.replace("{p}", quote(p, safe="%")).replace("{v}", quote(v, safe="%"))


@st.composite
def api_request(draw: st.DrawFn) -> Request:
    method, template = draw(st.sampled_from(API_PATHS))
    method = draw(
        st.one_of(
            st.just(method), st.sampled_from(["PUT", "HEAD", "OPTIONS", "PATCH", "DELETE", "GET"])
        )
    )
    path = _fill(template, draw(segment), draw(segment))
    content = None
    if method in ("POST", "PATCH", "PUT", "DELETE") and draw(st.booleans()):
        fields = (
            FIELDS["/prompts"]
            if template == "/prompts"
            else FIELDS["patch"]
            if method == "PATCH"
            else FIELDS["version"]
        )
        content = draw(json_body(fields))
    hdrs = draw(headers)
    if content is not None:
        hdrs.setdefault("Content-Type", "application/json")
    return Request(method, path, draw(query), hdrs, content)


@st.composite
def ui_form(draw: st.DrawFn) -> Request:
    from urllib.parse import urlencode

    template, fields = draw(st.sampled_from(sorted(UI_FORMS.items())))
    form: dict[str, str] = {}
    chosen = draw(st.lists(st.sampled_from(fields), max_size=5, unique=True)) if fields else []
    for name in chosen:
        if name == "model_config":
            form[name] = draw(
                st.one_of(
                    st.builds(json.dumps, st.dictionaries(st.text(max_size=5), json_value)),
                    raw_json_values.map(lambda b: b.decode()),
                    weird_text,
                )
            )
        elif name == "name":
            form[name] = draw(st.one_of(segment, st.sampled_from(NAMES)))
        elif name in FORM_VALUES:
            form[name] = draw(st.one_of(FORM_VALUES[name], weird_text))
        else:
            form[name] = draw(weird_text)
    body = urlencode(form, encoding="utf-8", errors="surrogatepass").encode()
    path = _fill(template, draw(segment), draw(segment))
    return Request("POST", path, {}, {"Content-Type": "application/x-www-form-urlencoded"}, body)


def _mutate(record: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """One hostile change to an exported record."""
    record = json.loads(json.dumps(record))
    record["name"] = draw(st.sampled_from(["imp-a", "imp-b", "imp-c"]))
    where = draw(st.sampled_from(["prompt", "version", "event", "active", "numbers", "extra"]))
    if where == "prompt":
        key = draw(st.sampled_from(sorted(record)))
        record[key] = draw(st.one_of(json_value, weird_text, st.just(None)))
    elif where == "version" and record["versions"]:
        version = draw(st.sampled_from(record["versions"]))
        key = draw(st.sampled_from(sorted(version)))
        version[key] = draw(
            st.one_of(
                json_value,
                weird_text,
                st.just(None),
                st.sampled_from(["2026-01-01T00:00:00", "9999-12-31T23:59:59Z", "0001-01-01"]),
            )
        )
    elif where == "event" and record["events"]:
        event = draw(st.sampled_from(record["events"]))
        key = draw(st.sampled_from(sorted(event)))
        event[key] = draw(st.one_of(json_value, weird_text, st.integers(-5, 99)))
    elif where == "active":
        record["active_version_number"] = draw(st.integers(-1, 5))
    elif where == "numbers" and record["versions"]:
        record["versions"][0]["number"] = draw(st.integers(-1, 2**40))
    else:
        record[draw(st.text(max_size=8))] = draw(json_value)
    return record


@st.composite
def import_file(draw: st.DrawFn, exported: dict[str, Any]) -> Request:
    """POST /prompts/import with an exported record changed in one hostile way."""
    if draw(st.integers(0, 4)) == 0:
        content = draw(raw_json_values)
    else:
        content = json.dumps(_mutate(exported, draw)).encode()
    return Request("POST", "/prompts/import", {}, {"Content-Type": "application/json"}, content)
