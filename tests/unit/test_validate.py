"""scripts/validate.py: Rasa's checks, failing on any warning, with form questions counted as used."""
from __future__ import annotations

import textwrap

import pytest
import rasa
from rasa.core.actions.forms import FormAction
from rasa.validator import Validator

from scripts import validate

CONFIG = """\
recipe: default.v1
assistant_id: validate-test
language: en
pipeline: []
policies:
  - name: RulePolicy
"""

NLU = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hello
      - hi there
  - intent: start
    examples: |
      - start the form
      - begin please
"""

RULES = """\
version: "3.1"
rules:
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
  - rule: start the form
    steps:
      - intent: start
      - action: pet_form
      - active_loop: pet_form
  - rule: form done
    condition:
      - active_loop: pet_form
    steps:
      - action: pet_form
      - active_loop: null
      - slot_was_set:
          - requested_slot: null
      - action: utter_done
"""


def project(tmp_path, responses: str, actions: str = "", rules: str = RULES):
    """A small Rasa project: a form asking `pet_name` and `pet_kind`, and `responses`."""
    domain = textwrap.dedent("""\
        version: "3.1"
        intents:
          - greet
          - start
        slots:
          pet_name:
            type: text
            influence_conversation: false
            mappings:
              - type: from_text
          pet_kind:
            type: text
            influence_conversation: false
            mappings:
              - type: from_text
        forms:
          pet_form:
            required_slots:
              - pet_name
              - pet_kind
        responses:
          utter_greet:
            - text: "Hello."
          utter_done:
            - text: "Thank you."
        """) + textwrap.indent(textwrap.dedent(responses), "  ") + actions
    (tmp_path / "config.yml").write_text(CONFIG)
    (tmp_path / "domain.yml").write_text(domain)
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(NLU)
    (data / "rules.yml").write_text(rules)
    return ["--config", str(tmp_path / "config.yml"), "--domain", str(tmp_path / "domain.yml"),
            "--data", str(data)]


ASKS_BOTH = """\
utter_ask_pet_form_pet_name:
  - text: "What is your pet called?"
utter_ask_pet_kind:
  - text: "What kind of animal is it?"
"""


def test_the_questions_a_form_asks_count_as_used(tmp_path, capsys):
    assert validate.main(project(tmp_path, ASKS_BOTH)) == 0
    out = capsys.readouterr()
    assert "UserWarning" not in out.err
    assert "utter_ask_pet_form_pet_name, utter_ask_pet_kind" in out.out


def test_the_stock_validator_flags_them_and_ours_does_not(tmp_path):
    """Why scripts/validate.py exists: stock Rasa calls a form's questions unused."""
    from rasa.shared.importers.importer import TrainingDataImporter

    args = validate.parse(project(tmp_path, ASKS_BOTH))
    importer = TrainingDataImporter.load_from_config(
        config_path=args.config, domain_path=args.domain, training_data_paths=args.data)
    stock = Validator.from_importer(importer)
    ours = validate.FormAwareValidator.from_importer(importer)
    questions = {"utter_ask_pet_form_pet_name", "utter_ask_pet_kind"}
    assert questions <= stock._gather_utterance_actions()
    assert not questions & ours._gather_utterance_actions()
    assert validate.form_questions(ours.domain) == questions


def test_an_unused_response_still_fails(tmp_path, capsys):
    responses = ASKS_BOTH + 'utter_nobody_says_this:\n  - text: "Nobody asks for this."\n'
    assert validate.main(project(tmp_path, responses)) == 1
    err = capsys.readouterr().err
    assert "UserWarning: The utterance 'utter_nobody_says_this' is not used" in err
    assert "utter_ask_pet_form_pet_name" not in err


def test_a_question_the_form_never_uses_still_fails(tmp_path, capsys):
    # utter_ask_pet_name is shadowed: the form finds utter_ask_pet_form_pet_name first.
    responses = ASKS_BOTH + 'utter_ask_pet_name:\n  - text: "And its name?"\n'
    assert validate.main(project(tmp_path, responses)) == 1
    assert "'utter_ask_pet_name' is not used" in capsys.readouterr().err


def test_a_question_asked_by_a_custom_action_is_not_excused(tmp_path, capsys):
    # The form asks pet_kind with the custom action; the response is then unused.
    actions = "actions:\n  - action_ask_pet_form_pet_kind\n"
    assert validate.main(project(tmp_path, ASKS_BOTH, actions)) == 1
    assert "'utter_ask_pet_kind' is not used" in capsys.readouterr().err


def test_an_unused_intent_fails_although_stock_rasa_exits_0(tmp_path, capsys):
    rules = RULES.replace("  - rule: greet\n    steps:\n      - intent: greet\n      - action: utter_greet\n", "")
    responses = ASKS_BOTH
    args = project(tmp_path, responses, rules=rules)
    assert validate.main(args) == 1
    err = capsys.readouterr().err
    assert "The intent 'greet' is not used in any story or rule" in err


def test_rasa_version_and_the_private_names_relied_on():
    """scripts/validate.py overrides and calls private Rasa code: check it on upgrade."""
    assert rasa.__version__ == "3.6.21"
    assert callable(Validator._gather_utterance_actions)
    assert callable(FormAction._name_of_utterance)


@pytest.mark.parametrize("noise, kept", [
    ("Slot auto-fill has been removed in 3.0 and replaced with a new explicit mechanism", False),
    ("The utterance 'utter_x' is not used in any story or rule.", True),
])
def test_only_rasas_known_noise_is_left_out(noise, kept):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(noise, UserWarning)
    assert validate.complaints(caught) == ([noise] if kept else [])
