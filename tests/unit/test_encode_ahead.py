"""A message's vector computed as it arrives is the vector the pipeline would compute."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components import encode_ahead
from bot.components.sentence_encoder import VECTOR, SentenceEncoderFeaturizer, vector_of
from bot.components.text_normaliser import TextNormaliser
from bot.text.encoder import get_encoder
from bot.text.normalise import for_understanding

# Typed with things the normaliser changes (a zero-width space, look-alike letters).
TYPED = ["he\u200bs got a knife", "I need h\u0435lp with my carer", "what is financial abuse", "/greet"]


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setenv("MSP_ENCODE_AHEAD", "1")
    get_encoder()  # the Rasa server has loaded it
    encode_ahead.clear()
    encode_ahead.stats.update(started=0, taken=0, missed=0)
    yield
    encode_ahead.clear()


def read(text: str) -> Message:
    """What the pipeline does up to the featurizer: normalise, then featurize one message."""
    message = Message({TEXT: text})
    TextNormaliser({}).process([message])
    SentenceEncoderFeaturizer({"scale": 20.0}, "enc").process([message])
    return message


@pytest.mark.parametrize("text", TYPED)
def test_the_vector_taken_is_the_vector_computed_in_the_pipeline(text):
    plain = read(text)
    assert encode_ahead.stats["taken"] == 0
    encode_ahead.start(text)
    ahead = read(text)
    assert encode_ahead.stats["taken"] == 1
    assert np.array_equal(vector_of(ahead), vector_of(plain))
    assert np.array_equal(ahead.features[0].features, plain.features[0].features)
    assert ahead.get(TEXT) == for_understanding(text)


def test_each_vector_is_taken_once_and_a_second_read_computes_it():
    encode_ahead.start(TYPED[0])
    read(TYPED[0])
    second = read(TYPED[0])
    assert encode_ahead.stats == {"started": 1, "taken": 1, "missed": 1}
    assert vector_of(second) is not None


def test_a_different_text_in_the_pipeline_is_not_given_the_vector_started():
    encode_ahead.start("my son takes my money")
    # The pipeline's text differs from the normalised text started (as when a
    # guard replaces it): the vector is not used.
    assert encode_ahead.take("my son takes my money", "something else") is None
    assert encode_ahead.stats["missed"] == 1


def test_a_failed_encoding_leaves_the_pipeline_to_encode(monkeypatch):
    def broken(text):
        raise RuntimeError("encoder failed")

    monkeypatch.setattr(encode_ahead, "_encode", broken)
    encode_ahead.start(TYPED[2])
    message = read(TYPED[2])
    assert encode_ahead.stats == {"started": 1, "taken": 0, "missed": 1}
    assert np.allclose(vector_of(message), get_encoder().encode([TYPED[2]])[0])


def test_it_runs_on_its_own_thread():
    names = []
    real = encode_ahead._encode

    def spy(text):
        names.append(threading.current_thread().name)
        return real(text)

    encode_ahead._encode, saved = spy, real
    try:
        encode_ahead.start("hello")
        read("hello")
    finally:
        encode_ahead._encode = saved
    assert names and names[0].startswith("msp-encode-ahead")


def test_at_most_max_ahead_wait_and_the_oldest_go_first(monkeypatch):
    monkeypatch.setattr(encode_ahead, "MAX_AHEAD", 3)
    for i in range(5):
        encode_ahead.start(f"message {i}")
    assert list(encode_ahead._AHEAD) == ["message 2", "message 3", "message 4"]


def test_switched_off_or_without_the_encoder_nothing_starts(monkeypatch):
    monkeypatch.setenv("MSP_ENCODE_AHEAD", "0")
    encode_ahead.start("hello")
    monkeypatch.setenv("MSP_ENCODE_AHEAD", "1")
    monkeypatch.setattr(encode_ahead, "_encoder_loaded", lambda: False)
    encode_ahead.start("hello")
    encode_ahead.start(None)
    encode_ahead.start("")
    assert encode_ahead.stats["started"] == 0 and not encode_ahead._AHEAD


def test_training_batches_never_take_vectors():
    encode_ahead.start("hello")
    messages = [Message({TEXT: "hello"}), Message({TEXT: "goodbye"})]
    SentenceEncoderFeaturizer({}, "enc").process(messages)
    assert all(m.get(VECTOR) is not None for m in messages)
    assert encode_ahead.stats["taken"] == 0 and "hello" in encode_ahead._AHEAD
