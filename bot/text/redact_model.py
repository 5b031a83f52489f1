"""The trained half of redaction: a small spaCy ``ner`` for names and addresses.

A blank English pipeline (``spacy.blank("en")``, no downloaded weights) with
one ``ner`` component, trained from the project's own messages: the templates
in ``data/redaction/train_templates.yml`` filled with names (Faker's lists and
ours, ``bot.text.redact_lexicon``) and generated street addresses, written as
typed, in lower case, in capitals, with and without punctuation.

Name hints: before the model reads a message, every word that is a known
first name or surname and not also an English word gets one shared spelling
("xxfirstname", "xxsurname") in its ``norm``, the feature the model's word
embedding reads. The model so knows the thousands of names on the lists, not
only those its training messages used; names that are also words (Rose,
Bill, Will, May, Mark ...) keep their own spelling and are told apart by
context. In training a quarter of the hints are withheld, so that names on
no list are learned from context too ("my son X").

Training is seeded and happens at set-up (``make train``), only when its
inputs change: the model directory is named after a hash of them
(``models/redaction-<hash>``; never committed). ``find()`` loads it once per
process. It never trains: a server must not spend a minute training inside a
request, and a deployed copy may not be able to write ``models/``. If the
directory for the current inputs is missing, ``find()`` raises
``ModelMissing`` (which says to run ``make train``) and redaction refuses
rather than running on rules alone; the staff portal then withholds the
redacted pages (``bot.portal.errors``). ``ensure()`` (``make train``,
``python -m bot.text.redact_model``, the evaluation tool and the tests) is
what trains it.
"""
from __future__ import annotations

import hashlib
import random
import re
import shutil
import sys
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from bot.build_once import build_once
from bot.text import redact_lexicon

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
DATA = Path(__file__).parent / "data" / "redaction"
TEMPLATES = DATA / "train_templates.yml"
KINDS = {"NAME": "name", "ADDRESS": "address"}
FIRST_HINT, LAST_HINT = "xxfirstname", "xxsurname"

SEED = 12
EPOCHS = 8
# Messages from the assistant's own training data (bot/data/nlu) taught as
# "no name, no address": real phrasing from the people who write to us.
PLAIN_MESSAGES = 1000
# How many filled messages each template gives.
FILLS = {"with_details": 18, "word_uses": 6, "without_details": 5}
HINT_DROPOUT = 0.25

Span = Tuple[int, int, str]


class ModelMissing(RuntimeError):
    """The trained redaction model for the current code and data is not on this machine."""


# --- fingerprint and storage ------------------------------------------------------------------
def training_inputs() -> List[Path]:
    files = [Path(__file__), Path(redact_lexicon.__file__), redact_lexicon.LEXICON, TEMPLATES]
    return files + [redact_lexicon.PLAIN_MESSAGES_SNAPSHOT, redact_lexicon.WORDS_SNAPSHOT]


def fingerprint() -> str:
    import faker
    import spacy

    digest = hashlib.sha256()
    for path in training_inputs():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"spacy {spacy.__version__} faker {faker.VERSION}".encode())
    return digest.hexdigest()[:16]


def model_dir() -> Path:
    return MODELS / f"redaction-{fingerprint()}"


def ensure(quiet: bool = False) -> Path:
    """The trained model for the current inputs, trained now if needed."""

    def build(target: Path) -> None:
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        train(training_examples()).to_disk(partial)
        partial.rename(target)

    return build_once(model_dir(), build, what="Redaction model", why="redaction data or code changed",
                      lock=".redaction.lock", ready=lambda target: (target / "meta.json").exists(), quiet=quiet, stream=sys.stderr)


# --- name hints -------------------------------------------------------------------------------
def hint(doc, rng: "random.Random | None" = None, dropout: float = 0.0):
    """Give known names a shared ``norm`` (see the module's doc); ``dropout`` only in training."""
    names = redact_lexicon.gazetteer()
    for token in doc:
        lowered = token.lower_
        if lowered in names["first"]:
            norm = FIRST_HINT
        elif lowered in names["last"]:
            norm = LAST_HINT
        else:
            continue
        if rng is not None and rng.random() < dropout:
            continue
        token.norm_ = norm
    return doc


