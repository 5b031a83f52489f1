"""SafetyNet and EmptyMessageGuard on real Rasa Message objects."""
from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.components.input_guard import PLACEHOLDER, EmptyMessageGuard
from bot.components.safety_net import SafetyNet


def message(text, intent="describe_physical", confidence=0.7, ranking=None):
    m = Message(data={"text": text})
    m.set("intent", {"name": intent, "confidence": confidence})
    m.set("intent_ranking", ranking or [{"name": intent, "confidence": confidence},
                                         {"name": "greet", "confidence": 0.1}])
    return m


def run(*messages):
    return SafetyNet({"max_chars": 2000}).process(list(messages))


def test_danger_overrides_the_classifier():
    (m,) = run(message("hes hitting me right now", "inform_safe", 0.9))
    assert m.get("intent") == {"name": "danger_now", "confidence": 1.0}
    assert m.get("intent_ranking")[0]["name"] == "danger_now"
    assert m.get("safety_net")["danger"] == "now"
    assert "safety_net" in m.as_dict(only_output_properties=True)


def test_suicide_gets_its_own_intent():
    (m,) = run(message("i want to end my life", "fear_trouble", 0.4))
    assert m.get("intent")["name"] == "danger_suicide"


def test_a_danger_guess_without_a_rule_match_is_replaced():
    ranking = [{"name": "danger_now", "confidence": 0.6}, {"name": "describe_physical", "confidence": 0.35}]
    (m,) = run(message("my dad was hit by a car years ago", "danger_now", 0.8, ranking))
    assert m.get("intent") == {"name": "describe_physical", "confidence": 0.35}
    assert all(r["name"] != "danger_now" for r in m.get("intent_ranking"))
    assert m.get("safety_net")["danger"] is None


def test_a_weak_replacement_becomes_nlu_fallback():
    ranking = [{"name": "danger_now", "confidence": 0.9}, {"name": "greet", "confidence": 0.05}]
    (m,) = run(message("the film last night had a knife fight", "danger_now", 0.9, ranking))
    assert m.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}


def test_ordinary_message_is_untouched():
    (m,) = run(message("my grandson keeps my bank card", "describe_financial", 0.8))
    assert m.get("intent") == {"name": "describe_financial", "confidence": 0.8}
    assert m.get("safety_net") == {"danger": None, "who": None, "matched": "", "source": None, "check": False,
                                   "follow_up": None, "input": None}


def test_unreadable_input_becomes_nlu_fallback():
    for text, problem in [("😀😀", "symbols"), ("x" * 2001, "too_long"), ("我需要帮助", "other_script")]:
        (m,) = run(message(text, "affirm", 0.6))
        assert m.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
        assert m.get("safety_net")["input"] == problem


def test_danger_beats_too_long():
    (m,) = run(message("x " * 1500 + "he is hitting me now", "nlu_fallback", 1.0))
    assert m.get("intent")["name"] == "danger_now"
    assert m.get("safety_net")["input"] == "too_long"


def test_empty_message_guard_and_safety_net_restore_the_text():
    m = Message(data={"text": "   "})
    EmptyMessageGuard().process([m])
    assert m.get("text") == PLACEHOLDER
    m.set("intent", {"name": "affirm", "confidence": 0.5})
    run(m)
    assert m.get("text") == "   "
    assert m.get("intent")["name"] == "nlu_fallback"
    assert m.get("safety_net")["input"] == "empty"


def test_guard_leaves_real_text_alone():
    m = Message(data={"text": "hello"})
    EmptyMessageGuard().process([m])
    assert m.get("text") == "hello"


def learned(m, p, kind, level):
    m.set("learned_danger", {"p": p, "kind": kind, "level": level})
    return m


def test_the_learned_detector_adds_a_danger_reply_where_the_rules_are_silent():
    (m,) = run(learned(message("my nan has not come back from the shops and it is getting late", "inform_worried_about_someone"), 0.95, "now", "danger"))
    assert m.get("intent") == {"name": "danger_now", "confidence": 1.0}
    assert m.get("safety_net")["source"] == "learned"
    assert m.get("safety_net")["who"] == "other"


