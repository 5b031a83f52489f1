"""What a new user gets: the first reply to each message of a labelled set.

Each message is sent, in a conversation of its own, to the trained model
(NLU and dialogue, exactly as the Rasa server runs them; no action server is
needed for these messages) and the replies are read from the tracker. Sets:

* danger sets (``positives_now``, ``positives_suicide``, ``negatives``,
  optional ``unclear``): is the first reply the 999 reply? (``recall``); does a
  safe message get it? (``false alarms``); how often the first reply asks
  whether anyone is in danger (``check``);
A message that is also in the training data (after lower-casing and removing
punctuation: "hello", "thank you") is left out and counted, so every figure
is on text the model never saw.

* NLU sets (Rasa NLU format): the final intent's accuracy and macro F1 ("not
  safe" answered as danger counts as understood; since session 12, so does a
  kind of harm answered with the 999 reply and then that kind named, which
  ``accuracy_strict``, the earlier definition, counts as a miss; a kind of
  harm withheld by the harm gate, "describe_harm", counts as a miss); for
  messages that describe a kind of harm: a wrong kind named, "out of scope"
  or "not understood" given; carer strain answered with carer support;
  advocacy asked for and advocacy explained.

    python -m bot.text.nlu_eval [--model models/x.tar.gz] [--json out.json] SET...

Held-out sets (``HELD_OUT``) are reported as figures only: their messages are
never printed, so nobody tunes on them by reading the misses.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
HELD_OUT = ("danger_blind26.yml", "nlu_blind26.yml", "danger_blind27.yml", "nlu_blind27.yml", "danger_blind28.yml",
            "nlu_blind28.yml")
# What each set is, for the report (status as of issue 9).
STATUS = {
    "danger_blind28.yml": "held out: written blind in session 19 by a writer who saw only BLIND_SPEC.md (asked also to think hard about everyday uses of danger words, to describe harm without naming its kind, and to vary who writes and how long), committed unread, measured in session 20 on the final model (the one blind26 and blind27 were measured on, less one training example blind28 shared, taken out unread; the same figures on both) and on a candidate trained with blind26 and blind27 (not adopted), never tuned on, messages never printed",
    "nlu_blind28.yml": "held out: written blind in session 19 by a writer who saw only BLIND_SPEC.md (asked also to describe harm without naming its kind), committed unread, measured in session 20 on the final model (the one blind26 and blind27 were measured on, less one training example blind28 shared, taken out unread; the same figures on both) and on a candidate trained with blind26 and blind27 (not adopted), never tuned on, messages never printed",
    "danger_blind27.yml": "held out: written blind at the end of session 18 by a writer who saw only BLIND_SPEC.md (asked also to think hard about everyday uses of danger words and to describe harm without naming its kind), committed unread, measured once in session 19 on the model blind26 was measured on, never tuned on, messages never printed",
    "nlu_blind27.yml": "held out: written blind at the end of session 18 by a writer who saw only BLIND_SPEC.md (asked also to describe harm without naming its kind), committed unread, measured once in session 19 on the model blind26 was measured on, never tuned on, messages never printed",
    "danger_blind26.yml": "held out: written blind in session 18 by a writer who saw only BLIND_SPEC.md (asked also to think hard about everyday uses of danger words and to describe harm without naming its kind), committed unread, measured once at the end of session 18's second round, never tuned on, messages never printed",
    "nlu_blind26.yml": "held out: written blind in session 18 by a writer who saw only BLIND_SPEC.md (asked also to describe harm without naming its kind), committed unread, measured once at the end of session 18's second round, never tuned on, messages never printed",
    "danger_blind25.yml": "training data since session 18's second round (written blind in session 18, its writer asked also to think hard about everyday uses of danger words; measured once in session 18's first round as a held-out set; then its misses were read)",
    "nlu_blind25.yml": "training data since session 18's second round (written blind in session 18; measured once in session 18's first round as a held-out set; then its misses were read)",
    "danger_blind24.yml": "training data since session 18's second round (written blind at the end of session 17; measured once in session 18's first round as a held-out set; then its misses were read)",
    "nlu_blind24.yml": "training data since session 18's second round (written blind at the end of session 17; measured once in session 18's first round as a held-out set; then its misses were read)",
    "danger_blind23.yml": "training data since session 18's first round (written blind in session 17, its writer asked also to think hard about everyday uses of danger words; measured once at the end of session 17's third round as a held-out set; then its misses were read)",
    "nlu_blind23.yml": "training data since session 18's first round (written blind in session 17; measured once at the end of session 17's third round as a held-out set; then its misses were read)",
    "danger_blind22.yml": "training data since session 17's third round (written blind at the start of session 17, measured once in its second round as a held-out set; then its misses were read)",
    "nlu_blind22.yml": "training data since session 17's third round (written blind at the start of session 17, measured once in its second round as a held-out set; then its misses were read)",
    "danger_blind21.yml": "training data since session 17's second round (written blind at the end of session 16, measured once in session 17's first round as a held-out set; then its misses were read)",
    "nlu_blind21.yml": "training data since session 17's second round (written blind at the end of session 16, measured once in session 17's first round as a held-out set; then its misses were read)",
    "danger_blind20.yml": "training data since session 17 (written blind at the start of session 16, measured once at its end as a held-out set; then its misses were read)",
    "nlu_blind20.yml": "training data since session 17 (written blind at the start of session 16, measured once at its end as a held-out set; then its misses were read)",
    "danger_blind19.yml": "training data since session 16's second round (written blind at the end of session 15, measured once in session 16 as a held-out set; then its misses were read)",
    "nlu_blind19.yml": "training data since session 16's second round (written blind at the end of session 15, measured once in session 16 as a held-out set; then its misses were read)",
    "danger_blind18.yml": "training data since session 16 (written blind in session 15, measured once at its end as a held-out set; then its misses were read)",
    "nlu_blind18.yml": "training data since session 16 (written blind in session 15, measured once at its end as a held-out set; then its misses were read)",
    "danger_blind17.yml": "training data since session 15 (written blind in session 14, measured once at its end as a held-out set; then its misses were read)",
    "nlu_blind17.yml": "training data since session 15 (written blind in session 14, measured once at its end as a held-out set; then its misses were read)",
    "danger_blind5.yml": "training data since session 5 (measured once as a held-out set in session 4)",
    "nlu_blind5.yml": "training data since session 5 (measured once as a held-out set in session 4)",
    "danger_blind12.yml": "training data since session 14 (written blind in session 9, measured in sessions 10 and 11 as a held-out set, never tuned on)",
    "nlu_blind12.yml": "training data since session 14 (written blind in session 9, measured in sessions 10 and 11 as a held-out set, never tuned on)",
    "danger_blind16.yml": "training data since session 14 (written blind in session 13, measured once at the end of session 13 as a held-out set, never tuned on)",
    "nlu_blind16.yml": "training data since session 14 (written blind in session 13, measured once at the end of session 13 as a held-out set, never tuned on)",
    "danger_blind15.yml": "training data since session 14 (written blind in session 11, measured once at the end of session 12 as a held-out set, never tuned on)",
    "nlu_blind15.yml": "training data since session 14 (written blind in session 11, measured once at the end of session 12 as a held-out set, never tuned on)",
    "danger_blind13.yml": "training data since session 14 (written blind in session 10, measured once at the end of session 11 as a held-out set, never tuned on)",
    "nlu_blind13.yml": "training data since session 14 (written blind in session 10, measured once at the end of session 11 as a held-out set, never tuned on)",
    "danger_blind11.yml": "training data since session 10 (measured once as held out, then a development set)",
    "nlu_blind11.yml": "training data since session 10 (measured once as held out, then a development set)",
    "danger_blind10.yml": "training data since session 10 (measured once as held out, then a development set)",
    "nlu_blind10.yml": "training data since session 10 (measured once as held out, then a development set)",
    "danger_blind9.yml": "training data since session 10 (measured once as held out, then a development set)",
    "nlu_blind9.yml": "training data since session 10 (measured once as held out, then a development set)",
    "danger_blind8.yml": "training data since session 6 (measured once as held out; then its misses were read and the rules fixed)",
    "nlu_blind8.yml": "training data since session 6 (measured once as held out; then its misses were read)",
    "danger_blind7.yml": "training data since session 6 (session 5's honest figure; then its misses were read and the rules fixed)",
    "nlu_blind7.yml": "training data since session 6 (session 5's honest figure; then its misses were read)",
    "danger_blind6.yml": "training data since session 5 (session 4's honest figure; then its misses were read and the rules fixed)",
    "nlu_blind6.yml": "training data since session 5 (session 4's honest figure; then added to the training data)",
    "danger_blind14_dev.yml": "development set since session 11: written blind in session 11 (BLIND_SPEC.md only), read and used to widen the rules",
    "nlu_blind14_dev.yml": "development set since session 11: written blind in session 11 (BLIND_SPEC.md only), read and used to choose settings",
    "danger_blind4_dev.yml": "development set: written blind, then used to choose thresholds and widen the rules",
    "nlu_blind4_dev.yml": "development set: written blind, then used to choose thresholds and the encoder weight",
    "nlu_heldout.yml": "earlier held-out set (issue 2), not tuned on in issue 9",
}
DANGER_REPLIES = {"utter_danger_now", "utter_danger_suicide"}
DANGER_INTENTS = {"danger_now", "danger_suicide"}
CHECK_REPLY = "utter_danger_check"
NOT_UNDERSTOOD = {"utter_out_of_scope", "utter_ask_rephrase", "utter_default", "action_default_fallback"}
KINDS = [
    "physical", "domestic", "sexual", "psychological", "financial", "modern_slavery",
    "discriminatory", "organisational", "neglect", "self_neglect", "sexual_exploitation",
]


def _norm(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9 ]", "", re.sub(r"\s+", " ", str(text).lower())).strip()


TRAINING_ROOT = ROOT


def training_texts() -> set:
    """Every text the model learns from: NLU data and the danger training files."""
    from rasa.shared.nlu.training_data.loading import load_data

    root = TRAINING_ROOT
    texts = {_norm(m.get("text")) for m in load_data(str(root / "bot" / "data" / "nlu")).training_examples if m.get("text")}
    sys.path.insert(0, str(ROOT))
    from scripts.model import component_training_files

    for path in component_training_files(root=root):
        data = yaml.safe_load(path.read_text()) or {}
        for group in ("positives_now", "positives_suicide", "negatives", "unclear"):
            texts |= {_norm(t) for t in data.get(group) or []}
    return texts


def kind_named(actions: List[str]) -> Optional[str]:
    """The kind of abuse a reply names (utter_ack_<kind>, utter_about_<kind>)."""
    for action in actions:
        for prefix in ("utter_ack_", "utter_about_"):
            if action.startswith(prefix) and action[len(prefix):] in KINDS:
                return action[len(prefix):]
    return None


def load_nlu(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def load_danger(path: Path) -> Dict[str, List[str]]:
    data = yaml.safe_load(path.read_text()) or {}
    return {k: [str(t) for t in data.get(k) or []] for k in ("positives_now", "positives_suicide", "negatives", "unclear")}


class Runner:
    def __init__(self, model: Path) -> None:
        from rasa.core.agent import Agent
        from rasa.core.tracker_store import InMemoryTrackerStore

        self.agent = Agent.load(str(model))
        self.agent.tracker_store = InMemoryTrackerStore(self.agent.domain)
        self.agent.processor.tracker_store = self.agent.tracker_store

    async def first_reply(self, text: str) -> Dict[str, Any]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
        from rasa.shared.core.events import ActionExecuted, UserUttered

        sender = f"eval-{uuid.uuid4().hex}"
        await self.agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
        tracker = await self.agent.tracker_store.retrieve(sender)
        actions: List[str] = []
        parse: Dict[str, Any] = {}
        seen_user = False
        for event in tracker.events:
            if isinstance(event, UserUttered):
                seen_user, parse = True, event.parse_data or {}
                actions = []
            elif seen_user and isinstance(event, ActionExecuted) and event.action_name != "action_listen":
                actions.append(event.action_name)
        self.agent.tracker_store.store.pop(sender, None)
        return {"actions": actions, "intent": (parse.get("intent") or {}).get("name"), "parse": parse}


def _held_out(path: Path) -> bool:
    return path.name in HELD_OUT


async def evaluate_danger(runner: Runner, path: Path) -> Dict[str, Any]:
    data = load_danger(path)
    seen = training_texts()
    skipped = sum(1 for texts in data.values() for t in texts if _norm(t) in seen)
    data = {group: [t for t in texts if _norm(t) not in seen] for group, texts in data.items()}
    out: Dict[str, Any] = {"skipped_in_training": skipped, "set": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
                           "held_out": _held_out(path), "groups": {}}
    misses, alarms, scores = [], [], []
    for group, texts in data.items():
        danger = check = 0
        for text in texts:
            r = await runner.first_reply(text)
            first = r["actions"][0] if r["actions"] else None
            learned = (r["parse"].get("learned_danger") or {})
            net = r["parse"].get("safety_net") or {}
            intent = r["parse"].get("classifier") or {}
            scores.append({"group": group, "p": learned.get("p"), "rules": net.get("source") == "rules",
                           "intent": intent.get("name"), "confidence": intent.get("confidence"),
                           "text": None if _held_out(path) else text})
            if first in DANGER_REPLIES:
                danger += 1
                if group == "negatives":
                    alarms.append({"text": text, "reply": first, "source": net.get("source"), "p": learned.get("p")})
            elif first == CHECK_REPLY:
                check += 1
                if group.startswith("positives"):
                    misses.append({"text": text, "reply": first, "p": learned.get("p")})
            elif group.startswith("positives"):
                misses.append({"text": text, "reply": first, "p": learned.get("p")})
        out["groups"][group] = {"n": len(texts), "danger_reply": danger, "check_reply": check}
    g = out["groups"]
    positives = g["positives_now"]["n"] + g["positives_suicide"]["n"]
    out["recall"] = (g["positives_now"]["danger_reply"] + g["positives_suicide"]["danger_reply"]) / max(1, positives)
    out["recall_or_check"] = out["recall"] + (
        g["positives_now"]["check_reply"] + g["positives_suicide"]["check_reply"]) / max(1, positives)
    out["false_alarms"] = g["negatives"]["danger_reply"] / max(1, g["negatives"]["n"])
    out["negatives_checked"] = g["negatives"]["check_reply"] / max(1, g["negatives"]["n"])
    if g["unclear"]["n"]:
        out["unclear_danger_or_check"] = (g["unclear"]["danger_reply"] + g["unclear"]["check_reply"]) / g["unclear"]["n"]
    if not _held_out(path):
        out["misses"], out["false_alarm_texts"] = misses, alarms
    out["scores"] = scores
    return out


async def evaluate_nlu(runner: Runner, path: Path) -> Dict[str, Any]:
    from sklearn.metrics import f1_score

    examples = load_nlu(path)
    seen = training_texts()
    skipped = sum(1 for text, _ in examples if _norm(text) in seen)
    examples = [(text, intent) for text, intent in examples if _norm(text) not in seen]
    gold, pred, strict = [], [], []
    harm = Counter()
    carer = Counter()
    alarms = Counter()
    advocate = Counter()
    errors: List[Dict[str, Any]] = []
    rows = []
    for text, intent in examples:
        r = await runner.first_reply(text)
        actions = r["actions"]
        predicted = r["intent"]
        if intent == "inform_not_safe" and predicted == "danger_now":
            # "I'm not safe" is meant to get the 999 reply at once (the
            # danger rules read it first): that is this intent understood.
            predicted = intent
        strict.append(predicted)
        if (predicted in DANGER_INTENTS and intent.startswith("describe_") and actions
                and actions[0] in DANGER_REPLIES and kind_named(actions[1:]) == intent[len("describe_"):]):
            # The 999 reply first, then the kind of harm described named
            # (SafeguardPolicy's follow-up): the harm was understood too.
            predicted = intent
        gold.append(intent)
        pred.append(predicted)
        classifier = r["parse"].get("classifier") or {}
        rows.append({"gold": intent, "final": predicted, "classifier": classifier.get("name"),
                     "p": (r["parse"].get("learned_danger") or {}).get("p"),
                     "rules": (r["parse"].get("safety_net") or {}).get("source") == "rules",
                     "confidence": classifier.get("confidence"), "ranking": classifier.get("ranking"),
                     "actions": actions,
                     "text": None if _held_out(path) else text})
        if predicted != intent and not _held_out(path):
            errors.append({"text": text, "gold": intent, "predicted": predicted, "classifier": classifier,
                           "actions": actions})
        # Nobody in these sets is in immediate danger (the danger sets hold
        # those). "I'm not safe" is answered with 999 on purpose, so it is not
        # counted as an alarm.
        if intent != "inform_not_safe":
            alarms["n"] += 1
        if intent != "inform_not_safe" and actions and actions[0] in DANGER_REPLIES:
            alarms["danger_reply"] += 1
        elif intent != "inform_not_safe" and actions and actions[0] == CHECK_REPLY:
            alarms["check_reply"] += 1
        if intent.startswith("describe_") and intent != "describe_harm":
            kind = intent[len("describe_"):]
            named = kind_named(actions)
            harm["n"] += 1
            if named == kind:
                harm["right_kind"] += 1
            elif named:
                harm["wrong_kind"] += 1
            elif "utter_ack_harm" in actions:
                harm["general"] += 1
            if any(a in NOT_UNDERSTOOD for a in actions):
                harm["out_of_scope"] += 1
            if actions and actions[0] in DANGER_REPLIES:
                harm["danger_reply"] += 1
        if intent == "inform_carer_strain":
            carer["n"] += 1
            carer["right"] += "utter_carer_strain" in actions
        if intent == "ask_advocate":
            advocate["n"] += 1
            advocate["right"] += "utter_advocate" in actions
    labels = sorted(set(gold))
    accuracy = sum(g == p for g, p in zip(gold, pred)) / max(1, len(gold))
    accuracy_strict = sum(g == p for g, p in zip(gold, strict)) / max(1, len(gold))
    macro_f1 = f1_score(gold, pred, labels=labels, average="macro", zero_division=0)
    classifier_pred = [row["classifier"] for row in rows]
    out = {
        "set": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "held_out": _held_out(path),
        "n": len(gold),
        "skipped_in_training": skipped,
        "accuracy": accuracy,
        "accuracy_strict": accuracy_strict,
        "macro_f1": float(macro_f1),
        "classifier_accuracy": sum(g == p for g, p in zip(gold, classifier_pred)) / max(1, len(gold)),
        "harm": dict(harm),
        "wrong_kind_rate": harm["wrong_kind"] / max(1, harm["n"]),
        "harm_out_of_scope": harm["out_of_scope"],
        "false_alarms": alarms["danger_reply"] / max(1, alarms["n"]),
        "checked": alarms["check_reply"] / max(1, alarms["n"]),
        "carer_right": carer["right"] / max(1, carer["n"]),
        "advocate_right": advocate["right"] / max(1, advocate["n"]),
        "carer_advocate_right": (carer["right"] + advocate["right"]) / max(1, carer["n"] + advocate["n"]),
        "rows": rows,
    }
    if not _held_out(path):
        out["errors"] = errors
    return out


def is_danger_set(path: Path) -> bool:
    data = yaml.safe_load(path.read_text()) or {}
    return "positives_now" in data


async def run(model: Path, sets: List[Path]) -> List[Dict[str, Any]]:
    runner = Runner(model)
    results = []
    for path in sets:
        if is_danger_set(path):
            results.append(await evaluate_danger(runner, path))
        else:
            results.append(await evaluate_nlu(runner, path))
    return results


def threshold_table(results: List[Dict[str, Any]]) -> str:
    """What each pair of thresholds would give on these sets (for the development set only).

    Danger found = rules, or learned score >= danger threshold; asked = score
    between the unclear and danger thresholds. False alarms are counted on the
    safe messages of the danger sets and on every message of the NLU sets.
    """
    pos, neg = [], []
    for result in results:
        if result["held_out"]:
            raise SystemExit("refusing to choose thresholds on a held-out set")
        if "recall" in result:
            for s in result["scores"]:
                (pos if s["group"].startswith("positives") else neg if s["group"] == "negatives" else []).append(s)
        else:
            neg += [{"p": r["p"], "rules": r["rules"]} for r in result["rows"] if r["gold"] != "inform_not_safe"]
    lines = ["danger  unclear | 999 reply: recall  false alarms | 999 or asked: recall | safe asked"]
    for danger in (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6):
        for unclear in (0.5, 0.4, 0.3, 0.2):
            def hit(s, t):
                return s["rules"] or (s["p"] or 0.0) >= t
            r999 = sum(hit(s, danger) for s in pos) / max(1, len(pos))
            fa = sum(hit(s, danger) for s in neg) / max(1, len(neg))
            rany = sum(hit(s, unclear) for s in pos) / max(1, len(pos))
            asked = sum((not hit(s, danger)) and hit(s, unclear) for s in neg) / max(1, len(neg))
            lines.append(f"{danger:5.2f}  {unclear:5.2f}   |  {r999:.3f}   {fa:.3f}   |  {rany:.3f}  |  {asked:.3f}")
    return "\n".join(lines)


def summary(result: Dict[str, Any]) -> str:
    tag = STATUS.get(Path(result["set"]).name, "held out" if result["held_out"] else "not held out")
    if "recall" in result:
        g = result["groups"]
        lines = [
            f"{result['set']} ({tag}): {g['positives_now']['n'] + g['positives_suicide']['n']} dangerous, "
            f"{g['negatives']['n']} safe, {g['unclear']['n']} unclear "
            f"({result['skipped_in_training']} left out: also in the training data)",
            f"  first reply is the 999 reply: {result['recall']:.3f} "
            f"(now {g['positives_now']['danger_reply']}/{g['positives_now']['n']}, "
            f"suicide {g['positives_suicide']['danger_reply']}/{g['positives_suicide']['n']}); "
            f"999 reply or 'is anyone in danger? call 999': {result['recall_or_check']:.3f}",
            f"  false alarms (999 reply to a safe message): {result['false_alarms']:.3f} "
            f"({g['negatives']['danger_reply']}/{g['negatives']['n']}); safe messages asked 'is anyone in danger?': "
            f"{result['negatives_checked']:.3f}",
        ]
        if "unclear_danger_or_check" in result:
            lines.append(f"  unclear messages answered with 999 or the danger question: {result['unclear_danger_or_check']:.3f}")
        return "\n".join(lines)
    h = result["harm"]
    return "\n".join([
        f"{result['set']} ({tag}): {result['n']} messages "
        f"({result['skipped_in_training']} left out: also in the training data)",
        f"  intent accuracy {result['accuracy']:.3f} (the final intent alone, before session 12's "
        f"definition: {result.get('accuracy_strict', result['accuracy']):.3f}), macro F1 {result['macro_f1']:.3f} "
        f"(classifier alone {result['classifier_accuracy']:.3f})",
        f"  harm described ({h.get('n', 0)}): right kind named {h.get('right_kind', 0)}, wrong kind named "
        f"{h.get('wrong_kind', 0)} ({result['wrong_kind_rate']:.3f}), general words + choices {h.get('general', 0)}, "
        f"'out of scope'/'not understood' {h.get('out_of_scope', 0)}, 999 reply {h.get('danger_reply', 0)}",
        f"  999 reply to these messages (none is in immediate danger): {result['false_alarms']:.3f}; "
        f"asked 'is anyone in danger?': {result['checked']:.3f}\n"
        f"  carer strain -> carer support {result['carer_right']:.3f}; advocacy -> advocacy {result['advocate_right']:.3f}; "
        f"both {result['carer_advocate_right']:.3f}",
    ])


def _quiet() -> None:
    """Rasa's debug logs would print every message (held-out ones too): silence them."""
    import structlog

    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    import warnings

    warnings.filterwarnings("ignore")


