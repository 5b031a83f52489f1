"""The outcome category suggestion: rules only, many phrasings, words stay the record."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.actions.outcome_categories import FALLBACK, normalise, suggest_category
from bot.records.models import OUTCOME_CATEGORIES
from bot.text.outcome_eval import evaluate, load

ROOT = Path(__file__).resolve().parents[2]
DEV_SET = ROOT / "tests" / "data" / "outcomes_labelled.yml"

# outcomes_labelled.yml is the development set the rules were tuned on: first
# measured at 0.655 (144/220) with the old first-match rules, 1.000 after tuning.
# The floor only guards against regressions; it says nothing about unseen
# phrasings (held-out sets do that, see `make outcomes-report`).
DEV_FLOOR = 0.97


@pytest.mark.parametrize("text, category", [
    # stop_abuse_feel_safer
    ("I don't want him arrested, I just want him to stop", "stop_abuse_feel_safer"),
    ("i just want the abuse to end", "stop_abuse_feel_safer"),
    ("for the staff to stop shouting at my dad", "stop_abuse_feel_safer"),
    ("i want 2 feel safe", "stop_abuse_feel_safer"),
    ("to live without fear", "stop_abuse_feel_safer"),
    ("not wanting the police, just for the abuse to stop", "stop_abuse_feel_safer"),
    ("stooop it pls", "stop_abuse_feel_safer"),
    # protect_myself_future
    ("help so it doesn't happen again", "protect_myself_future"),
    ("to know what to do if someone tries to scam me", "protect_myself_future"),
    ("some advice about keeping safe online", "protect_myself_future"),
    ("so i dont get ripped off again", "protect_myself_future"),
    ("i want to know what a scam looks like", "protect_myself_future"),
    ("to know who I can go to next time", "protect_myself_future"),
    # feel_more_confident
    ("to feel more confident", "feel_more_confident"),
    ("to get my self esteem back", "feel_more_confident"),
    ("i want to be able to stand up for myself", "feel_more_confident"),
    ("to stop feeling so worthless", "feel_more_confident"),
    ("to not let people walk all over me", "feel_more_confident"),
    ("help mum get her confidence back", "feel_more_confident"),
    # harmer_stay_away
    ("I want him to stay away from me", "harmer_stay_away"),
    ("I never want to see him again", "harmer_stay_away"),
    ("for her to stop coming round", "harmer_stay_away"),
    ("a restraining order", "harmer_stay_away"),
    ("i dont want him anywhere near me", "harmer_stay_away"),
    ("I'm not asking for him to be locked up, I just want him to keep away", "harmer_stay_away"),
    # be_involved
    ("I want to be kept informed about what happens", "be_involved"),
    ("keep me updated pls", "be_involved"),
    ("i want a say in my care", "be_involved"),
    ("for them to ask me before they do anything", "be_involved"),
    ("nothing about me without me", "be_involved"),
    ("to know what the police do next", "be_involved"),
    # people_do_what_they_say
    ("for people to do what they said they would", "people_do_what_they_say"),
    ("do what u said u would", "people_do_what_they_say"),
    ("for people to keep their word", "people_do_what_they_say"),
    ("stop making promises you can't keep", "people_do_what_they_say"),
    ("i want them to stick to what they agreed", "people_do_what_they_say"),
    ("no more being fobbed off", "people_do_what_they_say"),
    # police_prosecute
    ("I want the police to charge him", "police_prosecute"),
    ("want him arrested", "police_prosecute"),
    ("i want the cops to lock him up", "police_prosecute"),
    ("for them to face justice", "police_prosecute"),
    ("i want the police to get involved", "police_prosecute"),
    # get_support
    ("some help with my shopping and a carer", "get_support"),
    ("to see a counsellor", "get_support"),
    ("i need help with my mental health", "get_support"),
    ("to get a package of care", "get_support"),
    ("heeelp", "get_support"),
    # make_friends
    ("I'd like to make some friends", "make_friends"),
    ("i want to feel less lonely", "make_friends"),
    ("to make some pals", "make_friends"),
    ("to get out of the house and meet people", "make_friends"),
    ("for mum to have more company", "make_friends"),
    # something_else
    ("my cat back", "something_else"),
    ("i want my savings back", "something_else"),
    ("for the home to say sorry", "something_else"),
    ("I want to stay living at home", "something_else"),
    ("i want to carry on seeing my son", "something_else"),
    ("for my grandson to stay out of trouble", "something_else"),
])
def test_phrasings(text, category):
    assert category in OUTCOME_CATEGORIES
    assert suggest_category(text) == category


@pytest.mark.parametrize("text", ["", "   ", "?!", "ok", "no idea", "I don't know", None])
def test_nothing_to_go_on_is_something_else(text):
    assert suggest_category(text) == FALLBACK == "something_else"


def test_negation_only_within_its_clause():
    # the negation belongs to the police, not to the outcome that follows
    assert suggest_category("I dont want to press charges, I want the hitting to stop") == "stop_abuse_feel_safer"
    # "but" starts a new clause: the earlier "not" does not cancel "court"
    assert suggest_category("there might not be enough evidence but I want him in court") == "police_prosecute"


def test_text_speak_is_spelt_out():
    assert normalise("I dont want u 2 go, ur mum's ok") == "i do not want you to go, your mum's ok"
    assert normalise("im scard, pls help") == "i am scared, please help"
    assert normalise("She won\u2019t be coming") == "she will not be coming"


def test_two_thousand_characters_are_fast():
    text = ("well its been going on for years and he shouts and grabs my arm when he wants money, "
            "I don't want the police but I want it to stop and to feel safe in my own home again. ")
    text = (text * 20)[:2000]
    start = time.perf_counter()
    category = suggest_category(text)
    elapsed = time.perf_counter() - start
    assert category in OUTCOME_CATEGORIES
    assert elapsed < 0.25, f"{elapsed:.3f}s for 2,000 characters"


def test_evaluate_reports_accuracy_per_category_and_mistakes(tmp_path):
    path = tmp_path / "outcomes_small.yml"
    path.write_text(
        'version: "1"\n'
        "outcomes:\n"
        '  - {text: "I want him charged", category: police_prosecute}\n'
        '  - {text: "make friends", category: make_friends}\n'
        '  - {text: "my cat back", category: get_support}\n'
    )
    result = evaluate(load(path))
    assert result["n"] == 3 and result["correct"] == 2
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert set(result["per_category"]) == set(OUTCOME_CATEGORIES)
    assert result["per_category"]["get_support"] == {
        "precision": 0.0, "recall": 0.0, "support": 1, "predicted": 0}
    assert result["per_category"]["something_else"]["predicted"] == 1
    assert result["mistakes"] == [
        {"text": "my cat back", "expected": "get_support", "got": "something_else"}]


def test_dev_set_accuracy_meets_the_floor():
    result = evaluate(load(DEV_SET))
    print(f"\n{DEV_SET.name}: accuracy {result['accuracy']:.3f} ({result['correct']}/{result['n']})")
    assert result["n"] == 220
    assert result["accuracy"] >= DEV_FLOOR, result["mistakes"]


# outcomes_blind2.yml was written by someone who saw neither the rules nor the
# development set, and measured once after tuning: 0.917 (155/169). It has not
# been used to change the rules; keep it that way (write a new blind set to tune
# on). The floor sits a few points below the measured figure.
HELD_OUT = ROOT / "tests" / "data" / "outcomes_blind2.yml"
HELD_OUT_FLOOR = 0.88


def test_held_out_set_accuracy_meets_the_floor():
    result = evaluate(load(HELD_OUT))
    print(f"\n{HELD_OUT.name}: accuracy {result['accuracy']:.3f} ({result['correct']}/{result['n']})")
    assert result["n"] == 169
    assert result["accuracy"] >= HELD_OUT_FLOOR, result["mistakes"]
