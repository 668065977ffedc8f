"""The bounds, used by the wire schemas and the core alike. Documented in docs/api.md."""

PROMPT_NAME_MAX = 128
# A slug that is not all digits (those are ids), without look-ahead: JSON Schema and Rust alike.
PROMPT_NAME_PATTERN = r"^(?:[a-z]|[0-9]+[a-z._-])[a-z0-9._-]*$"
VERSION_NAME_MAX = 128
DESCRIPTION_MAX = 10_000
CONTENT_MAX = 1_000_000  # characters of prompt text
DIFF_CONTEXT_MAX = 1_000  # lines of context around each change of a version diff
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
MAX_VERSIONS_MAX = 1_000_000  # the largest max_versions a prompt may keep
SEARCH_TEXT_MAX = 200  # ?q=
CURSOR_MAX = 200

# Outcomes and impact (issue 16; docs/impact.md).
OUTCOMES_BATCH_MAX = 1_000  # outcomes in one POST /outcomes
OUTCOME_TAGS_MAX = 8  # free tags on one outcome
OUTCOME_TAG_KEY_MAX = 64
OUTCOME_TAG_VALUE_MAX = 128
OUTCOME_LATENCY_MS_MAX = 86_400_000.0  # a day
OUTCOME_TOKENS_MAX = 1_000_000_000
OUTCOME_COST_MAX = 1_000_000.0
OUTCOME_PAST_DAYS_MAX = 30  # an outcome's `at` may be this old at most
ALERT_MIN_COUNT_MAX = 1_000_000  # an alert rule's min_count
OUTCOME_FUTURE_S_MAX = 300  # or this far ahead of the server's clock (clock skew)
OUTCOME_PROMPTS_MAX = 100  # distinct prompts in one batch
# OTLP trace ingest (issue 27; docs/opentelemetry.md).
OTLP_BODY_MAX = 4 * 1024 * 1024  # one export, protobuf or JSON (a collector's batch fits)
OTLP_SPANS_MAX = 10_000  # spans in one export (the SDK's batches are 512)
OTLP_ATTRIBUTES_MAX = 128  # attributes read per span (the SDK's default limit); the rest ignored
WEBHOOKS_MAX = 50  # hooks in all: each write reads them and queues a delivery per match
IMPACT_PERIODS_MAX = 100  # label periods in one impact answer (the newest)
IMPACT_POINTS_MAX = 240  # points of an impact time series
ALERT_WINDOW_MINUTES_MAX = 24 * 60

# Guarded rollouts (issue 24; docs/rollouts.md).
ROLLOUT_BUCKETS = 10_000  # a key's bucket is in [0, 10000): shares in basis points
ROLLOUT_KEY_MAX_BYTES = 512  # a sticky key (user id, session id…), UTF-8 encoded
ROLLOUT_SALT_MAX = 64
ROLLOUT_STEPS_MAX = 20  # shares in one plan, the final 100% included
ROLLOUT_STICKY_MAX = 64  # the sticky attribute's name
ROLLOUT_MIN_OUTCOMES_MIN = 30  # per arm before the guard judges: its normal approximation
ROLLOUT_MIN_OUTCOMES_MAX = 1_000_000
ROLLOUT_STEP_MINUTES_MAX = 30 * 24 * 60
ROLLOUT_STEP_OUTCOMES_MAX = 10_000_000
ROLLOUT_CONFIDENCE_MIN = 0.5
ROLLOUT_CONFIDENCE_MAX = 0.999
# Contracts (issue 23; docs/contracts.md): what a version promises its callers.
CONTRACT_MAX_BYTES = 100_000  # the whole contract, canonical JSON
CONTRACT_TOOLS_MAX = 128  # OpenAI's own limit on tools in one request
TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"  # OpenAI's function names
SCHEMA_DEPTH_MAX = 32  # subschemas inside subschemas, $ref followed
SCHEMA_WEIGHT_MAX = 5_000  # subschemas with every $ref inlined, plus enum values
SCHEMA_ENUM_MAX = 1_000  # values in one enum
PATTERN_MAX = 1_000  # characters of one pattern
PATTERN_STATES_MAX = 1_000  # a pattern's atoms with counted repetitions expanded
# Checking variables (bench/contracts.py): their size is values + characters // 16, the
# work is the schema's weight x that size. Past either of the first two bounds the
# variables are refused unchecked; past the third the failing paths are not listed one by
# one (validity is decided in Rust, the listing runs in Python).
VARIABLES_SIZE_MAX = 1_000_000
CONTRACT_CHECK_WORK_MAX = 30_000_000
CONTRACT_LIST_WORK_MAX = 100_000
VARIABLES_ERRORS_LISTED_MAX = 100  # failing paths listed in one answer
CONTRACT_VALIDATORS_CACHED = 256  # compiled variable schemas kept (LRU by canonical JSON)

# Test sets and evaluations (issue 25; docs/evaluations.md).
TEST_SET_NAME_MAX = 64  # a slug, like a label
TEST_SET_CASES_MAX = 10_000  # cases in one set, every version's together
TEST_SET_ADD_MAX = 2_000  # cases one request adds (and one import reads)
TEST_CASE_MAX_BYTES = 64_000  # one case's canonical JSON
TEST_SET_IMPORT_MAX_CHARS = 2_000_000  # the text of one import (the body bound is lower)
EVALUATION_VERSIONS_MAX = 4  # versions compared in one evaluation (two: a paired verdict)
EVALUATION_ITEMS_MAX = 20_000  # versions x cases in one evaluation
EVALUATION_OUTPUT_KEEP = 100_000  # characters of a model's output kept per item
EVALUATION_REPORT_MAX = 1_000  # results in one report (POST /evaluations/{id}/results)
GATE_THRESHOLDS_MAX = 20  # evaluators a gate names