def test_the_learned_detector_never_removes_a_rule_decision():
    (m,) = run(learned(message("hes hitting me right now", "greet"), 0.01, "now", None))
    assert m.get("intent")["name"] == "danger_now"
    assert m.get("safety_net")["source"] == "rules"


def test_unclear_danger_is_marked_for_the_check_not_the_999_reply():
    (m,) = run(learned(message("hes back again and im frightened", "describe_psychological", 0.8), 0.6, "now", "unclear"))
    assert m.get("intent")["name"] == "describe_psychological"
    assert m.get("safety_net")["check"] is True
    assert m.get("safety_net")["danger"] is None


def test_suicide_in_a_carers_message_keeps_carer_support_as_follow_up():
    ranking = [{"name": "inform_carer_strain", "confidence": 0.7}, {"name": "greet", "confidence": 0.1}]
    (m,) = run(learned(message("i look after mum 24/7 and honestly i just want to go to sleep and not wake up",
                               "inform_carer_strain", 0.7, ranking), 0.9, "suicide", "danger"))
    assert m.get("intent")["name"] == "danger_suicide"
    assert m.get("safety_net")["follow_up"] == "inform_carer_strain"


def test_a_kind_of_harm_beside_danger_is_followed_up_after_the_999_reply():
    ranking = [{"name": "describe_physical", "confidence": 0.9}, {"name": "greet", "confidence": 0.05}]
    (m,) = run(message("hes hitting me right now", "describe_physical", 0.9, ranking))
    assert m.get("intent")["name"] == "danger_now"
    assert m.get("safety_net")["follow_up"] == "describe_physical"
    # Danger possible but unclear: asked about danger, then the kind too.
    (m,) = run(learned(message("hes back again and im frightened", "describe_psychological", 0.8), 0.6, "now", "unclear"))
    assert m.get("safety_net")["follow_up"] == "describe_psychological"


def test_general_harm_and_other_intents_are_not_followed_up():
    ranking = [{"name": "describe_harm", "confidence": 0.5}, {"name": "describe_physical", "confidence": 0.4}]
    (m,) = run(message("hes hitting me right now", "describe_harm", 0.5, ranking))
    assert m.get("intent")["name"] == "danger_now"
    assert m.get("safety_net")["follow_up"] is None
    ranking = [{"name": "greet", "confidence": 0.6}, {"name": "describe_physical", "confidence": 0.3}]
    (m,) = run(message("hes hitting me right now", "greet", 0.6, ranking))
    assert m.get("safety_net")["follow_up"] is None
    # No danger, no follow-up: the ordinary rules answer.
    (m,) = run(message("my carer shouts at me", "describe_psychological", 0.9))
    assert m.get("safety_net")["follow_up"] is None


def test_hidden_characters_do_not_hide_danger_and_the_text_stays_verbatim():
    from bot.components.text_normaliser import TextNormaliser

    raw = "he is h\u0456tt\u0456ng m\u0435 r\u200bight now"
    m = message(raw, "greet", 0.9)
    TextNormaliser({}).process([m])
    (m,) = run(m)
    assert m.get("intent")["name"] == "danger_now"
    assert m.get("text") == raw


def test_a_bare_cry_for_help_is_asked_whether_anyone_is_in_danger():
    for text in ("HELP", "help!!", "please help", "sos"):
        (m,) = run(message(text, "greet", 0.9))
        net = m.get("safety_net")
        assert net["check"] is True and net["source"] == "rules" and net["danger"] is None, text
    for text in ("help me with my form", "can you help", "how can you help me"):
        (m,) = run(message(text, "ask_what_can_you_do", 0.9))
        assert m.get("safety_net")["check"] is False, text


def test_not_feeling_safe_gets_the_reply_for_danger_now_not_the_suicide_one():
    (m,) = run(learned(message("i do not feel safe in this house", "inform_not_safe", 0.9), 0.83, "suicide", "danger"))
    assert m.get("intent")["name"] == "danger_now"
    (m,) = run(learned(message("i will not be a burden much longer", "inform_carer_strain", 0.6), 0.83, "suicide", "danger"))
    assert m.get("intent")["name"] == "danger_suicide"


