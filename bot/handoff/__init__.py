"""Live handoff to a member of staff (issue 13, part 1).

``hours``     when staff are on duty to chat (days, hours, bank holidays)
``texts``     what the person is shown when a member of staff joins, writes, hands back
``rasa_api``  the portal's client for Rasa's token-protected HTTP API (a worker's
              words go into the conversation, and out through the person's channel)
``sms``       a handoff by SMS: staff's words and the notices through the durable outbox
``timeouts``  nobody claimed in time, or the worker stopped answering: tell the person; duty emails

The records (``bot.records.handoffs``) are the truth; the ``handoff`` slot is a
copy that lets ``SafeguardPolicy`` keep the assistant silent without a lookup.
"""
