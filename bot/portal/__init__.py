"""The staff portal (Flask): ``create_app(config)``; ``python -m bot.portal`` serves it."""
from .app import create_app

__all__ = ["create_app"]