# --- training data ----------------------------------------------------------------------------
_SLOT = re.compile(r"\{(\w+)\}")
WORD_NAMES = ("Rose", "Bill", "Will", "Grace", "May", "Mark", "Frank", "Hope", "Sue", "Pat", "Jack", "Nick",
              "Dawn", "Joy", "Ray", "Carol", "Holly", "Ruby", "Penny", "Daisy", "Sandy", "Miles", "Dean", "Grant")
NICKNAMES = ("Shaz", "Baz", "Gaz", "Daz", "Tel", "Del", "Bev", "Kev", "Trev", "Mo", "Jonno", "Robbo", "Tommo", "Macca")
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr", "mr", "mrs", "Mrs.", "Mr.")
KIN = ("son", "daughter", "grandson", "nephew", "neighbour", "brother", "carer", "lodger", "partner", "friend")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "march", "april", "june", "july", "september", "october", "december")
ABBREVIATIONS = {"road": "rd", "street": "st", "avenue": "ave", "lane": "ln", "close": "cl", "drive": "dr",
                 "crescent": "cres", "gardens": "gdns", "court": "ct", "terrace": "tce", "place": "pl", "grove": "gr"}
COMMON_SUFFIXES = ("road", "street", "avenue", "lane", "close", "drive", "way", "court", "crescent", "grove",
                   "place", "terrace", "gardens", "walk", "view", "rise", "mews", "green", "hill", "row", "square")


