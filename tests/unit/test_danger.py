"""The danger net: rules only, many phrasings, and quiet about the past."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.text.danger import check_input, detect, normalise
from bot.text.danger_eval import evaluate, load

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

# Floors per labelled set (recall at least, false alarms at most).
# danger_labelled.yml is the development set the rules were written against.
# danger_blind.yml and danger_blind2.yml were each written blind, by someone who
# had not seen the rules; on first measurement the rules found 60% (blind) and
# about 69% (blind2) of the dangerous messages, with 7% false alarms. Both were
# then used to widen the rules, so they are regression sets now, and the first
# measurements are the honest estimate of how the rules do on unseen phrasings
# (README, "How it keeps people safe").
FLOORS = {
    "danger_labelled.yml": (0.98, 0.02),
    "danger_blind.yml": (0.98, 0.03),
    "danger_blind2.yml": (0.98, 0.03),
    # Written by a third author before reading the rules; its honest figure
    # when added was recall 0.873, false alarms 0.190. In session 10 its false
    # alarms were read and the rules widened (13 of 105 -> 1), so it is a
    # regression set now, not an honest one.
    "danger_blind3.yml": (0.85, 0.03),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_recall_and_false_alarms_meet_the_floor(name):
    result = evaluate(DATA / name)
    min_recall, max_false_alarms = FLOORS[name]
    print(f"\n{name}: recall {result['recall']:.3f}, false alarms {result['false_alarm_rate']:.3f}")
    assert result["recall"] >= min_recall, result["misses"]
    assert result["false_alarm_rate"] <= max_false_alarms, result["false_alarms"]
    if name != "danger_blind3.yml":
        # blind3's author labelled someone else's suicidal intent as "now"; we
        # answer it with the suicide reply worded for a third person. Both
        # replies lead with 999, so a kind mix-up there is not a safety miss.
        assert not result["kind_errors"], result["kind_errors"]


def _norm(text):
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def test_labelled_sets_are_kept_apart_from_training_data():
    from rasa.shared.nlu.training_data.loading import load_data

    import yaml

    training = {_norm(m.get("text")) for m in load_data(str(ROOT / "bot" / "data" / "nlu")).training_examples}
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    learned_from = {Path(f).name for c in config["pipeline"] for f in c.get("training_files", [])}
    from bot.text.nlu_eval import HELD_OUT

    assert not ({"danger_blind4_dev.yml", "danger_blind14_dev.yml"} | set(HELD_OUT)) & learned_from
    for path in DATA.glob("danger_*.yml"):
        if path.name in learned_from:
            continue  # measured once, training data since (tests/data/BLIND_SPEC.md)
        texts = [t for group in load(path).values() for t in group]
        if path.name in HELD_OUT:
            # a held-out set's messages are never printed (pytest would show a
            # list it compares): only how many
            shared = sum(1 for t in texts if _norm(t) in training)
            assert shared == 0, path.name
            continue
        overlap = [t for t in texts if _norm(t) in training]
        assert not overlap, (path.name, overlap)


@pytest.mark.parametrize("text, kind", [
    ("he is hitting me", "now"),
    ("HES HITTIN ME", "now"),
    ("he’s got a knife", "now"),
    ("my mum has collapsed and won't wake up", "now"),
    ("someone is beating my neighbour right now", "now"),
    ("im locked in and cant get out", "now"),
    ("he says he will hurt me if I tell anyone", "now"),
    ("I want to kill myself", "suicide"),
    ("i dont want to live any more", "suicide"),
    ("im gonna top myself", "suicide"),
    ("i've taken all my tablets", "suicide"),
    # situations told over several clauses, and others first missed on a development set (blind6)
    ("they keep punching him in the street outside my window", "now"),
    ("nan wandered off from the home, it's 3am and freezing", "now"),
    ("the carer has tied my brother to the chair", "now"),
    ("he held a pillow over her face", "now"),
    ("dad's fallen asleep drunk with the chip pan on", "now"),
    ("mum is on the floor and the staff say leave her till the morning", "now"),
    ("some men are forcing a girl into a van", "now"),
    ("he beat me and he is still here in the house", "now"),
    ("there is smoke coming under the door", "now"),
    ("i just want it all to stop forever", "suicide"),
    ("i've stopped eating so i can die", "suicide"),
    ("im going to take all of them tonight when they're asleep", "suicide"),
])
def test_detects_danger_in_many_phrasings(text, kind):
    assert detect(text).kind == kind


# Session 10: general shapes of safe messages (written for this test, not
# copied from any labelled set): games and television, childhood, a job,
# hyperbole about something trivial, a dream, "threatening to" without
# violence. Each has a twin below that must still get the 999 reply.
@pytest.mark.parametrize("text", [
    "my grandson shot me with his nerf gun, cheeky monkey",
    "in hollyoaks tonight a man held his wife hostage, is that what coercive control is",
    "watching a film where the husband beats his wife and it upset me",
    "the book has a bit where she is strangled",
    "my dad was in a house fire when he was a boy",
    "my daughter is a nurse and she sees loads of overdoses",
    "my nan will kill me if I forget her birthday again",
    "gonna die if I don't get a cup of tea soon",
    "I had a dream that someone was stabbing me",
    "my landlord is threatening to evict me",
    "I do not feel in danger now, I just want to know my options",
    "he snores like he is choking",
    "I want to live in my own flat until I die",
    "the carers keep forgetting my insulin all the time",
    "my son is pushing me to sign the house over to him",
    "she won't let me go out with my friends any more",
    "my ex is threatening to post my photos online",
])
def test_everyday_shapes_are_not_danger(text):
    assert detect(text).kind is None, detect(text)


@pytest.mark.parametrize("text", [
    "my grandson is hitting me right now",
    "a man is holding his wife hostage next door",
    "my husband is beating me now",
    "he has strangled her and she is not breathing",
    "there is a fire in my house",
    "my daughter has taken an overdose",
    "my husband will kill me if I tell anyone",
    "I am going to kill myself tonight",
    "someone is stabbing my neighbour",
    "he is threatening to kill me",
    "I am in danger now",
    "my husband is choking and can not breathe",
    "I want to die",
    "he has given me all my insulin at once and I feel shaky",
    "he pushed me to the floor and is kicking me",
    "he won't let me go, he is standing over me with a belt",
    "my ex is threatening to kill me tonight",
])
def test_twins_of_everyday_shapes_are_still_danger(text):
    assert detect(text).kind is not None, text


@pytest.mark.parametrize("text", [
    "my dad was hit by a car years ago",
    "he used to hit me when I was a child",
    "what if someone threatened to hurt me",
    "what is physical abuse",
    "can you tell me about suicide prevention",
    "my friend killed it at the karaoke",
    "I could kill for a cup of tea",
    "this form is killing me",
    "who do I call in an emergency",
    "my son takes my pension",
    "the staff leave mum in wet pads all day",
    # ordinary words and sayings first taken for danger on a development set (blind6)
    "the carer has been pinching money from her purse",
    "my uncle is a chef and works with knives every day",
    "the fire service came to test my smoke alarm",
    "that breakfast is a heart attack on a plate",
    "the lift has been broken for a month and dad can't get out",
    "my nan says she's had a good life and she's ready to go, she's at peace",
    "mum is kicking off about the telly again",
    "he went out for a smoke",
    # sayings, negations and patterns over time first taken for danger on a development set (blind7)
    "shooting pains down my leg again, seeing the doctor friday",
    "we were laughing so hard at the panto I could not breathe",
    "I'm not suicidal, just fed up and tired",
    "I'll die of embarrassment if my son finds out",
    "I thought I was going to die in that queue at the post office",
    "can you help me hang the curtains in dad's room",
    "I'm writing a story where the character is trapped in a lift",
    "I don't want to be blamed for any of this",
    "my solicitor helped me with my will and a lasting power of attorney",
    "lately my brother has been shouting and shoving me and I'm fed up",
    "the neighbour keeps threatening me about the parking",
    # kitchens, gardens, bands, hair dye and bereavement (development set blind8)
    "the recipe says to stab the potatoes with a fork",
    "I overdid the salt in the soup again",
    "the bindweed is strangling my roses",
    "my glue gun burnt my thumb, nothing serious",
    "I want to die my hair blue for the grandkids",
    "my uncle died by suicide years back and I want bereavement support",
    "my mum is not afraid of dying, she just wants to die at home",
    "he says he'll be dead and buried before they fix the lift",
    "my grandson's band is called Suicide Pigeons",
    # questions, games, surprises and sayings (development set blind9), in other words
    "how can I ring the police without them hearing me",
    "is it possible to overdose on paracetamol by accident? asking for the leaflet",
    "what would you do if someone said they were being hit",
    "I'm on a first aid training course, what do you say to someone who wants to end their life",
    "my nephew plays a game where you shoot zombies all night",
    "the grandkids locked me out of the kitchen for a surprise",
    "I've been held hostage by the dog, he's on my feet",
    "I nearly broke my neck on that loose stair carpet",
    "the district nurse is coming to give me my injection with a big needle",
    "I could've strangled him when he forgot my birthday",
    "I've left the house to my niece in my will, do I need to tell the council",
    "at college we did cooking and I cut the vegetables with a knife",
    "",
])
def test_past_hypothetical_questions_and_idioms_do_not_trigger(text):
    assert detect(text).kind is None


def test_danger_after_a_past_mention_in_another_sentence_still_triggers():
    assert detect("He hit me years ago. Now he is back and he is hitting me again").kind == "now"


def test_who_is_in_danger_is_reported_when_clear():
    assert detect("he is hitting me").who == "self"
    assert detect("the carer is hurting dad now").who == "other"


def test_normalise_expands_contractions_and_fixes_spelling():
    assert normalise("Hes gona KIL me") == "he is going to kill me"
    assert normalise("i want to kill myslef") == "i want to kill myself"
    # Ordinary words one letter from a key word are left alone.
    assert normalise("he is doing well") == "he is doing well"


def test_very_long_message_is_still_checked():
    text = "My neighbour needs help. " * 400 + "he is hitting me now"
    assert detect(text).kind == "now"


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("   \n\t", "empty"),
    (None, "empty"),
    ("a" * 10_000, "too_long"),
    ("a" * 2000, None),
    ("a" * 2001, "too_long"),
    ("😀🙏😢", "symbols"),
    ("?!... 123", "symbols"),
    ("2", None),
    (" 07700 900123 ", None),
    ("1.", None),
    ("أحتاج إلى مساعدة", "other_script"),
    ("我需要帮助", "other_script"),
    ("Потрібна допомога", "other_script"),
    ("Potrzebuję pomocy", None),
    ("<script>alert(1)</script>", None),
    ("hello 😀", None),
])
def test_check_input(text, problem):
    assert check_input(text, 2000) == problem


@pytest.mark.parametrize("text, kind", [
    # what the changes above must not take away
    ("he is threatening me right now with a bottle", "now"),
    ("he keeps threatening me and he's outside now", "now"),
    ("he is shoving me and hitting me", "now"),
    ("I don't want to be here any more", "suicide"),
    ("I don't want to be alive", "suicide"),
    ("I want to hang myself", "suicide"),
    ("I've made my will and I'm going to end it tonight", "suicide"),
    # situations first missed on the development set blind8, in other words
    ("dad has swallowed some weedkiller", "now"),
    ("my brother is walking along the railway line", "now"),
    ("I've had enough, I've got a plan and I'll do it tonight", "suicide"),
    ("they can have my things, I won't need them after tomorrow", "suicide"),
    # next to the exceptions from the development set blind9
    ("he is holding me hostage in the flat", "now"),
    ("I'm being held captive by a man upstairs", "now"),
    ("he's got a knife and he's going to stab me", "now"),
    ("I want to die, I've left everything to my sister", "suicide"),
    ("what do I do, he's hitting my mum right now", "now"),
    ("I've fallen and I can't get up", "now"),
])
def test_danger_still_caught_next_to_the_new_exceptions(text, kind):
    assert detect(text).kind == kind


# Session 11: more general shapes (written for this test, not copied from any
# labelled set): a part in a play, a training exercise or scenario, a TV
# drama being watched, harm seen as a job, a question about when to call,
# "if there is a fire", a fright, insects, suicide as a topic or a title,
# control that is not confinement. Each has a twin that still gets 999.
@pytest.mark.parametrize("text", [
    "my son plays a man who gets stabbed in the school play",
    "we are doing a role play at college where a woman is held hostage",
    "we had hostage training at work today",
    "watching casualty, a man got stabbed in the car park",
    "I'm a paramedic and we get overdoses every shift",
    "should I call the police if my neighbour's shouting keeps me awake",
    "what do we do if there is a fire in the care home at night",
    "the dog barked and nearly gave me a heart attack",
    "got a wasp nest in the shed, they are killing me",
    "our vicar lost his son to suicide",
    "the suicide rates in our town were in the paper",
    "my carer won't let me go out alone because of my falls",
    "it is not an emergency, but someone keeps breaking into the sheds on our allotment",
    "the man upstairs keeps banging on my door about the noise",
    "my son keeps standing over me when I do my banking",
    "my daughter won't let me go to church any more",
    "I borrowed from a loan shark and now I can't get out of it",
    "the manager threatens to call the police on us if we complain",
    "the night nurse told him to shut up and stop moaning",
    "the boiler has been broken in my flat for a month",
    "she has bruises on her arm from where the carer pushed her into the wardrobe",
])
def test_more_everyday_shapes_are_not_danger(text):
    assert detect(text).kind is None, detect(text)


@pytest.mark.parametrize("text", [
    "my son is being stabbed outside the school",
    "a woman is being held hostage in the flat upstairs",
    "my neighbour is not breathing, I am doing CPR",
    "someone shot my husband, he is bleeding",
    "my friend has taken an overdose and will not wake up",
    "call the police, my neighbour is hitting his wife",
    "there is a fire in the care home",
    "my dad is having a heart attack",
    "I want to kill myself tonight",
    "my carer has locked me in and gone out",
    "can you call an ambulance",
    "I need someone help me now he is hitting me",
    "the man upstairs is banging on my door right now and shouting",
    "my son is standing over me with a knife",
    "my daughter won't let me go, she has locked the door and taken my phone",
    "I can not get out, the door is locked and there is smoke",
    "call the police, he is breaking the door down",
    "he told me to shut up and now he is hitting me",
    "someone has broken in and is downstairs",
    "she is bleeding a lot from where he cut her",
])
def test_twins_of_more_everyday_shapes_are_still_danger(text):
    assert detect(text).kind is not None, text


@pytest.mark.parametrize("text, resolved", [
    ("The man who was shouting has gone. I locked the door and I'm ok.", True),
    ("the police found her and she's asleep in bed now", True),
    ("my son is here with me now", True),
    ("the man was taken away by the police and I'm at my sister's", True),
    ("I'm not scared of dying, I just want to stay at home", True),
    ("sorry, I just needed a moan, my brother's taking over tonight", True),
    ("I keep telling people I'm fine. I'm not.", False),
    ("he's gone to get a knife", False),
    # session 11: home and warm, nobody hurt, remanded, a joke, "fire my cleaner"
    ("the police brought my mum back, she is home and warm in bed", True),
    ("the kitchen caught fire but we are all outside and nobody is hurt", True),
    ("he was remanded in custody this morning", True),
    ("my sister says she will murder me if I'm late lol", True),
    ("I have to fire my gardener, he never turns up", True),
    ("he's back and he's drunk and he's already hit me", False),
    ("someone has been found on the floor and is not breathing", False),
    ("mum has gone blue", False),
    # session 15: annoyance, "what to do if someone...", where to live
    ("the builders next door are doing my head in", True),
    ("what should you do if someone is having a fit", True),
    ("what happens if a person takes too many paracetamol", True),
    ("nobody is hurting me at the moment", True),
    ("I don't want to live in a nursing home", True),
    ("what should I do, he's having a fit", False),
    ("I don't want to live any more", False),
    ("my head is bleeding", False),
])
def test_says_resolved(text, resolved):
    from bot.text.danger import says_resolved

    assert says_resolved(text) is resolved


# Session 15: shapes found on blind17 (measured once, now training data),
# written here in other words.
@pytest.mark.parametrize("text", [
    "is it alright to ring 999 if I'm not sure how serious it is",
    "when should you call 999 for an older person",
    "my brother stabbed me in the back, he told mum all my secrets",
    "the council stabbed us in the back over the bus pass",
    "my uncle is not safe behind the wheel, he drives like a lunatic",
    "the fire alarm went off at 4am because the battery was low",
    "sometimes the residents shout that they'll kill us, it's their illness",
    "lots of people in the home have sore skin and nobody turns them",
])
def test_session_15_everyday_shapes_are_not_danger(text):
    result = detect(text)
    assert result.kind is None and not result.negated, result


@pytest.mark.parametrize("text", [
    "I'm not hurting myself, honestly, I just feel low",
    "i dont feel unsafe with her, she's just a bit short with me",
    "she is not going to hurt herself, she's just upset",
])
def test_danger_words_in_the_negative_are_asked_about_not_given_999(text):
    result = detect(text)
    assert result.kind is None and result.negated, result


@pytest.mark.parametrize("text, kind", [
    ("he won't stop hitting me", "now"),
    ("I do not feel safe, he has a knife", "now"),
    ("I'm not going to stop, I'm going to kill myself tonight", "suicide"),
    ("nobody cares so ill just end it", "suicide"),
    ("call 999, my neighbour has collapsed", "now"),
    ("is it ok to call 999? he's got a knife to my throat", "now"),
    ("he is not letting me leave the house and he's got a knife", "now"),
    ("dad has gone missing, he's not safe to drive and it's dark", "now"),
    ("someone is in my house right now", "now"),
    ("the smoke alarm is going off and there's smoke everywhere", "now"),
    ("he is hitting her right now", "now"),
])
def test_twins_of_the_session_15_shapes_are_still_danger(text, kind):
    assert detect(text).kind == kind, text


def test_ill_after_a_state_word_is_ill_not_i_will():
    from bot.text.danger import normalise

    assert normalise("I'm ill myself now") == "i am ill myself now"
    assert normalise("she felt really ill") == "she felt really ill"
    assert normalise("ill do it tonight") == "i will do it tonight"


@pytest.mark.parametrize("text", [
    "I got stabbed in the back outside the pub, there's blood everywhere",
    "a man stabbed me in the back with a knife",
    "my brother stabbed me in the back and it really hurts",
])
def test_a_real_stabbing_in_the_back_is_still_danger(text):
    assert detect(text).kind == "now", text


# Session 16: shapes found on blind18 (measured once, now training data),
# written here in other words.
@pytest.mark.parametrize("text", [
    "we're doing a knife crime talk at the youth club",
    "my nephew works in a gun shop in leeds",
    "I'm dead tired after the bingo",
    "you're on fire with the crossword today nan",
    "my son will pop round after his tea, he'll shoot over about six",
    "looking after my husband is killing me but I love him",
    "at work we did a session on what to do in a fire",
    "she broke her wrist falling off a horse but she's all healed now",
    "who helps people who are being hurt by family",
])
def test_session_16_everyday_shapes_are_not_danger(text):
    result = detect(text)
    assert result.kind is None and not result.negated, result


@pytest.mark.parametrize("text", [
    "I've no intention of hurting myself, I'm just tired",
    "the chemist said two of these wouldn't cause an overdose",
    "the doctor asked and I said no, I have no plans to kill myself",
    "I dont want to die I just want some help with my shopping",
])
def test_a_negation_just_before_danger_words_is_asked_about_not_given_999(text):
    result = detect(text)
    assert result.kind is None and result.negated, result


@pytest.mark.parametrize("text, kind", [
    ("no he is hitting me now", "now"),
    ("she's not breathing", "now"),
    ("I don't want to live any more", "suicide"),
    ("he will not let me out of the bedroom", "now"),
    ("I can not stop thinking about killing myself", "suicide"),
    ("my dad took 25 codeine after tea", "now"),
    ("grandad's been on the floor since last night and can't get up", "now"),
    ("someone keeps ramming a van into our front door", "now"),
    ("the carers left my nan on the floor when they went", "now"),
    ("I think my brother has taken his own life", "now"),
    ("I've made a ligature", "suicide"),
    ("nothing left for me now, I'm ready to join my husband tonight", "suicide"),
    ("I'm going to overdose when my daughter is at school", "suicide"),
    ("the knife is in his hand and he's coming at me, there's no gun shop near", "now"),
])
def test_session_16_danger_shapes_still_get_the_999_reply(text, kind):
    assert detect(text).kind == kind


# Session 16, second round (shapes from helper sets E and F, written for training;
# the test sentences here are our own).
@pytest.mark.parametrize("text", [
    "that new album is pure fire",
    "my tongue was on fire after that chilli",
    "the bus got stuck in the snow so I was late",
    "our cat was trapped in the shed for a night, she's fine",
    "I've had a trapped nerve in my neck all week",
    "the ivy is strangling the fence",
    "my work tie is choking me, I hate wearing it",
    "my tomatoes are dying in this heat",
    "my phone is on 3% and about to die",
    "I'll jump on the train after lunch",
    "going to attack the ironing pile today",
    "the fire brigade came round fitting smoke alarms",
    "I did a first aid course and they covered overdose signs",
    "all the knives are kept locked away at the home",
    "his shotgun is locked in a metal cabinet",
    "the documentary dealt with suicide and it was very moving",
    "right, I'll end it for today, thanks for the chat",
    "we played cluedo and professor plum did it with the knife",
    "if I don't get her prescription picked up she'll kill me",
    "the dentist says I can not swallow big tablets so I get liquid",
    "I can't go on paying these energy bills",
    "what do I do if my mum falls and can't get up?",
    "would you call an ambulance if I told you I felt dizzy?",
    "should I knock on their door or call the police?",
    "the GP questionnaire asks if I have thoughts of suicide and I ticked no",
    "when I said I wanted to end it I meant the tenancy, sorry if I worried you",
    "I tried to take my own life years ago but I'm doing really well now",
    "his leg is broken but it's healing nicely",
    "mum kept saying that before she passed he would hit her",
])
def test_session_16b_everyday_shapes_are_not_danger(text):
    assert detect(text).kind is None, detect(text)


@pytest.mark.parametrize("text, kind", [
    # a question about what to do, with the danger happening now, keeps the 999 reply
    ("what do I do if he is hitting her right now", "now"),
    ("what if he comes back, he's outside now with a knife", "now"),
    ("my mum can't swallow and her throat is swelling", "now"),
    ("I can't go on, I want to die", "suicide"),
    ("the dog is barking because he is stabbing my brother", "now"),
    ("I ticked no on the form but I do want to kill myself", "suicide"),
    ("my battery is low and he is strangling her in the kitchen", "now"),
])
def test_session_16b_danger_shapes_still_get_the_999_reply(text, kind):
    assert detect(text).kind == kind, detect(text)


# Desired outcomes said in words that sound like despair (helper set G, written
# for training; these sentences are our own).
@pytest.mark.parametrize("text", [
    "I want to get my life back now he has gone",
    "she wants to take her life forward, well my mum says take my life back",
    "dad can't go on living with my brother after what he did",
    "I'd like to end things with my boyfriend safely",
])
def test_desired_outcomes_in_words_like_despair_are_not_danger(text):
    assert detect(text).kind is None, detect(text)


@pytest.mark.parametrize("text", [
    "I want to take my life tonight",
    "i cant go on living with this pain",
    "I can't carry on living",
])
def test_despair_itself_is_still_danger(text):
    assert detect(text).kind == "suicide", detect(text)


# Session 16, second round: shapes from blind19's misses and false alarms
# (measured once, then read; now training data), written in other words.
@pytest.mark.parametrize("text, kind", [
    ("they lock me in room all day and night", "now"),
    ("he has locked the doors and says nobody is leaving the flat", "now"),
    ("my grandad is having a bad hypo and he's all confused", "now"),
    ("the baby has gone floppy", "now"),
    ("two lads are going in and out of my neighbour's flat taking her things", "now"),
    ("I found him with a rope round his neck, he says he'll do it again", "suicide"),
    ("he pulled the cord round my neck and said next time he won't stop", "now"),
    ("i'm on the cliff, don't think i'll come back", "suicide"),
    ("nan has stopped eating and keeps saying she's ready to join grandad", "suicide"),
    ("I want to be with my late wife, I've got the tablets", "suicide"),
    ("ready to go, I just wanted you to know", "suicide"),
    ("this is it for me.", "suicide"),
])
def test_session_16_second_round_danger_shapes(text, kind):
    assert detect(text).kind == kind, detect(text)


@pytest.mark.parametrize("text", [
    "someone stole my bike last summer but the police caught him",
    "in the book the two lovers kill themselves at the end of the story",
    "casualty had a car crash episode last night",
    "I'll be dead on my feet after this shift",
    "will my careline pendant ring an ambulance if I fall",
    "what do we do in a fire at the day centre",
    "i'll murder my brother, he used all the milk again jk",
    "the staff need to stop locking him in his room at night",
    "there's a man coming in and out of the house carrying the shopping for my mum",
])
def test_session_16_second_round_everyday_shapes(text):
    assert detect(text).kind is None, detect(text)


# Session 17: shapes from blind20's misses and false alarms (measured once,
# then read; now training data), written in other words.
@pytest.mark.parametrize("text, kind", [
    ("there's two lads at my nan's trying the kitchen window", "now"),
    ("someone is rattling my front door handle", "now"),
    ("he swerved the van straight at my dad", "now"),
    ("the lad upstairs is trying to run my brother over in the car park", "now"),
    ("my son is coming for me with a hammer", "now"),
    ("a patient has just punched my mum on the ward", "now"),
    ("i have stopped eating and drinking, i want it all to end", "suicide"),
    ("this time i'm going to do it properly", "suicide"),
    # the new exceptions leave real danger alone
    ("he has a knife and the bleeding has stopped but he says he will stab me again", "now"),
    ("my son is in the garden with a knife and fork shouting he's going to kill me", "now"),
    ("i cut myself again tonight", "suicide"),
    ("my dad is choking on his dinner", "now"),
])
def test_session_17_danger_shapes(text, kind):
    assert detect(text).kind == kind, detect(text)


@pytest.mark.parametrize("text", [
    "my uncle wears a stab vest for his job on the doors",
    "we sat round the fire pit toasting marshmallows",
    "the pub is called the Knife and Fork",
    "had an overdose of chocolate over christmas",
    "the chemist says mixing those two can be an overdose",
    "the GP asked if I had ever taken an overdose and I said no",
    "I cut my thumb, it's just a small cut and it's fine now",
    "my dad goes pheasant shooting with his shotgun every winter",
    "I'm a self harm survivor, ten years free now",
    "don't tell her my weight, it would kill me",
    "mum choked on her coffee laughing at the dog",
    "we had to call an ambulance for nan in may, she's made a full recovery",
])
def test_session_17_everyday_shapes(text):
    assert detect(text).kind is None, detect(text)


# Session 17, second round: shapes from blind21's misses and false alarms
# (measured once, then read; now training data), written in other words, and
# what the corrector used to change ("cooking" read as "choking").
@pytest.mark.parametrize("text, kind", [
    ("been stockpiling my sleeping pills for a month", "suicide"),
    ("my family would be better off once i am gone", "suicide"),
    ("i'm gonna kms tonight", "suicide"),
    ("our lad keeps talking about topping himself", "suicide"),
    ("a'm gaun tae end it the night, cannae dae it nae mair", "suicide"),
    ("I've looked up how many of my tablets it would take", "suicide"),
    ("my son is going to kill his dad, he's got a bat", "now"),
    ("he's raging and he's blocking the front door so we can't get out", "now"),
    ("she's slipping under the water in the bath and I can't lift her", "now"),
    ("mum has dementia and she's gone, it's dark and freezing and she's only in her nightie", "now"),
])
def test_session_17_second_round_danger_shapes(text, kind):
    assert detect(text).kind == kind, detect(text)


@pytest.mark.parametrize("text", [
    "my dad is cooking dinner now",
    "the lads are racing round the park again",
    "she's been snapping at everyone today",
    "I looked in on nan tonight and she's fine",
    "this is a stab in the dark but do you know the carers line number",
    "he always murders me at scrabble",
    "I could throttle the washing machine, it's flooded again",
    "i'm going to smash this interview tomorrow",
    "the book I'm reading is about a man who shoots his brother",
    "I took an overdose years ago, a long time ago now, and I'm in a good place",
    "my son's not in danger, I just want to know about day centres",
    "we had a fire evacuation drill at the home today",
    "I thought there was a man in the garden but it turned out to be just the washing",
    "nan nearly set the tea towel on fire, we laughed about it",
])
def test_session_17_second_round_everyday_shapes(text):
    assert detect(text).kind is None, detect(text)


# Session 17, third round: shapes from blind22's misses and false alarms
# (measured once, then read; now training data), written in other words.
@pytest.mark.parametrize("text, kind", [
    ("dad with dementia has wandered off into the traffic on the dual carriageway", "now"),
    ("my ex has barricaded himself in with the kids", "now"),
    ("he punched me and now i can't see out of my eye", "now"),
    ("grandad's breathing is really rattly and he's gone grey in the face", "now"),
    ("goodbye everyone, forgive me, it's the only way out", "suicide"),
    ("a man is stabbing someone in the lecture theatre right now", "now"),
    ("nobody will see me again, i've had enough of all of it", "suicide"),
    ("My husband passed last year. I have put all my affairs in order and I don't plan to see another Christmas.", "suicide"),
])
def test_session_17_third_round_danger_shapes(text, kind):
    assert detect(text).kind == kind, detect(text)


@pytest.mark.parametrize("text", [
    "we were taught about overdoses on my first aid course",
    "the patient who overdosed on our ward is stable now",
    "i'll murder my sister, she's borrowed my car again haha",
    "my mate's a massive fan of horror movies, the bloodier the better",
    "he's always joking he'll kill me if i sell his records",
    "can I ring 999 from a mobile with no signal?",
    "I'm studying about knife crime for my coursework",
    "the series ended with a suicide and it upset me a bit",
    "my husband will kill me, I forgot his birthday",
])
def test_session_17_third_round_everyday_shapes(text):
    assert detect(text).kind is None, detect(text)


# Session 18 (blind23, measured once, then read): each shape written in other words than the message it
# came from, so the test checks the shape, not one sentence.
@pytest.mark.parametrize("text, kind", [
    ("i can hear screaming, i think the woman upstairs is being killed", "now"),
    ("the lad who lives in my back room is punching me", "now"),
    ("the woman i clean for is slapping me now", "now"),
    ("mum won't respond and her sugars are really low", "now"),
    ("i'm going to sleep forever tonight", "suicide"),
    ("he is threatening to throw my son off the balcony", "now"),
    ("the shelf collapsed on my nan and she can't move", "now"),
    ("I can hear a woman screaming, sounds like she's being attacked", "now"),
])
def test_session_18_danger_shapes(text, kind):
    assert detect(text).kind == kind, detect(text)


@pytest.mark.parametrize("text", [
    "go on, have a quick stab at the crossword clue",
    "my veg patch is drowning after the storm",
    "I'm drowning in paperwork this week",
    "overdosed on chocolate over christmas, oops",
    "the gazebo collapsed at the fete, what a laugh",
    "i collapsed onto the settee after my shift, shattered",
    "I was trapped in a dead end job for years",
    "we're locked in to a fixed rate mortgage",
    "my cousin's a nurse and she deals with overdoses every weekend",
    "dad is going to kill me when he sees the dent in the car",
    "that crime drama had a shooting in the first episode",
    "the first aid session had us pretend to choke",
    "the neighbours throw rubbish in the alley",
    "the dog next door howls like it's being murdered",
    "got locked in the school as kids, we still laugh about it",
])
def test_session_18_everyday_shapes(text):
    assert detect(text).kind is None, detect(text)


# Session 18, second round (blind24 and blind25, each measured once, then read); other words than the
# messages the shapes came from.
@pytest.mark.parametrize("text, kind", [
    ("GUN HELP", "now"),
    ("help, fire", "now"),
    ("a stranger is in my flat please help", "now"),
    ("i just saw the lad next door punch his mum", "now"),
    ("my gran is diabetic and she is sweating and confused", "now"),
    ("my son has been abducted", "now"),
    ("they have tied my brother up in the shed", "now"),
    ("this time i won't mess it up", "suicide"),
    ("nothing left, i'm going to do it tonight", "suicide"),
    ("i'll be gone by morning, don't cry for me", "suicide"),
    ("i've given away all my stuff, i won't need it", "suicide"),
    ("i've made ligatures", "suicide"),
    ("I'm in the woods with a rope", "suicide"),
])
def test_session_18_second_round_danger_shapes(text, kind):
    assert detect(text).kind == kind, detect(text)


@pytest.mark.parametrize("text", [
    "help",
    "fire",
    "mum will kill me if i spoil her surprise",
    "the hospital drama featured a stabbing last night",
    "i'm doing a module on overdoses at uni",
    "the actors did a stage fight and he was pretend shot",
    "grandad tells the story of the blitz, the whole street on fire",
    "i'm a fishmonger so knives are part of the job",
    "my dad will murder me for being late for tea again",
    "my heart skipped when i saw the gas bill",
    "he's going to kill me when he finds out i broke his mug",
    "professor plum with the rope in the kitchen, i won",
    "i need a new skipping rope",
    "my grandad was in a pit collapse in the 70s, he's 90 now",
])
def test_session_18_second_round_everyday_shapes(text):
    assert detect(text).kind is None, detect(text)


@pytest.mark.parametrize("text, resolved", [
    ("i take my insulin twice a day as prescribed", True),
    ("how many ibuprofen can i take in a day", True),
    ("the fire brigade already put it out, everyone's fine", True),
    ("she was checked over at a&e and she's home now", True),
    ("i'm taking my pills all at once tonight", False),
    ("how many paracetamol would kill me", False),
    ("the kitchen is on fire and i can't put it out", False),
])
def test_session_18_second_round_what_the_learned_detector_asks_about(text, resolved):
    from bot.text.danger import says_resolved
    assert says_resolved(text) is resolved
