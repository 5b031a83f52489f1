"""End-of-enquiry feedback surveys: request, safe times, answers, SMS texts, reminders.

Pure helpers (``safe_times``, ``answers``, ``texts``) do no I/O; ``request``
and ``scheduler`` use ``bot.records``.
"""