def evaluate_quietly(model: Path, sets: List[Path]) -> List[Dict[str, Any]]:
    """Evaluate the sets with nothing printed: Rasa's logs can quote messages.

    Logging, structlog and warnings are put back as they were afterwards (the
    tests run this in the same process as tests of the log filter).
    """
    import contextlib
    import warnings

    import structlog

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    previous_env = os.environ.get("LOG_LEVEL")
    previous_disable = logging.root.manager.disable
    previous_structlog = structlog.get_config()
    root_level = logging.getLogger().level
    try:
        os.environ["LOG_LEVEL"] = "ERROR"
        with warnings.catch_warnings():
            _quiet()
            with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), \
                    contextlib.redirect_stderr(devnull):
                return asyncio.run(run(model, sets))
    finally:
        logging.disable(previous_disable)
        structlog.configure(**previous_structlog)
        logging.getLogger().setLevel(root_level)
        if previous_env is None:
            os.environ.pop("LOG_LEVEL", None)
        else:
            os.environ["LOG_LEVEL"] = previous_env


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write every figure (and per-message rows) here")
    parser.add_argument("--misses", action="store_true", help="print misses of sets that are not held out")
    parser.add_argument("--thresholds", action="store_true",
                        help="print what other danger thresholds would give (development sets only)")
    parser.add_argument("--training-root", type=Path, default=ROOT,
                        help="leave out messages in this checkout's training data (to compare models on one subset)")
    args = parser.parse_args(argv)
    global TRAINING_ROOT
    TRAINING_ROOT = args.training_root.resolve()
    model = args.model
    if model is None:
        sys.path.insert(0, str(ROOT))
        from scripts.model import ensure_model

        model = ensure_model(quiet=True)
    results = evaluate_quietly(model, [p.resolve() for p in args.sets])
    for result in results:
        print(summary(result))
        if args.misses and not result["held_out"]:
            for key in ("misses", "false_alarm_texts", "errors"):
                for item in result.get(key, []):
                    print(f"    {key}: {json.dumps(item, ensure_ascii=False)}")
        print()
    if args.thresholds:
        print(threshold_table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"model": str(model), "results": results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
