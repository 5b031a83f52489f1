"""Take a new snapshot of what the redaction model learns from our own English.

    python -m scripts.redaction_snapshot

Writes ``bot/text/data/redaction/plain_messages.txt`` (every example of the
hand-written NLU files, the source of the model's "no details" messages) and
``project_words.txt`` (lower-case words of the NLU data, the replies and the
danger training data used at least ``WORD_USES`` times: names written there
in lower case are words to us). The redaction model trains from these, not
from the live NLU files, so it stays the same while the NLU data grows.
Taking a new snapshot retrains it: measure the redaction sets again after
(``python -m bot.text.redact_eval tests/data/redaction_dev.yml``).
"""
from __future__ import annotations

from bot.text import redact_lexicon as lex

HEADER = "# Snapshot for the redaction model (scripts/redaction_snapshot.py); edit by taking a new one.\n"


def main() -> int:
    texts = lex.live_plain_message_texts()
    lex.PLAIN_MESSAGES_SNAPSHOT.write_text(HEADER + "".join(t + "\n" for t in texts))
    words = sorted((w, n) for w, n in lex.live_project_words().items() if n >= lex.WORD_USES)
    lex.WORDS_SNAPSHOT.write_text(HEADER + "".join(f"{w} {n}\n" for w, n in words))
    print(f"{lex.PLAIN_MESSAGES_SNAPSHOT.name}: {len(texts)} messages; {lex.WORDS_SNAPSHOT.name}: {len(words)} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
