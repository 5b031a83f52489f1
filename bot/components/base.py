"""Shared plumbing for our NLU components: rule-only ones and ones that keep a little JSON."""
from __future__ import annotations

import abc
import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


ROOT = Path(__file__).resolve().parent.parent.parent


def files_fingerprint(names: List[str]) -> str:
    """SHA-256 over the named files (paths from the project root) and their bytes."""
    digest = hashlib.sha256()
    for name in names:
        path = ROOT / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


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

    # Code outside the class that decides what is trained (paths from the
    # project root). Rasa's cache key covers the class's own source and its
    # config only; these files and the contents of ``training_files`` are
    # added (``fingerprint_addon``), so a change to either trains the
    # component again instead of restoring a stale one from the cache.
    CODE_FILES: tuple = ()

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        names = list(cls.CODE_FILES) + [str(name) for name in (config or {}).get("training_files") or []]
        return files_fingerprint(names) if names else None

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
