"""SMS through Twilio: texts, keywords, the Twilio client and the outbox sender.

The inbound webhook is ``bot/channels/sms.py`` (in the Rasa server); replies
are put in the durable outbox (``bot.records.sms``) and sent by
``python -m bot.sms.sender`` through the Twilio Messages API.
"""
