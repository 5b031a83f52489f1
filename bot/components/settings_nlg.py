"""Response generator that fills local details from ``bot.settings``.

Responses in ``domain.yml`` say ``{council_phone}`` rather than a number; this
generator adds every setting to the values Rasa interpolates, so one settings
source reaches every reply. A slot with the same name would win, but none do
(``tests/unit/test_domain_content.py`` checks).

Two responses also get buttons that depend on the conversation, made here on
the Rasa server so that asking needs no call to the action server:
``utter_ask_harm_kind`` (the likely kinds HarmGate found) and
``utter_ask_outcomes_form_outcome_pick`` (one button per outcome the person has
on record, from the ``outcome_choices`` slot that ``validate_outcomes_form``
filled from the records in the same turn).
"""
from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.settings import get_settings


class SettingsNLG(TemplatedNaturalLanguageGenerator):
    def __init__(
        self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None
    ) -> None:
        domain = domain or Domain.empty()
        super().__init__(domain.responses)
        self._values = get_settings().as_dict()

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        filled: Dict[Text, Any] = dict(self._values)
        filled.update(tracker.current_slot_values())
        message = self.generate_from_slots(utter_action, filled, output_channel, **kwargs)
        if message is not None and utter_action == HARM_KIND_RESPONSE:
            message = dict(message)
            message["buttons"] = harm_kind_buttons(latest_candidates(tracker)) + list(message.get("buttons") or [])
        if message is not None and utter_action == PICK_OUTCOME_RESPONSE:
            message = dict(message)
            message["buttons"] = outcome_buttons(tracker.get_slot("outcome_choices")) + list(message.get("buttons") or [])
        return message


HARM_KIND_RESPONSE = "utter_ask_harm_kind"
PICK_OUTCOME_RESPONSE = "utter_ask_outcomes_form_outcome_pick"
#: Words of the person's outcome shown on its button (the number is what it sends).
BUTTON_WORDS = 6


def button_title(number: int, text: str) -> str:
    """"2: I want him to stay away…": a number and the first few words."""
    words = str(text).split()
    short = " ".join(words[:BUTTON_WORDS]) + ("…" if len(words) > BUTTON_WORDS else "")
    return f"{number}: {short}"


def outcome_buttons(choices: Any) -> List[Dict[Text, Any]]:
    """One button per outcome (``[{"id", "text"}, ...]``, oldest first), each sending its number."""
    if not isinstance(choices, list):
        return []
    return [{"title": button_title(n, choice.get("text", "")), "payload": str(n)}
            for n, choice in enumerate(choices, 1) if isinstance(choice, dict)]


def latest_candidates(tracker: DialogueStateTracker) -> List[str]:
    """The likely kinds HarmGate found in the person's latest message (never an older one)."""
    latest = tracker.latest_message
    gate = ((latest.parse_data if latest else None) or {}).get("harm_gate") or {}
    return list(gate.get("candidates") or [])
# Plain words for each kind, as the person would say it (the button's payload
# asks about that kind, so the next reply explains it).
HARM_KIND_TITLES = {
    "physical": "Being hit, pushed or hurt",
    "domestic": "Harm from a partner or family",
    "sexual": "Sexual touching or acts I did not want",
    "psychological": "Threats, put-downs or being controlled",
    "financial": "Money or things taken",
    "modern_slavery": "Made to work, or not free to leave",
    "discriminatory": "Treated badly for who I am",
    "organisational": "Poor care in a home or service",
    "neglect": "Not being cared for",
    "self_neglect": "Not able to look after myself",
    "sexual_exploitation": "Made to do sexual things for something",
}
GENERAL_CHOICE = {"title": "Kinds of abuse", "payload": "/ask_types_of_abuse"}


def harm_kind_buttons(candidates: Any) -> List[Dict[Text, Any]]:
    """Buttons for the likely kinds (HarmGate's candidates), then 'kinds of abuse'."""
    buttons = []
    for kind in candidates if isinstance(candidates, list) else []:
        if kind in HARM_KIND_TITLES:
            buttons.append({"title": HARM_KIND_TITLES[kind], "payload": f"/ask_about_{kind}"})
    return buttons + [GENERAL_CHOICE]
