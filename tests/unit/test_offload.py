"""The NLU pipeline runs on a worker thread; everything else in parse_message is Rasa's."""
import asyncio
import inspect
import threading

import pytest
import rasa
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from bot.components import offload


def test_rasa_version_and_the_wrapped_method_are_the_ones_it_was_written_for():
    assert rasa.__version__.startswith("3.6."), rasa.__version__
    assert list(inspect.signature(offload._ORIGINAL_PARSE).parameters) == [
        "self", "message", "tracker", "only_output_properties"]
    source = inspect.getsource(offload._ORIGINAL_PARSE)
    # The steps copied here, in Rasa's order.
    steps = ["self.http_interpreter", "self._parse_message_with_graph(", "self._update_full_retrieval_intent(",
             '"processor.message.parse"', "self._check_for_unseen_features("]
    positions = [source.index(step) for step in steps]
    assert positions == sorted(positions)
    assert MessageProcessor.parse_message is offload.parse_message  # installed with bot.components


class Processor:
    """The parts of MessageProcessor that parse_message uses, recording where they ran."""

    http_interpreter = None

    def __init__(self, fail=False):
        self.threads = {}
        self.fail = fail

    def _parse_message_with_graph(self, message, tracker, only_output_properties=True):
        self.threads["graph"] = threading.current_thread().name
        if self.fail:
            raise RuntimeError("pipeline failed")
        return {"text": message.text, "intent": {"name": "greet", "confidence": 1.0}, "entities": [],
                "sender": tracker.sender_id, "only_output": only_output_properties}

    def _update_full_retrieval_intent(self, parse_data):
        self.threads["retrieval"] = threading.current_thread().name
        parse_data["updated"] = True

    def _check_for_unseen_features(self, parse_data):
        self.threads["unseen"] = threading.current_thread().name


def test_the_pipeline_runs_off_the_event_loop_and_the_result_is_rasas(monkeypatch):
    monkeypatch.setenv("MSP_PARSE_THREAD", "1")
    processor = Processor()

    async def run():
        loop_thread = threading.current_thread().name
        parsed = await offload.parse_message(processor, UserMessage("hello", sender_id="s1"), None, False)
        return loop_thread, parsed

    loop_thread, parsed = asyncio.run(run())
    assert processor.threads["graph"].startswith("msp-parse")
    assert processor.threads["graph"] != loop_thread
    assert processor.threads["retrieval"] == loop_thread == processor.threads["unseen"]
    assert parsed == {"text": "hello", "intent": {"name": "greet", "confidence": 1.0}, "entities": [],
                      "sender": "s1", "only_output": False, "updated": True}


def test_off_it_is_rasas_own_method(monkeypatch):
    monkeypatch.setenv("MSP_PARSE_THREAD", "0")
    processor = Processor()

    async def run():
        return threading.current_thread().name, await offload.parse_message(processor, UserMessage("hi"))

    loop_thread, parsed = asyncio.run(run())
    assert processor.threads["graph"] == loop_thread
    assert parsed["updated"] is True


def test_a_failure_in_the_pipeline_reaches_rasa_unchanged(monkeypatch):
    monkeypatch.setenv("MSP_PARSE_THREAD", "1")
    with pytest.raises(RuntimeError, match="pipeline failed"):
        asyncio.run(offload.parse_message(Processor(fail=True), UserMessage("hi")))


def test_the_loop_keeps_working_while_a_message_is_read(monkeypatch):
    monkeypatch.setenv("MSP_PARSE_THREAD", "1")
    started, release = threading.Event(), threading.Event()

    class Slow(Processor):
        def _parse_message_with_graph(self, message, tracker, only_output_properties=True):
            started.set()
            assert release.wait(10), "the event loop was blocked"
            return super()._parse_message_with_graph(message, tracker, only_output_properties)

    async def run():
        task = asyncio.ensure_future(offload.parse_message(Slow(), UserMessage("hi")))
        while not started.is_set():
            await asyncio.sleep(0.01)
        # The pipeline is still running: the loop can do other work, here release it.
        release.set()
        return await task

    assert asyncio.run(run())["intent"]["name"] == "greet"
