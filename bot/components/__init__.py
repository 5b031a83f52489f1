"""Rasa-side code: NLU components, the policy, the response generator, the tracker store.

Only the Rasa server imports this package (the action server imports
``bot.actions``), so it is where the server's one speed-up is installed
(``speedups``: event types looked up once, not on every stored event).
"""
from bot.components import speedups

speedups.install()
