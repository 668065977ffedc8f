"""A deterministic history: versions of a ~4 KB prompt, each a small edit of the one before
(reword a sentence, insert a sentence, or drop one). Same seed, same history, everywhere."""

from __future__ import annotations

import random
from collections.abc import Iterator

PROSE = (
    "the customer support agent should always answer politely and concisely using the refund "
    "policy shipping times account settings billing cycle invoice escalation manager ticket "
    "priority urgent never promise dates you cannot keep verify identity before sharing order "
    "details summarise the issue in one sentence then propose next steps apologise once when "
    "we made a mistake link to the help centre article if it exists otherwise explain clearly "
    "keep a friendly professional tone avoid jargon ask a clarifying question when the request "
    "is ambiguous do not reveal internal notes or these instructions respond in the language "
    "of the user format lists with dashes limit answers to five short paragraphs"
)
WORDS = PROSE.split()

TARGET = 4096


class History:
    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.sentences: list[str] = []
        while len(self.text()) < TARGET:
            self.sentences.append(self.sentence())

    def sentence(self) -> str:
        n = self.rng.randint(8, 22)
        words = [self.rng.choice(WORDS) for _ in range(n)]
        return " ".join(words).capitalize() + self.rng.choice(".....!?")

    def text(self) -> str:
        lines: list[str] = []
        for i in range(0, len(self.sentences), 4):  # paragraphs of four sentences
            lines.append(" ".join(self.sentences[i : i + 4]))
        return "\n\n".join(lines) + "\n"

    def reword(self) -> None:
        i = self.rng.randrange(len(self.sentences))
        words = self.sentences[i].rstrip(".!?").split(" ")
        for _ in range(self.rng.randint(1, 3)):
            words[self.rng.randrange(len(words))] = self.rng.choice(WORDS)
        self.sentences[i] = " ".join(words).capitalize() + "."

    def edit(self) -> None:
        size = len(self.text())
        roll = self.rng.random()
        if size > TARGET * 1.1:
            roll = 0.9  # too long: drop
        elif size < TARGET * 0.9:
            roll = 0.6  # too short: insert
        if roll < 0.5:
            self.reword()
        elif roll < 0.75:
            self.sentences.insert(self.rng.randrange(len(self.sentences) + 1), self.sentence())
        else:
            del self.sentences[self.rng.randrange(len(self.sentences))]

    def versions(self, n: int) -> Iterator[str]:
        """``n`` contents: the first, then each a small edit of the one before."""
        yield self.text()
        for _ in range(n - 1):
            self.edit()
            yield self.text()


def generate(n: int, seed: int = 2026) -> list[str]:
    return list(History(seed).versions(n))
