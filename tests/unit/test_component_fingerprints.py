"""Rasa's training cache must not restore a component whose training files or helper code changed.

Rasa keys its cache on a component's class source and config only; ``fingerprint_addon``
(bot/components/base.py) adds the contents of ``training_files`` and the helper modules.
"""
from __future__ import annotations

from rasa.engine.training import fingerprinting

from bot.components.learned_danger import LearnedDanger
from bot.components.neighbour_vote import NeighbourVote
from bot.components.sentence_encoder import SentenceEncoderFeaturizer


def key(component, config):
    return fingerprinting.calculate_fingerprint_key(component, config, {})


def test_a_changed_training_file_changes_the_cache_key(tmp_path):
    data = tmp_path / "danger.yml"
    data.write_text("positives_now:\n- he is hitting me\n")
    config = {"training_files": [str(data)], "c": 4.0}
    before = key(LearnedDanger, config)
    assert key(LearnedDanger, config) == before  # stable while nothing changes
    data.write_text("positives_now:\n- he is hitting me now\n")
    assert key(LearnedDanger, config) != before


def test_changed_helper_code_changes_the_cache_key(tmp_path, monkeypatch):
    code = tmp_path / "helper.py"
    code.write_text("N_SPLITS = 4\n")
    monkeypatch.setattr(LearnedDanger, "CODE_FILES", (str(code),))
    before = key(LearnedDanger, {"training_files": []})
    code.write_text("N_SPLITS = 2\n")
    assert key(LearnedDanger, {"training_files": []}) != before


def test_the_real_components_name_their_helper_code():
    assert "bot/text/learned_danger.py" in LearnedDanger.CODE_FILES
    assert LearnedDanger.fingerprint_addon({"training_files": []}) is not None
    assert len(SentenceEncoderFeaturizer.fingerprint_addon({}) or "") == 64
    assert NeighbourVote.fingerprint_addon({}) is None  # everything it uses comes through the graph
