"""The regular expressions a contract's ``pattern`` may use: a subset of ECMA-262 (the
dialect JSON Schema names, with the ``u`` flag: code points), small enough that every
client can match it in linear time with a hand-written automaton, and that has no feature
whose meaning differs between JavaScript, Rust's ``regex`` (our validator's engine, linear
time) and the specification.

    pattern  := alt
    alt      := seq ("|" seq)*
    seq      := ("^" | "$" | atom quant?)*
    quant    := ("*" | "+" | "?" | "{n}" | "{n,}" | "{n,m}") "?"?      n, m <= 1000
    atom     := "." | "(" alt ")" | "(?:" alt ")" | class | escape | literal
    class    := "[" "^"? (item | item "-" item)* "]"
    escape   := \\d \\D \\w \\W \\s \\S | \\t \\n \\r \\f \\v | \\xHH | \\uHHHH | \\u{H..}
              | \\ followed by one of  ^ $ \\ . * + ? ( ) [ ] { } | /    (and "-" in a class)

Not allowed: lookaround, backreferences, named groups, ``\\b``, ``\\p{…}``, ``\\c``, ``\\0``,
flags, empty classes, lone ``]``, ``{`` or ``}``, surrogate code points, groups nested more
than 16 deep. Matching is a search (anchored only by
``^``/``$``, which match at the ends of the string alone); ``.`` is any code point but
``\\n``, ``\\r``, U+2028 and U+2029; ``\\d`` is ``[0-9]``, ``\\w`` ``[A-Za-z0-9_]``, ``\\s``
ECMAScript's white space and line terminators.
"""

from __future__ import annotations

from typing import Literal

from promptdeck import limits

_SYNTAX = frozenset("^$\\.*+?()[]{}|/")
_CLASS_ESCAPES = frozenset("dDwWsS")
_CONTROL_ESCAPES = frozenset("tnrfv")
_HEX = frozenset("0123456789abcdefABCDEF")
REPEAT_MAX = 1000
GROUP_DEPTH_MAX = 16