def test_a_danger_the_writer_says_is_over_is_asked_about_not_given_999_by_the_learned_detector():
    m = message("the man who was shouting outside has gone and I'm ok now", intent="inform_safe")
    learned(m, 0.95, "now", "danger")
    run(m)
    net = m.get("safety_net")
    assert net["danger"] is None and net["check"] is True
    assert m.get("intent")["name"] == "inform_safe"


def test_the_rules_still_decide_when_the_writer_says_it_is_over():
    m = message("I'm ok now but he has a knife to my throat", intent="inform_safe")
    learned(m, 0.2, "now", None)
    run(m)
    assert m.get("safety_net")["danger"] == "now"


def test_a_confident_other_intent_needs_a_higher_learned_score_for_the_999_reply():
    # Harm told, read with confidence as harm described: a middling learned
    # score asks "is anyone in danger now?" instead of the 999 reply.
    (m,) = run(learned(message("my support worker slaps me when nobody is around", "describe_physical", 0.95),
                       0.7, "now", "danger"))
    assert m.get("safety_net")["danger"] is None and m.get("safety_net")["check"] is True
    assert m.get("intent")["name"] == "describe_physical"
    # A high score still gives the 999 reply on its own.
    (m,) = run(learned(message("my support worker slaps me when nobody is around", "describe_physical", 0.95),
                       0.9, "now", "danger"))
    assert m.get("safety_net")["danger"] == "now" and m.get("safety_net")["source"] == "learned"
    # An unsure classifier does not hold the learned detector back.
    (m,) = run(learned(message("my support worker slaps me when nobody is around", "describe_physical", 0.5),
                       0.7, "now", "danger"))
    assert m.get("safety_net")["danger"] == "now"
    # Nor does "I don't feel safe", however sure.
    (m,) = run(learned(message("i do not feel safe in this house tonight", "inform_not_safe", 0.99), 0.7, "now", "danger"))
    assert m.get("safety_net")["danger"] == "now"
    # And the rules never wait on either.
    (m,) = run(learned(message("he is hitting me right now", "describe_physical", 0.99), 0.1, "now", None))
    assert m.get("safety_net")["danger"] == "now" and m.get("safety_net")["source"] == "rules"


def test_danger_words_in_the_negative_are_asked_about_whatever_the_learned_score():
    # "I'm not hurting myself": not the 999 reply (rules or learned), never
    # silence either: the "is anyone in danger now? call 999" question.
    m = message("I'm not hurting myself, I just want to talk", intent="ask_what_to_do")
    learned(m, 0.97, "suicide", "danger")
    run(m)
    net = m.get("safety_net")
    assert net["danger"] is None and net["check"] is True
    assert m.get("intent")["name"] == "ask_what_to_do"
    # Without the negation the rules give the suicide reply.
    (m,) = run(learned(message("I'm hurting myself, I just want to talk", "ask_what_to_do"), 0.1, "suicide", None))
    assert m.get("safety_net")["danger"] == "suicide"


def test_nonsense_words_are_not_asked_about_danger_on_an_unclear_learned_score():
    from bot.components.unknown_words import UNKNOWN_KEY

    nonsense = learned(message("blorp fnarg wibble", "nlu_fallback", 1.0), 0.51, "now", "unclear")
    nonsense.set(UNKNOWN_KEY, True)
    known = learned(message("blorp fnarg wibble", "nlu_fallback", 1.0), 0.51, "now", "unclear")
    sure = learned(message("blorp fnarg wibble", "nlu_fallback", 1.0), 0.9, "now", "danger")
    sure.set(UNKNOWN_KEY, True)
    rule = message("zzkx he is stabbing her qqpl", "nlu_fallback", 1.0)
    rule.set(UNKNOWN_KEY, True)
    run(nonsense, known, sure, rule)
    assert nonsense.get("safety_net")["check"] is False and nonsense.get("intent")["name"] == "nlu_fallback"
    assert known.get("safety_net")["check"] is True
    assert sure.get("intent")["name"] == "danger_now"
    assert rule.get("intent")["name"] == "danger_now" and rule.get("safety_net")["source"] == "rules"