class _Filler:
    """Draws names, addresses and the rest for one template (seeded)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        lex = redact_lexicon.lexicon()
        names = redact_lexicon.gazetteer()
        self.local_first = sorted(redact_lexicon.english_first_names() & names["first"])
        self.first = sorted(names["first"])
        self.last = sorted(names["last"])
        self.street_words = sorted(lex["street_words"])
        self.suffixes = sorted(lex["street_suffixes"])
        self.towns = sorted(lex["towns"])
        self.house_words = sorted(lex["house_words"])
        self.house_kinds = sorted(lex["house_kinds"])

    def pick(self, items: Sequence[str]) -> str:
        return items[self.rng.randrange(len(items))]

    def first_name(self) -> str:
        pool = self.local_first if self.rng.random() < 0.6 else self.first
        return self.pick(pool).title()

    def street(self) -> str:
        r = self.rng.random()
        suffix = self.pick(COMMON_SUFFIXES) if r < 0.7 else self.pick(self.suffixes)
        if suffix in ABBREVIATIONS and self.rng.random() < 0.35:
            suffix = ABBREVIATIONS[suffix]
        words = self.pick(self.street_words)
        if self.rng.random() < 0.1:
            words = self.pick(self.last)
        return f"{words} {suffix}".title()

    def address(self) -> str:
        n = str(self.rng.choice([self.rng.randint(1, 30), self.rng.randint(1, 250)]))
        street, town = self.street(), self.pick(self.towns).title()
        flat = self.rng.randint(1, 40)
        house = f"{self.pick(self.house_words).title()} {self.pick(self.house_kinds).title()}"
        shapes = (  # (how often, address)
            (35, f"{n} {street}"), (20, f"{n} {street}, {town}"), (10, f"flat {flat}, {n} {street}"),
            (7, f"{n}{self.pick('abc')} {street}"), (8, f"{house}, {street}"), (8, f"no {n} {street}"),
            (6, f"{n} {street} {town}"), (6, f"flat {flat} {self.pick(self.street_words).title()} Court"),
        )
        return self.rng.choices([text for _, text in shapes], weights=[w for w, _ in shapes])[0]

    def fill(self, slot: str) -> Tuple[str, "str | None", int, int]:
        """Text for ``slot``, its entity label (or None), and where the entity sits in the text."""
        if slot == "first":
            text = self.first_name()
            return text, "NAME", 0, len(text)
        if slot == "last":
            text = self.pick(self.last).title()
            return text, "NAME", 0, len(text)
        if slot == "full":
            text = f"{self.first_name()} {self.pick(self.last).title()}"
            return text, "NAME", 0, len(text)
        if slot == "title":
            title, last = self.pick(TITLES), self.pick(self.last).title()
            return f"{title} {last}", "NAME", len(title) + 1, len(title) + 1 + len(last)
        if slot == "wordname":
            text = self.pick(WORD_NAMES)
            return text, "NAME", 0, len(text)
        if slot == "nick":
            text = self.pick(NICKNAMES)
            return text, "NAME", 0, len(text)
        if slot in ("address", "street"):
            text = self.address() if slot == "address" else self.street()
            return text, "ADDRESS", 0, len(text)
        plain = {
            "town": lambda: self.pick(self.towns).title(), "num": lambda: str(self.rng.randint(2, 30)),
            "money": lambda: str(self.rng.choice([20, 50, 100, 200, 350, 1000])),
            "day": lambda: self.pick(DAYS), "month": lambda: self.pick(MONTHS),
            "time": lambda: self.pick(("3pm", "10:30", "2 oclock", "half 9")),
            "age": lambda: str(self.rng.randint(60, 97)), "kin": lambda: self.pick(KIN),
        }
        return plain[slot](), None, 0, 0


def _render(template: str, filler: _Filler) -> Tuple[str, List[Span]]:
    out, entities, position = [], [], 0
    last = 0
    for m in _SLOT.finditer(template):
        out.append(template[last:m.start()])
        position += m.start() - last
        text, label, start, end = filler.fill(m.group(1))
        if label:
            entities.append((position + start, position + end, label))
        out.append(text)
        position += len(text)
        last = m.end()
    out.append(template[last:])
    return "".join(out), entities


def _write_as(text: str, entities: List[Span], rng: random.Random) -> str:
    """The message as someone might type it: as is, lower case, capitals, names in lower case."""
    r = rng.random()
    if r < 0.5:
        changed = text
    elif r < 0.82:
        changed = text.lower()
    elif r < 0.9:
        changed = text.upper()
    else:
        changed = text
        for start, end, _ in entities:
            changed = changed[:start] + changed[start:end].lower() + changed[end:]
    return changed if len(changed) == len(text) else text


def training_messages(seed: int = SEED) -> List[Tuple[str, List[Span]]]:
    """The filled training messages: ``(text, [(start, end, label)])``."""
    rng = random.Random(seed)
    filler = _Filler(rng)
    data = yaml.safe_load(TEMPLATES.read_text())
    messages = []
    for group, times in FILLS.items():
        for template in data[group]:
            for _ in range(times if _SLOT.search(template) else max(1, times // 3)):
                written = template
                if rng.random() < 0.2:
                    written = written.replace("'", "").replace(",", "")
                text, entities = _render(written, filler)
                messages.append((_write_as(text, entities, rng), entities))
    messages += [(text, []) for text in plain_messages(rng)]
    rng.shuffle(messages)
    return messages


def plain_messages(rng: random.Random, limit: int = PLAIN_MESSAGES) -> List[str]:
    """Messages of the assistant's hand-written NLU data with no name on our lists and no capitalised word
    inside a sentence (a name we do not know), drawn at random (seeded)."""
    names = redact_lexicon.gazetteer()
    known = names["first"] | names["last"]
    found = []
    for text in redact_lexicon.plain_message_texts():
        words = re.findall(r"[A-Za-z][\w'-]*", text)
        if not words or any(w.lower() in known for w in words):
            continue
        if any(w[:1].isupper() and w != "I" and not w.startswith("I'") for w in words[1:]):
            continue
        found.append(text)
    found = sorted(set(found))
    rng.shuffle(found)
    return found[:limit]


def training_examples(seed: int = SEED):
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("en")
    rng = random.Random(seed + 1)
    examples = []
    for text, entities in training_messages(seed):
        doc = hint(nlp.make_doc(text), rng, HINT_DROPOUT)
        spans = [doc.char_span(s, e, label=label) for s, e, label in entities]
        if any(span is None for span in spans):
            continue  # an entity that does not fall on word boundaries: not taught
        examples.append(Example.from_dict(doc, {"entities": [(s, e, label) for s, e, label in entities]}))
    return examples


def train(examples, seed: int = SEED, epochs: int = EPOCHS):
    import spacy
    from spacy.util import compounding, fix_random_seed, minibatch

    fix_random_seed(seed)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in KINDS:
        ner.add_label(label)
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    examples = list(examples)
    for _ in range(epochs):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=compounding(8.0, 64.0, 1.01)):
            nlp.update(batch, drop=0.2, sgd=optimizer)
    return nlp


# --- prediction -------------------------------------------------------------------------------
def missing_message(target: Path) -> str:
    return (f"The redaction model is missing ({target.relative_to(ROOT)}, named after its code and data). "
            "Run `make train` (or `.venv/bin/python -m bot.text.redact_model`) on this machine.")


@lru_cache(maxsize=1)
def get_nlp():
    """The trained pipeline, loaded once per process; ``ModelMissing`` if it was never trained here.

    Not cached while missing, so a model trained later is picked up without a restart.
    """
    import spacy

    target = model_dir()
    if not (target / "meta.json").exists():
        raise ModelMissing(missing_message(target))
    return spacy.load(target)


def available() -> bool:
    """Whether ``find()`` will work (loads the model if it can)."""
    try:
        get_nlp()
    except ModelMissing:
        return False
    return True


@lru_cache(maxsize=1)
def _street_words() -> frozenset:
    lex = redact_lexicon.lexicon()
    return lex["street_suffixes"] | lex["house_kinds"] | {"cottage", "court", "flat"}


_SENTENCE_END = {".", "!", "?", ";"}


def _address_end(ent) -> int:
    """Where an address the model found ends: not past the end of its sentence ("14 Mill Lane. Ring
    me" is "14 Mill Lane"), nor over everyday words after a comma ("14 Mill Lane, ring me"; a town
    stays: "14 Mill Lane, Leeds"), nor on punctuation."""
    end = ent.end_char
    plain, towns = redact_lexicon.plain_words(), redact_lexicon.lexicon()["towns"]
    for i, token in enumerate(ent[1:], start=1):
        if token.text in _SENTENCE_END:
            end = token.idx
            break
        if token.text == ",":
            rest = [t.lower_ for t in ent[i + 1:] if t.is_alpha]
            if rest and all(w in plain for w in rest) and " ".join(rest) not in towns \
                    and not any(w in towns for w in rest):
                end = token.idx
                break
    text = ent.doc.text
    while end > ent.start_char and not text[end - 1].isalnum():
        end -= 1
    return end


def find(text: str) -> List[Span]:
    """Names and addresses the model finds in ``text``: ``(start, end, kind)``."""
    return find_all([text])[0]


def find_all(texts: Sequence[str], batch_size: int = 64) -> List[List[Span]]:
    """``find`` for many texts, read in batches.

    Two checks on what the model says: a name made only of everyday words
    ("very", "drunk") is not one, and an address names a kind of street or
    building.
    """
    nlp = get_nlp()
    docs = (hint(nlp.make_doc(text)) for text in texts)
    plain, streets = redact_lexicon.plain_words(), _street_words()
    out = []
    for doc in nlp.get_pipe("ner").pipe(docs, batch_size=batch_size):
        found = []
        for ent in doc.ents:
            words = [t.lower_ for t in ent if t.is_alpha]
            if ent.label_ == "NAME" and (not words or all(w in plain for w in words)):
                continue
            if ent.label_ == "ADDRESS" and not any(w.rstrip(".") in streets for w in words):
                continue
            end = _address_end(ent) if ent.label_ == "ADDRESS" else ent.end_char
            found.append((ent.start_char, end, KINDS[ent.label_]))
        out.append(found)
    return out


def main(argv: Sequence[str] = ()) -> Dict[str, str]:
    return {"model": str(ensure())}


if __name__ == "__main__":
    main(sys.argv[1:])
