"""UnknownWordsFallback: nonsense is 'not understood', never filed under an intent."""
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.unknown_words import UnknownWordsFallback, is_unknown


def test_is_unknown():
    vocab = {"hello", "abuse", "money", "my", "son"}
    assert is_unknown("zzkx qqpl vrrm", vocab)
    assert is_unknown("the zzkx of qqpl", vocab)
    assert not is_unknown("my son takes money", vocab)
    assert not is_unknown("HELLO!!", vocab)
    # Nothing to judge: left to the classifier and the input guard.
    assert not is_unknown("😀", vocab)
    assert not is_unknown("", vocab)
    assert not is_unknown("it is", vocab)


def _trained(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("unknown_words")
    context = ExecutionContext(GraphSchema({}), "t")
    component = UnknownWordsFallback.create({}, storage, resource, context)
    data = TrainingData([Message(data={"text": "what is financial abuse", "intent": "ask_about_financial"}),
                         Message(data={"text": "hello there", "intent": "greet"})],
                        lookup_tables=[{"name": "abuse_kind", "elements": ["coercive control"]}])
    component.train(data)
    return UnknownWordsFallback.load({}, storage, resource, context)


def _message(text, intent="affirm", confidence=0.6):
    m = Message(data={"text": text})
    m.set("intent", {"name": intent, "confidence": confidence})
    m.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return m


def test_trained_vocabulary_survives_persist_and_load(tmp_path):
    loaded = _trained(tmp_path)
    assert {"financial", "abuse", "hello", "coercive", "control"} <= loaded.vocabulary


def test_nonsense_becomes_nlu_fallback_and_known_words_are_untouched(tmp_path):
    loaded = _trained(tmp_path)
    nonsense, known = _message("asdfgh qwerty"), _message("is this abuse", "ask_types_of_abuse", 0.7)
    loaded.process([nonsense, known])
    assert nonsense.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert nonsense.get("intent_ranking")[1]["name"] == "affirm"
    assert known.get("intent") == {"name": "ask_types_of_abuse", "confidence": 0.7}


def test_an_invitation_code_decides_the_intent():
    from bot.components.invite_code import InviteCodeIntent

    with_code = _message("XR5T-9PLW", "affirm", 0.5)
    with_code.set("entities", [{"entity": "invite_code", "value": "XR5T-9PLW", "start": 0, "end": 9}])
    without = _message("yes please", "affirm", 0.9)
    InviteCodeIntent().process([with_code, without])
    assert with_code.get("intent") == {"name": "inform_invite_code", "confidence": 1.0}
    assert without.get("intent") == {"name": "affirm", "confidence": 0.9}


def test_only_a_message_naming_the_referral_can_ask_to_cancel_it():
    from bot.components.cancel_advocacy import CancelAdvocacyGuard

    bare = _message("cancel", "cancel_advocacy", 0.52)
    named = _message("plz cancel the advocat referal", "cancel_advocacy", 0.8)
    other = _message("stop", "goodbye", 0.6)
    CancelAdvocacyGuard().process([bare, named, other])
    assert bare.get("intent") == {"name": "nlu_fallback", "confidence": 0.52}
    assert bare.get("intent_ranking")[0]["name"] == "nlu_fallback"
    assert named.get("intent") == {"name": "cancel_advocacy", "confidence": 0.8}
    assert other.get("intent") == {"name": "goodbye", "confidence": 0.6}


def test_a_message_with_no_code_is_not_about_a_code():
    from bot.components.invite_code import InviteCodeIntent

    def guessed(text, ranking):
        m = _message(text, ranking[0][0], ranking[0][1])
        m.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
        return m

    number = guessed("2", [("inform_invite_code", 0.31), ("deny", 0.28), ("affirm", 0.13)])
    unsure = guessed("hmm", [("inform_invite_code", 0.3), ("greet", 0.2)])
    slip = guessed("my code is XR5T9PL", [("inform_invite_code", 0.6), ("affirm", 0.1)])
    mistyped = guessed("xr5t 9plw", [("inform_invite_code", 0.5), ("greet", 0.1)])
    InviteCodeIntent().process([number, unsure, slip, mistyped])
    assert number.get("intent") == {"name": "deny", "confidence": 0.28}
    assert [r["name"] for r in number.get("intent_ranking")][:2] == ["deny", "affirm"]
    assert unsure.get("intent")["name"] == "nlu_fallback"
    assert slip.get("intent")["name"] == "inform_invite_code"
    assert mistyped.get("intent")["name"] == "inform_invite_code"
