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
