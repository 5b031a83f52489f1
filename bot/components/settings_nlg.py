"""Response generator that fills local details from ``bot.settings``.

Responses in ``domain.yml`` say ``{council_phone}`` rather than a number; this
generator adds every setting to the values Rasa interpolates, so one settings
source reaches every reply. A slot with the same name would win, but none do
(``tests/unit/test_domain_content.py`` checks).
"""
from typing import Any, Dict, Optional, Text

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
        return self.generate_from_slots(utter_action, filled, output_channel, **kwargs)
