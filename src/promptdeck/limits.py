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
# Jinja sections (opted into; docs/api.md "Templates: what Jinja may do"). Every bound is
# checked before the work or the value it bounds. Steps: loop iterations and tests, macro
# calls, range() items and items of lists built or walked one by one.
RENDER_STEPS_MAX = 200_000
RENDER_CPU_S = 1.0  # of the rendering thread's CPU, checked at every step and operation
RENDER_BUILD_MAX = 8_000_000  # characters built in one render (joined, converted, formatted…)
RENDER_INT_BITS_MAX = 8_192  # integers a template computes (2,467 digits)
RENDER_NUMBER_TEXT_MAX = 1_000  # characters of a text the int and float filters convert
JINJA_TOKENS_MAX = 5_000  # parsing and compiling: 1-2 s and 60-80 MiB at 20,000
# Not enforced on its own: what the bounds above add up to for one render (text at 4 bytes a
# character: RENDER_BUILD_MAX built and twice RENDER_MAX of output; RENDER_STEPS_MAX items at
# up to 128 bytes each), with room for Python's own. tests/domain/test_template_bounds.py
# measures renders against it with tracemalloc.
RENDER_MEMORY_MAX = 96 * 2**20  # bytes

ID_MAX = 2**31 - 1  # ids are 32-bit columns (INTEGER on PostgreSQL); larger is no id

# What a stored JSON value may be (domain/values.py; docs/api.md "What a value may be").
JSON_DEPTH_MAX = 32  # containers inside containers; the top-level object is depth 1
JSON_INT_MAX = 2**53 - 1  # exact in every JSON reader (JavaScript's Number included)
JSON_FLOAT_ABS_LIMIT = 1e15  # jsonb prints numbers without exponent: 1e16 would return as int
PURGE_REASON_MAX = 1000
SEARCH_TEXT_MAX = 200  # ?q=
CURSOR_MAX = 200
DIFF_EXACT_MAX_LINES = 2_000  # per side; past it the compare page shows a coarser diff

# Outcomes and impact (issue 16; docs/impact.md).
OUTCOMES_BATCH_MAX = 1_000  # outcomes in one POST /outcomes
OUTCOME_TAGS_MAX = 8  # free tags on one outcome
OUTCOME_TAG_KEY_MAX = 64
OUTCOME_TAG_VALUE_MAX = 128
OUTCOME_LATENCY_MS_MAX = 86_400_000.0  # a day
OUTCOME_TOKENS_MAX = 1_000_000_000
OUTCOME_COST_MAX = 1_000_000.0
OUTCOME_PAST_DAYS_MAX = 30  # an outcome's `at` may be this old at most
OUTCOME_FUTURE_S_MAX = 300  # or this far ahead of the server's clock (clock skew)
OUTCOME_PROMPTS_MAX = 100  # distinct prompts in one batch
WEBHOOKS_MAX = 50  # hooks in all: each write reads them and queues a delivery per match
IMPACT_PERIODS_MAX = 100  # label periods in one impact answer (the newest)
IMPACT_POINTS_MAX = 240  # points of an impact time series
ALERT_WINDOW_MINUTES_MAX = 24 * 60
