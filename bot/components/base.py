"""Shared plumbing for our NLU components: rule-only ones and ones that keep a little JSON."""
from __future__ import annotations

import abc
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class RuleComponent(GraphComponent):
    """An NLU component configured only by ``config`` and never trained.

    Subclasses implement ``process_message``; training data passes through.
    """

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        self.config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RuleComponent":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self.process_message(message)
        return messages

    @abc.abstractmethod
    def process_message(self, message: Message) -> None:
        """Change ``message`` in place."""


class TrainedComponent(GraphComponent):
    """An NLU component that learns something small and keeps it as JSON.

    Subclasses implement ``train`` (ending with ``self.save_json(...)``) and
    build themselves from ``load_json`` in ``load``; training data passes
    through unchanged.
    """

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **(config or {})}
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TrainedComponent":
        return cls(config, model_storage, resource)

    def save_json(self, file_name: str, data: Any) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / file_name).write_text(json.dumps(data))
        return self._resource

    @staticmethod
    def load_json(model_storage: ModelStorage, resource: Resource, file_name: str) -> Any:
        with model_storage.read_from(resource) as directory:
            return json.loads((Path(directory) / file_name).read_text())

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
