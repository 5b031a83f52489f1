"""`make validate`: Rasa's data validation that fails on any warning and knows
that a form asks its own questions.

    .venv/bin/python -m scripts.validate            # config.yml, domain.yml, bot/data
    .venv/bin/python -m scripts.validate --help

Rasa 3.6's `rasa data validate` warns about every response that no story or
rule names ("The utterance 'utter_ask_outcomes_form_outcome_role' is not used
in any story or rule."). A form's question is never named in a story: Rasa's
form sends it itself, after its validation action has set `requested_slot`,
looking for `action_ask_<form>_<slot>`, `utter_ask_<form>_<slot>`,
`action_ask_<slot>` and `utter_ask_<slot>`, in that order. Naming it in a story
would ask the question twice, and the only way to quieten the stock check is a
custom `action_ask_...` action per slot, which costs a second call to the
action server for every question of the form.

So this runs the same checks as `rasa data validate --fail-on-warnings`, with
one change: the response that Rasa's form search (`FormAction
._name_of_utterance`) finds for each required slot of each form counts as used.
Only that response: one shadowed by an earlier name on the search path, one for
a slot no form requires, and every other unused response are still reported.
A story or rule that names a form's question is reported too (as "not a valid
utterance action"), because the form already asks it.

It is also stricter than the stock command, which in Rasa 3.6.21 exits 0 after
warning about unused intents or responses: here any warning Rasa raises while
validating fails the run, except KNOWN_RASA_NOISE (raised for every domain
with slots, whatever the data says).

Check this when upgrading Rasa: it overrides `Validator._gather_utterance_actions`
and calls `FormAction._name_of_utterance`, both private
(`tests/unit/test_validate.py` pins the version and both names).
"""
from __future__ import annotations

import argparse
import logging
import sys
import warnings
from typing import List, Optional, Set, Text

from rasa.core.actions.forms import FormAction
from rasa.shared.core.domain import Domain
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.validator import Validator

#: Rasa 3.6.21 raises this for every domain that has slots, whatever their
#: mappings (rasa/shared/core/slot_mappings.py: validate_slot_mappings warns
#: unconditionally); it says nothing about our data.
KNOWN_RASA_NOISE = ("Slot auto-fill has been removed in 3.0",)


def form_questions(domain: Domain) -> Set[Text]:
    """The responses Rasa's forms ask their required slots with (not custom ask actions)."""
    found: Set[Text] = set()
    for form in domain.form_names:
        asker = FormAction(form, None)
        for slot in domain.required_slots_for_form(form):
            name = asker._name_of_utterance(domain, slot)
            if name is not None and name in domain.responses:
                found.add(name)
    return found


class FormAwareValidator(Validator):
    """Rasa's Validator, counting each form's questions as used (the form sends them)."""

    def _gather_utterance_actions(self) -> Set[Text]:
        return super()._gather_utterance_actions() - form_questions(self.domain)


def validate(validator: Validator, max_history: Optional[int] = None) -> bool:
    """Rasa's checks, in the order `rasa data validate` runs them; False if any fails."""
    results = [
        validator.verify_domain_validity(),
        validator.verify_actions_in_stories_rules(),
        validator.verify_forms_in_stories_rules(),
        validator.verify_form_slots(),
        validator.verify_slot_mappings(),
        validator.verify_nlu(ignore_warnings=False),
        validator.verify_story_structure(ignore_warnings=False, max_history=max_history),
    ]
    validator.warn_if_config_mandatory_keys_are_not_set()
    return all(results)


def complaints(caught: List[warnings.WarningMessage]) -> List[str]:
    """Every warning Rasa raised while validating, less its known noise."""
    return [str(w.message) for w in caught
            if issubclass(w.category, UserWarning)
            and not any(noise in str(w.message) for noise in KNOWN_RASA_NOISE)]


def parse(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.validate",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="config.yml")
    p.add_argument("--domain", default="domain.yml")
    p.add_argument("--data", nargs="+", default=["bot/data"])
    p.add_argument("--max-history", type=int, default=None,
                   help="events looked back at when checking stories for conflicts")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)-8s %(name)s  - %(message)s")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importer = TrainingDataImporter.load_from_config(
            config_path=args.config, domain_path=args.domain, training_data_paths=args.data)
        validator = FormAwareValidator.from_importer(importer)
        if validator.domain.is_empty():
            print("The domain is empty.", file=sys.stderr)
            return 1
        passed = validate(validator, args.max_history)
    found = complaints(caught)
    for message in found:
        print(f"UserWarning: {message}", file=sys.stderr)
    if passed and not found:
        print("Validation passed: no warnings. Form questions counted as used: "
              + ", ".join(sorted(form_questions(validator.domain))))
        return 0
    print(f"Validation failed: {len(found)} warning(s)"
          + ("" if passed else "; a check failed (see the log above)"), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
