from __future__ import annotations

import uuid

import pytest

from scripts.stack import Stack, free_port, new_token


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var")
    # A token starting with "-" (one random token in 64 does): `rasa run` once took
    # it for an option and would not start. Every integration module checks it works.
    # The REST channel needs its own token (bot/channels/rest.py).
    s = Stack(model=trained_model, rasa_port=free_port(), actions_port=free_port(),
              var_dir=var_dir, token="-" + new_token(), log_dir=var_dir / "logs",
              rest_token=new_token())
    s.start()
    yield s
    s.stop()


@pytest.fixture
def sender():
    # REST senders live in the "rest-" namespace (bot/channels/namespaces.py).
    return f"rest-test-{uuid.uuid4().hex}"
