"""Regenerate the feedback responses at the end of domain.yml (exclusive conditions; SMS variants for every case).

Run from the project root: .venv/bin/python scripts/feedback_responses.py
"""
import yaml

SMS_ANS = " Reply 1 yes, 2 partly, 3 no, 4 don't know, 5 rather not say, or SKIP."
ANS_BUTTONS = [{"title": t, "payload": t} for t in ("Yes", "Partly", "No", "Don't know", "Prefer not to say", "Skip")]
SAFE_BUTTONS = ([{"title": "1 Not safe at all", "payload": "1"}] + [{"title": str(n), "payload": str(n)} for n in (2, 3, 4)]
                + [{"title": "5 Very safe", "payload": "5"}]
                + [{"title": t, "payload": t} for t in ("Don't know", "Prefer not to say", "Skip")])
CHANGE_BUTTONS = [{"title": t, "payload": t} for t in ("Better", "The same", "Worse", "Don't know", "Prefer not to say", "Skip")]
OUTCOME_BUTTONS = [{"title": "Yes, fully", "payload": "Fully"}] + [{"title": t, "payload": t} for t in ("Partly", "No", "Don't know", "Skip")]


def cond(**slots):
    return [{"type": "slot", "name": k, "value": v} for k, v in slots.items()]


def question(you, they, web_hint, sms_hint, buttons, sms_you=None, sms_they=None):
    """8 variations: retry x rep x (sms, web), all with exclusive conditions, and a plain default.

    ``sms_you``/``sms_they``: shorter words for SMS, where one segment is 160 characters."""
    out = []
    for retry in (True, False):
        for rep in (True, False):
            words = they if rep else you
            sms_words = (sms_they or they) if rep else (sms_you or you)
            sorry_sms = "Sorry, I didn't get that. " if retry else ""
            sorry_web = "Sorry, I didn't understand that. " if retry else ""
            out.append({"condition": cond(fb_retry=retry, fb_rep=rep), "channel": "twilio",
                        "text": sorry_sms + sms_words + sms_hint})
            web = {"condition": cond(fb_retry=retry, fb_rep=rep),
                   "text": sorry_web + words + (web_hint if retry else "")}
            web["buttons"] = buttons
            out.append(web)
    out.append({"channel": "twilio", "text": (sms_you or you) + sms_hint})
    out.append({"text": you, "buttons": buttons})
    return out


R = {}
R["utter_feedback_opening"] = [
    {"condition": cond(fb_rep=True), "channel": "twilio",
     "text": "Thank you. Please answer for the person you support. About 10 short questions. Reply SKIP to skip one. The team who worked with them will read your answers."},
    {"condition": cond(fb_rep=True),
     "text": "Thank you for helping the person you support. {council_name} would like to know how things went for them. There are about 10 short questions. It takes about {feedback_minutes} minutes. Please answer for them as best you can. You can skip any question, and stop at any time. The team who worked with them will read your answers."},
    {"channel": "twilio",
     "text": "Thank you. About 10 short questions, about {feedback_minutes} minutes. Reply SKIP to skip one. The team who worked with you will read your answers."},
    {"text": "Thank you for coming back. {council_name} would like to know how things went for you. There are about 10 short questions. It takes about {feedback_minutes} minutes. You can skip any question, and stop at any time. The team who worked with you will read your answers."},
]
WEB = " Please press a button or type a number."
Q = [("fb_goals", "Did you get what you wanted to happen?", "Did they get what they wanted to happen?"),
     ("fb_say", "Did we give you a chance to say what you wanted to happen next? And did we tell you how things were going?",
      "Did we give them a chance to say what they wanted to happen next? And did we tell them how things were going?"),
     ("fb_listened", "Did you feel listened to?", "Did they feel listened to?"),
     ("fb_acted", "Did we act on your wishes and views?", "Did we act on their wishes and views?"),
     ("fb_safe", "Do you feel as safe as you want to feel?", "Do they feel as safe as they want to feel?"),
     ("fb_happier", "Do you feel happier because of the help you got?", "Do they feel happier because of the help they got?")]