class PatternError(ValueError):
    pass


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.depth = 0
        self.dots: list[int] = []  # where "." stands for any code point but line terminators

    def fail(self, what: str) -> PatternError:
        return PatternError(f"{what} at character {self.i + 1}")

    def peek(self) -> str | None:
        return self.text[self.i] if self.i < len(self.text) else None

    def quantifier_next(self) -> bool:
        char = self.peek()
        return char is not None and char in "*+?{"

    def take(self) -> str:
        char = self.text[self.i]
        self.i += 1
        return char

    def alt(self) -> int:
        """States of the alternatives: the sum of each branch's."""
        total = self.seq()
        while self.peek() == "|":
            self.i += 1
            total += self.seq()
        return total

    def seq(self) -> int:
        total = 0
        while (char := self.peek()) is not None and char not in "|)":
            if char in "^$":
                self.i += 1
                if self.quantifier_next():
                    raise self.fail("an anchor cannot be repeated")
                continue
            states = self.atom()
            total += self.quantified(states)
        return total

    def quantified(self, states: int) -> int:
        char = self.peek()
        if char is None or char not in "*+?{":
            return states
        self.i += 1
        if char == "{":
            low, high = self.counts()
            copies = max(low, 1) if high is None else max(high, 1)
        else:
            copies = 1
        if self.peek() == "?":  # lazy: the same language, so the same match or not
            self.i += 1
        if self.quantifier_next():
            raise self.fail("a quantifier cannot follow a quantifier")
        return states * copies

    def counts(self) -> tuple[int, int | None]:
        low = self.integer()
        high: int | None = low
        if self.peek() == ",":
            self.i += 1
            high = None if self.peek() == "}" else self.integer()
        if self.peek() != "}":
            raise self.fail("a counted repetition is {n}, {n,} or {n,m}")
        self.i += 1
        if high is not None and high < low:
            raise self.fail("in {n,m}, n must not be larger than m")
        return low, high

    def integer(self) -> int:
        start = self.i
        while (char := self.peek()) is not None and char.isascii() and char.isdigit():
            self.i += 1
        if start == self.i:
            raise self.fail("a counted repetition needs a number")
        value = int(self.text[start : self.i])
        if value > REPEAT_MAX:
            raise self.fail(f"counted repetitions go up to {REPEAT_MAX}")
        return value

    def atom(self) -> int:
        char = self.take()
        if char == ".":
            self.dots.append(self.i - 1)
            return 1
        if char == "(":
            if self.peek() == "?":
                if self.text[self.i : self.i + 2] != "?:":
                    raise self.fail("only (…) and (?:…) groups are supported")
                self.i += 2
            self.depth += 1
            if self.depth > GROUP_DEPTH_MAX:
                raise self.fail(f"groups nest at most {GROUP_DEPTH_MAX} deep")
            states = self.alt()
            self.depth -= 1
            if self.peek() != ")":
                raise self.fail("unclosed group")
            self.i += 1
            return states
        if char == "[":
            self.char_class()
            return 1
        if char == "\\":
            self.escape(in_class=False)
            return 1
        if char in _SYNTAX:
            raise PatternError(f"{char!r} must be escaped at character {self.i}")
        self.literal(char)
        return 1

    def literal(self, char: str) -> None:
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise self.fail("surrogate code points are not supported")

    def escape(self, *, in_class: bool) -> str | None:
        """Parses one escape; the code point it stands for, or None for a class escape."""
        if self.peek() is None:
            raise self.fail("a pattern cannot end with a backslash")
        char = self.take()
        if char in _CLASS_ESCAPES:
            return None
        if char in _CONTROL_ESCAPES:
            return {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}[char]
        if char == "x":
            return self.hex_digits(2)
        if char == "u":
            if self.peek() == "{":
                self.i += 1
                end = self.text.find("}", self.i)
                digits = self.text[self.i : end] if end > 0 else ""
                if not digits or len(digits) > 6 or not set(digits) <= _HEX:
                    raise self.fail("\\u{…} needs 1 to 6 hex digits")
                self.i = end + 1
                return self.code_point(int(digits, 16))
            return self.hex_digits(4)
        if char in _SYNTAX or (in_class and char == "-"):
            return char
        raise self.fail(f"\\{char} is not supported")

    def hex_digits(self, n: int) -> str:
        digits = self.text[self.i : self.i + n]
        if len(digits) != n or not set(digits) <= _HEX:
            raise self.fail(f"expected {n} hex digits")
        self.i += n
        return self.code_point(int(digits, 16))

    def code_point(self, value: int) -> str:
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise self.fail("not a Unicode scalar value")
        return chr(value)

    def char_class(self) -> None:
        if self.peek() == "^":
            self.i += 1
        if self.peek() == "]":
            raise self.fail("an empty class matches nothing")
        while True:
            low = self.class_atom()
            if low is False:
                return
            if self.peek() == "-" and self.text[self.i + 1 : self.i + 2] not in ("]", ""):
                self.i += 1
                high = self.class_atom()
                if low is None or high is None or high is False:
                    raise self.fail("a range in a class goes from one character to another")
                if ord(high) < ord(low):
                    raise self.fail("a range in a class must go upward")

    def class_atom(self) -> str | Literal[False] | None:
        """A code point, None for a class escape, False at the closing ``]``."""
        char = self.peek()
        if char is None:
            raise self.fail("unclosed character class")
        self.i += 1
        if char == "]":
            return False
        if char == "\\":
            return self.escape(in_class=True)
        if char == "[":
            raise self.fail("'[' must be escaped inside a class")
        self.literal(char)
        return char


# ECMAScript's "." excludes four line terminators; regex engines disagree on three of
# them (jsonschema-rs 0.60 lets "\r", U+2028 and U+2029 match), so the engine gets a class.
ANY_BUT_LINE_TERMINATORS = "[^\\n\\r\\u2028\\u2029]"


def engine_pattern(text: str) -> str:
    """The pattern as the validator's engine gets it: ``.`` spelled as the class it means
    in ECMAScript, so the meaning does not depend on the engine's translation."""
    parser = _Parser(text)
    parser.alt()
    out, last = [], 0
    for at in parser.dots:
        out += [text[last:at], ANY_BUT_LINE_TERMINATORS]
        last = at + 1
    return "".join([*out, text[last:]])


def check_pattern(text: str) -> None:
    """Raise PatternError (a ValueError) unless ``text`` is in the supported subset and
    within the bounds."""
    if len(text) > limits.PATTERN_MAX:
        raise PatternError(f"a pattern is at most {limits.PATTERN_MAX} characters")
    parser = _Parser(text)
    states = parser.alt()
    if parser.i != len(text):
        raise parser.fail("unbalanced ')'")
    if states > limits.PATTERN_STATES_MAX:
        raise PatternError(
            f"the pattern expands to {states} atoms (repetitions counted); "
            f"at most {limits.PATTERN_STATES_MAX}"
        )
