"""Rasa-side code: NLU components, the policy, the response generator, the tracker store.

Only the Rasa server imports this package (the action server imports
``bot.actions``), so it is where the server's speed-ups are installed
(``speedups``: event types looked up once, not on every stored event; the
action server's answers checked against a schema compiled once), and where a
failed call to the action server becomes a kind reply instead of silence
(``action_guard``), and where a message is read on a worker thread so the
event loop keeps the other conversations moving (``offload``).
"""
from bot.components import action_guard, offload, speedups

speedups.install()
action_guard.install()
offload.install()
