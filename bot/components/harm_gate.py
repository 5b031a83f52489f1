"""HarmGate: never name the wrong harm, never say "out of scope" to harm.

Naming the wrong kind of abuse to a person who has just disclosed harm ("this
may be modern slavery" in answer to a partner's rage) is worse than naming
none. After the classifier, this component:

1. lets a ``describe_<kind>`` intent through only when the classifier is
   confident (``kind_threshold``) and clearly prefers that kind to the next
   one (``kind_margin``), both chosen on the development set; otherwise the intent becomes ``describe_harm``: the
   reply acknowledges what was said in general words and offers the likely
   kinds as choices (``harm_gate.candidates`` in the parse data, shown as
   buttons by ``SettingsNLG``);
2. turns "out of scope" or "not understood" into ``describe_harm`` when the
   message speaks of harm, fear, injury or not coping: by a word list
   (deterministic, ``HARM_WORDS``) or when the classifier puts most of its
   weight on harm intents (``harm_mass_threshold``). Nonsense (no known word)
   is left alone.

Before both, violence, threats or control by a partner, ex-partner or family
member is domestic abuse (the statutory definition, and how councils record
it): when the person who does it is named as family ("my husband", "our
kid", "her son") before anyone else and the classifier is not sure of one
kind on its own, its weight on physical and psychological abuse counts for
domestic abuse. When it is sure ("my son grabs me so hard he leaves marks":
physical), that kind is named: on the development sets (blind4_dev,
blind14_dev) moving a sure physical or psychological guess to domestic made 5
right kinds wrong and no wrong kind right (session 13).

When the classifier's best guess is danger (SafetyNet, after this, decides
about danger by its rules first), the best of the other intents is vetted the
same way, with their confidences scaled to add up to one: that is the harm
named after the 999 reply (``safety_net.follow_up``), or the intent that
replaces a danger guess SafetyNet does not trust.

What it did is attached as ``harm_gate`` to the parse data (``beside:
"danger"`` when it vetted the intent behind a danger guess).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent
from bot.components.unknown_words import UNKNOWN_KEY

KEY = "harm_gate"
CLASSIFIER_KEY = "classifier"
GENERAL = "describe_harm"
DESCRIBE = "describe_"
HARM_INTENTS = {
    "inform_carer_strain", "inform_not_safe", "inform_worried_about_someone", "fear_care_home",
    "fear_trouble", GENERAL,
}
NOT_ANSWERS = {"out_of_scope", "nlu_fallback"}
# The classifier's danger guesses: SafetyNet decides about those; the rest of the ranking is vetted here.
DANGER_NAMES = {"danger_now", "danger_suicide"}

# Words that mean harm, fear, injury or not coping. Deterministic: if one is
# there, "out of scope" is never the answer.
HARM_WORDS = re.compile(
    r"\b(abus\w*|hurt\w*|harm\w*|hit|hits|hitting|slap\w*|punch\w*|kick\w*|push\w*|shov\w*|"
    r"grab\w*|bruis\w*|injur\w*|bleed\w*|wound\w*|pain|scared|scary|afraid|frighten\w*|terrif\w*|"
    r"fear\w*|threat\w*|bully\w*|bullied|intimidat\w*|shout\w*|scream\w*|yell\w*|swear\w*|"
    r"neglect\w*|starv\w*|hungry|steal\w*|stole|stolen|theft|scam\w*|took my|taking my|"
    r"controll?\w*|forc\w*|made me|makes me|touch\w*|grope\w*|rape\w*|unsafe|not safe|danger\w*|"
    r"cope|coping|struggl\w*|exhaust\w*|breaking point|overwhelm\w*|desperate|"
    r"locked|trapped|ignor\w*|humiliat\w*|mock\w*|insult\w*|racis\w*|"
    r"cruel|nasty|horrible|awful|upset\w*|crying)\b",
    re.IGNORECASE,
)


def speaks_of_harm(text: str) -> bool:
    return bool(HARM_WORDS.search(text or ""))


FAMILY = (
    r"partner|husband|hubby|wife|boyfriend|girlfriend|bf|gf|fella|fellah|fiance|fiancee|ex|ex-partner|"
    r"ex-husband|ex-wife|son|daughter|brother|sister|dad|father|mum|mam|mom|mother|step-?dad|step-?mum|"
    r"step-?father|step-?mother|grandson|granddaughter|nephew|niece|uncle|aunt|auntie|aunty|cousin|"
    r"son-in-law|daughter-in-law|in-laws|family|our kid"
)
OTHERS = (
    r"carers?|staff|workers?|keyworker|neighbours?|landlord|nurses?|friends?|mates?|lads|people|man|men|"
    r"woman|women|bloke|guy|stranger|boss|manager|housemates?|flatmates?|lodger|tenants?|residents?|"
    r"teacher|volunteer|driver|someone|somebody|they|he|she|them"
)
# What the person named does, within a few words: harm, threats or control.
_ACTS = re.compile(
    r"\b(says|said|tells|told|calls|called|makes|made|keeps|kept|won't|wont|throws|threw|knock\w*|beat\w*|"
    r"smack\w*|rings|texts|messages|sends|blames|takes|took|control\w*|hit|hits|hitting|hurt\w*|"
    r"threat\w*|shout\w*|scream\w*|push\w*|shov\w*|slap\w*|punch\w*|kick\w*|grab\w*|swear\w*|"
    r"bull\w*|hate\w*|insult\w*|belittl\w*|lock\w*|stops?|stopped|checks|watch\w*|follow\w*)\b",
    re.IGNORECASE,
)
PARTNERS = re.compile(r"^(partner|husband|hubby|wife|boyfriend|girlfriend|bf|gf|fella|fellah|fiance|fiancee|ex)$", re.IGNORECASE)
# The first person named: family ("my husband", "her son", a bare "husband"
# at the start) or someone else ("the carer", "my mum's carer").
_PERSON = re.compile(
    rf"(?:^|\b(my|me|our|his|her|their|the|a)\s+)?\b({FAMILY}|{OTHERS})\b"
    # "my mum's carer" is possessive; "me fella's been" is "has been"
    r"((?:'s|s')(?!\s+(?:been|got|gone|always|just|never|started|taken|not|very|really|so|hitting|kicking|"
    r"shouting|threatening|pushing|hurting)\b))?",
    re.IGNORECASE,
)
_FAMILY = re.compile(rf"^(?:{FAMILY})$", re.IGNORECASE)
DOMESTIC = "describe_domestic"
BY_FAMILY = ("describe_physical", "describe_psychological", DOMESTIC)


def harm_by_family(text: str) -> bool:
    """Whether the first person named is a partner or family member who does
    something harmful or controlling ("my son hits me", "her husband won't
    let her out"), not the one harmed ("mum has bruises since the new carers")."""
    text = text or ""
    for match in _PERSON.finditer(text):
        possessive = match.group(3)
        if possessive:
            continue  # "my mum's carer": the carer is the one named
        who = match.group(2)
        if not _FAMILY.match(who):
            return False
        if not match.group(1) and not PARTNERS.match(who):
            return False  # a bare "mum" at the start is usually the one harmed
        after = " ".join(text[match.end():].split()[:8])
        return bool(_ACTS.search(after))
    return False


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class HarmGate(RuleComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"kind_threshold": 0.5, "kind_margin": 0.0, "harm_mass_threshold": 0.5, "max_candidates": 3,
                "min_candidate": 0.05}

    def process_message(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        name = intent.get("name") or ""
        ranking = list(message.get(INTENT_RANKING_KEY) or [])
        text = message.get(TEXT) or ""
        # What the classifier said, before any change here (for reports).
        message.set(CLASSIFIER_KEY, {
            "name": name, "confidence": float(intent.get("confidence") or 0.0),
            "ranking": [[r.get("name"), round(float(r.get("confidence") or 0.0), 4)] for r in ranking[:3]],
        }, add_to_output=True)
        if name in DANGER_NAMES:
            self._vet_beside_danger(message, ranking, text)
            return
        checked, new_ranking, found = self._checked(intent, ranking, text, message)
        if checked is not intent:
            message.set(INTENT, checked, add_to_output=True)
            message.set(INTENT_RANKING_KEY, new_ranking, add_to_output=True)
        if found:
            message.set(KEY, found, add_to_output=True)

    def _vet_beside_danger(self, message: Message, ranking: List[Dict[str, Any]], text: str) -> None:
        """The classifier's best guess is danger: vet the best of the rest.

        SafetyNet decides about danger (the rules first); whatever it keeps,
        the intent behind the danger intent is what follows the 999 reply
        (``safety_net.follow_up``) or replaces an untrusted danger guess. It
        passes the same checks, with the confidences of the non-danger intents
        scaled to add up to one (how sure the classifier is of the kind, were
        this not danger).
        """
        danger = [r for r in ranking if r.get("name") in DANGER_NAMES]
        rest = [r for r in ranking if r.get("name") not in DANGER_NAMES]
        total = sum(_confidence(r) for r in rest)
        if not rest or total <= 0.0:
            return
        best, rest_ranking, found = self._checked(rest[0], rest, text, message, scale=total)
        if best is rest[0]:
            return
        message.set(INTENT_RANKING_KEY, danger + rest_ranking, add_to_output=True)
        if found:
            message.set(KEY, dict(found, beside="danger"), add_to_output=True)

    def _checked(
        self, intent: Dict[str, Any], ranking: List[Dict[str, Any]], text: str, message: Message, scale: float = 1.0,
    ) -> Tuple[Dict[str, Any], List[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """The intent after the checks, the ranking led by it, and what was done (None: nothing).

        The intent returned is the same object when nothing changed.
        ``scale``: confidences are compared with the thresholds after dividing by it.
        """
        name = intent.get("name") or ""
        sure = self._sure_of_kind(intent, ranking, scale)
        if name in BY_FAMILY and not sure and harm_by_family(text):
            merged = sum(_confidence(r) for r in ranking if r.get("name") in BY_FAMILY)
            intent = {"name": DOMESTIC, "confidence": merged}
            ranking = [intent] + [r for r in ranking if r.get("name") not in BY_FAMILY]
            name = DOMESTIC
            sure = self._sure_of_kind(intent, ranking, scale)
        scores = [r for r in ranking if r.get("name") not in NOT_ANSWERS]
        describe = _kinds(ranking)
        reason: Optional[str] = None
        if name == GENERAL:
            reason = "general"
        elif name.startswith(DESCRIBE) and not sure:
            reason = "kind_unsure"
        elif name in NOT_ANSWERS and not message.get(UNKNOWN_KEY):
            mass = sum(_confidence(r) for r in scores
                       if (r.get("name") or "").startswith(DESCRIBE) or r.get("name") in HARM_INTENTS) / scale
            if speaks_of_harm(text):
                reason = "harm_words"
            elif mass >= float(self.config["harm_mass_threshold"]):
                reason = "harm_mass"
        if reason is None:
            return intent, ranking, None
        candidates = [
            r["name"][len(DESCRIBE):] for r in describe
            if _confidence(r) / scale >= float(self.config["min_candidate"])
        ][: int(self.config["max_candidates"])]
        general = {"name": GENERAL, "confidence": _confidence(intent)}
        ranking = [general] + [r for r in ranking if r.get("name") != GENERAL]
        return general, ranking, {"from": name, "reason": reason, "candidates": candidates}

    def _sure_of_kind(self, intent: Dict[str, Any], ranking: List[Dict[str, Any]], scale: float) -> bool:
        """Whether ``intent`` names a kind the classifier is sure of: at least
        ``kind_threshold``, and ``kind_margin`` ahead of the next kind."""
        name = intent.get("name") or ""
        if not name.startswith(DESCRIBE) or name == GENERAL:
            return False
        confidence = _confidence(intent) / scale
        others = [_confidence(r) / scale for r in _kinds(ranking) if r.get("name") != name]
        margin = confidence - (others[0] if others else 0.0)
        return confidence >= float(self.config["kind_threshold"]) and margin >= float(self.config["kind_margin"])


def _kinds(ranking: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The ``describe_<kind>`` entries of a ranking (general words excluded)."""
    return [r for r in ranking if (r.get("name") or "").startswith(DESCRIBE) and r.get("name") != GENERAL]


def _confidence(entry: Dict[str, Any]) -> float:
    return float(entry.get("confidence") or 0.0)