SMS_WORDS = {"fb_say": ("Could you say what you wanted? Were you told how it went?",
                        "Could they say what they wanted? Were they told how it went?")}
for slot, you, they in Q:
    R[f"utter_ask_feedback_form_{slot}"] = question(you, they, WEB, SMS_ANS, ANS_BUTTONS, *SMS_WORDS.get(slot, ()))
R["utter_ask_feedback_form_fb_safe_now"] = question(
    "How safe do you feel now? Please pick a number from 1 to 5. 1 means not safe at all. 5 means very safe.",
    "How safe do they feel now? Please pick a number from 1 to 5. 1 means not safe at all. 5 means very safe.",
    " You can also press a button.", " Or reply SKIP.", SAFE_BUTTONS)
R["utter_ask_feedback_form_fb_safe_change"] = question(
    "Is that better, the same or worse than when we first got involved?",
    "Is that better, the same or worse for them than when we first got involved?",
    WEB, " Reply 1 better, 2 same, 3 worse, 4 don't know, or SKIP.", CHANGE_BUTTONS)
R["utter_ask_feedback_form_fb_outcome"] = question(
    "You said: \"{fb_outcome_text}\" Did that happen?",
    "We wrote down what they wanted: \"{fb_outcome_text}\" Did that happen?",
    WEB, " Reply 1 fully, 2 partly, 3 no, 4 don't know, or SKIP.", OUTCOME_BUTTONS)
R["utter_ask_feedback_form_fb_anything_else"] = [
    {"channel": "twilio", "text": "Is there anything else you want to tell us? Reply in your own words, or NO."},
    {"text": "Is there anything else you want to tell us? Please type it in your own words. Or press No.",
     "buttons": [{"title": "No, that's all", "payload": "No, that's all"}]},
]
PHONE = "call {council_name} on {council_phone}, {council_office_hours}."
R["utter_feedback_done"] = [
    {"condition": cond(fb_end="stopped"), "channel": "twilio",
     "text": "That's fine, we will stop here and keep the answers you gave. Thank you. To talk to us, call {council_phone}."},
    {"condition": cond(fb_end="stopped"),
     "text": "That's fine, we will stop here. We will keep the answers you gave. Thank you for your time. If you want to talk to someone, " + PHONE},
    {"condition": cond(fb_end="lapsed"), "channel": "twilio",
     "text": "Sorry, we can't take answers from this number now. To talk to us, call {council_phone}."},
    {"condition": cond(fb_end="lapsed"),
     "text": "Sorry, this chat is no longer linked to the questions. Please ask your worker for a new link. Or " + PHONE},
    {"condition": cond(fb_end="closed"), "channel": "twilio",
     "text": "These questions have ended, so we can't take more answers. Thank you. To talk to us, call {council_phone}."},
    {"condition": cond(fb_end="closed"),
     "text": "These questions have ended, so I can't take more answers. Thank you. If you want to talk to someone, " + PHONE},
    {"channel": "twilio",
     "text": "Thank you. Your answers are saved. The team will read them and use them to help others. To talk to us, call {council_phone}."},
    {"text": "Thank you. Your answers are saved. The team will read them. They use what people say to make things better. If you want to talk to someone, " + PHONE},
]


class D(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


p = "domain.yml"
s = open(p).read()
marker = "  # The opening is said once before the first question (rules in\n"
head = s.split(marker)[0]
intro = '''  # The opening is said once before the first question (rules in
  # bot/data/rules/feedback.yml). Rasa's form sends utter_ask_feedback_form_<slot>
  # itself when validate_feedback_form sets requested_slot (one call per message).
  # Conditions: fb_rep (a representative or advocate answers: "they") and
  # fb_retry (asked again once after an answer that could not be read), both
  # always true or false while the form runs, so exactly one variation fits.
  # channel twilio: the SMS wording (numbers instead of buttons; no names).
  # This block is generated by scripts/feedback_responses.py: edit it there.
'''
body = yaml.dump(R, Dumper=D, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False, indent=2)
body = "\n".join(("  " + line) if line else line for line in body.splitlines())
open(p, "w").write(head + intro + body + "\n")
