"""Independent advocacy referrals: delivery to the provider (email over SMTP, or a signed webhook).

The records are in ``bot.records.advocacy``; ``python -m bot.advocacy.sender``
delivers them from the durable outbox; ``bot.advocacy.webhook`` signs and
checks webhook requests (a provider can use its ``verify`` as it is).
"""
