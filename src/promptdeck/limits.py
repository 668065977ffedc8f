"""The bounds, used by the wire schemas and the core alike. Documented in docs/api.md."""

PROMPT_NAME_MAX = 128
PROMPT_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
VERSION_NAME_MAX = 128
DESCRIPTION_MAX = 10_000
CONTENT_MAX = 1_000_000  # characters of prompt text
MODEL_CONFIG_MAX_BYTES = 100_000  # JSON-encoded
TAG_MAX = 64
TAGS_MAX = 32
ACTOR_MAX = 128
IDEMPOTENCY_KEY_MAX = 255
PAGE_LIMIT_DEFAULT = 50
PAGE_LIMIT_MAX = 200
DEFAULT_MAX_BODY_BYTES = 2_000_000
RENDER_MAX = 2_000_000  # characters of rendered text (all messages together)
INCLUDE_DEPTH_MAX = 8  # nested includes followed when rendering
INCLUDES_MAX = 64  # include tags expanded in one render
MESSAGES_MAX = 500  # messages in a chat version
# Jinja sections (opted into): loop iterations, loop-filter tests, macro calls and range()
# items counted together in one render, and the render's CPU time checked as they are.
RENDER_STEPS_MAX = 200_000
RENDER_CPU_S = 1.0

ID_MAX = 2**31 - 1  # ids are 32-bit columns (INTEGER on PostgreSQL); larger is no id

# What a stored JSON value may be (domain/values.py; docs/api.md "What a value may be").
JSON_DEPTH_MAX = 32  # containers inside containers; the top-level object is depth 1
JSON_INT_MAX = 2**53 - 1  # exact in every JSON reader (JavaScript's Number included)
JSON_FLOAT_ABS_LIMIT = 1e15  # jsonb prints numbers without exponent: 1e16 would return as int
PURGE_REASON_MAX = 1000
SEARCH_TEXT_MAX = 200  # ?q=
CURSOR_MAX = 200
DIFF_EXACT_MAX_LINES = 2_000  # per side; past it the compare page shows a coarser diff
