"""Suggest a reporting category for a desired outcome. Pure, no Rasa.

The person's words are the record; a category is only added for reporting
(SAC), never instead of the words, and the person may ignore it. Keyword rules
over the ten categories in ``bot.records.models.OUTCOME_CATEGORIES``.

How it works:
1. ``normalise``: lower case, straight quotes, contractions and common
   text-speak spelt out ("dont" -> "do not", "u" -> "you", "ppl" -> "people").
2. Every rule is a weighted pattern for one category. A category scores the sum
   of the weights of its rules that match; each rule counts once, and a weaker
   rule does not count words a stronger rule of the same category has already
   counted ("help with my shopping" is not also "help"). Strong, specific
   phrasings weigh 5-6 ("keep their word", "stay away"); words that also turn
   up as background in other outcomes weigh 1-3 ("help", "police", "stop").
3. Rules marked ``NEG`` do not count when a negation comes shortly before them
   in the same clause ("I don't want him arrested, I just want him to stop" is
   about the abuse stopping, not the police).
4. The highest score wins; ties go to the earlier category in ``_ORDER``.
   ``something_else`` has rules of its own (money back, an apology, where to
   live, pets...), so a clear "other" outcome is not pulled into a category by
   a background word; with no match at all the answer is ``FALLBACK``.

Rules are written as general phrasings (synonyms, verb forms, UK informal
words), not copies of labelled sentences. ``tests/data/outcomes_labelled.yml``
is the development set they were tuned on; the other ``outcomes_*.yml`` sets
measure them honestly:

    python -m bot.text.outcome_eval tests/data/outcomes_*.yml   (make outcomes-report)
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Tuple

FALLBACK = "something_else"

# Tie-break order: the more specific outcome first.
_ORDER = (
    "police_prosecute",
    "harmer_stay_away",
    "people_do_what_they_say",
    "be_involved",
    "feel_more_confident",
    "protect_myself_future",
    "make_friends",
    "get_support",
    "stop_abuse_feel_safer",
    "something_else",
)

# --- normalisation ---------------------------------------------------------

_CONTRACTIONS: Tuple[Tuple[str, str], ...] = (
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"),
    (r"n't\b", " not"),
    (r"'ll\b", " will"),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"\bi'm\b", "i am"),
    (r"'d\b", " would"),
    (r"\b(he|she|it|that|what|there|who|where|here|everything|nothing)'s\b", r"\1 is"),
)

# Whole words, after contractions: text-speak, missing apostrophes, common slips.
_WORDS: Dict[str, str] = {
    "u": "you", "ya": "you", "yu": "you", "ur": "your", "yr": "your", "r": "are",
    "im": "i am", "ive": "i have", "dont": "do not", "dnt": "do not", "doesnt": "does not",
    "didnt": "did not", "wont": "will not", "cant": "can not", "cannot": "can not",
    "isnt": "is not", "aint": "is not", "wasnt": "was not", "arent": "are not",
    "werent": "were not", "havent": "have not", "hasnt": "has not", "shouldnt": "should not",
    "wouldnt": "would not", "couldnt": "could not", "mustnt": "must not",
    "shes": "she is", "hes": "he is", "thats": "that is", "whats": "what is",
    "theres": "there is", "theyll": "they will", "youll": "you will", "itll": "it will",
    "theyre": "they are", "youre": "you are", "theyd": "they would", "youd": "you would",
    "wanna": "want to", "wana": "want to", "gonna": "going to", "2": "to", "4": "for",
    "gotta": "got to", "jus": "just", "jst": "just", "wnt": "want", "wnat": "want",
    "pls": "please", "plz": "please", "plse": "please", "plez": "please", "ppl": "people",
    "pple": "people", "coz": "because", "cos": "because", "cuz": "because",
    "bcos": "because", "becuz": "because", "nite": "night", "abt": "about", "bout": "about",
    "wat": "what", "wot": "what", "wen": "when", "sum1": "someone", "some1": "someone",
    "any1": "anyone", "no1": "no one", "noone": "no one", "every1": "everyone",
    "msg": "message", "msgs": "messages", "txt": "text", "txts": "texts", "bf": "boyfriend",
    "gf": "girlfriend", "mam": "mum", "mom": "mum", "frend": "friend", "freind": "friend",
    "frends": "friends", "freinds": "friends", "friendz": "friends", "frendz": "friends",
    "matez": "mates", "cops": "police", "coppers": "police", "copper": "police",
    "polis": "police", "feds": "police", "plod": "police", "gud": "good", "kno": "know",
    "knw": "know", "tht": "that", "wiv": "with", "b": "be", "n": "and", "nd": "and",
    "tho": "though", "thru": "through", "b4": "before", "hav": "have", "sed": "said",
    "sez": "says", "promis": "promise", "promiss": "promise", "confidance": "confidence",
    "confidnce": "confidence", "confidense": "confidence", "scard": "scared",
    "skared": "scared", "frightend": "frightened", "harrased": "harassed",
    "harrassed": "harassed", "councelling": "counselling", "counciling": "counselling",
    "counseling": "counselling", "lonley": "lonely", "lonly": "lonely",
    "stoped": "stopped", "stopt": "stopped", "arested": "arrested",
    "prosicute": "prosecute", "prosicuted": "prosecuted", "agian": "again", "agen": "again",
    "nothin": "nothing", "nuthin": "nothing", "anythin": "anything", "somethin": "something",
    "realy": "really", "safty": "safety", "saftey": "safety", "suport": "support",
    "supprt": "support", "involed": "involved", "invovled": "involved",
    # stretched words after "([a-z])\1{2,}" -> two letters: "heeelp", "helllp", "pleeease"
    "heelp": "help", "hellp": "help", "pleease": "please", "pleeze": "please", "soo": "so",
}
_WORD = re.compile(r"[a-z0-9']+")


def normalise(text: str) -> str:
    """Lower case, straight quotes, contractions and text-speak spelt out."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").replace("&", " and ")
    text = re.sub(r"([a-z])\1{2,}", r"\1\1", text)  # "stoooop" -> "stoop"; the rules allow "sto+p"
    for pattern, repl in _CONTRACTIONS:
        text = re.sub(pattern, repl, text)
    text = _WORD.sub(lambda m: _WORDS.get(m.group(0), m.group(0)), text)
    return re.sub(r"\s+", " ", text).strip()


# --- negation --------------------------------------------------------------

_NEGATORS = {"not", "no", "never", "nor", "without"}
_CLAUSE_END = re.compile(
    r"[,.;:!?()\n]|\b(?:but|just|instead|rather|only|though|although|however|still)\b"
)
_NEG_WINDOW = 6  # words before the match


def _negated(text: str, start: int) -> bool:
    before = _CLAUSE_END.split(text[:start])[-1]
    return any(w in _NEGATORS for w in before.split()[-_NEG_WINDOW:])


# --- rules -----------------------------------------------------------------

# Shared pieces.
_SELF = r"(?:myself|me|herself|himself|themselves|ourselves|yourself)"
_PRON = r"(?:me|us|him|her|them|mum|dad|my \w+)"
_HARMER = (r"(?:him|her|them|he|she|they|ex|son|daughter|lodger|boyfriend|girlfriend|husband|wife|"
           r"partner|tenant|man|woman|people|brother|sister|nephew|grandson|stepdad|stepson|"
           r"carers?|nurses?|workers?|staff|neighbours?|manager)")
_FAMILY = (r"(?:wife|husband|partner|family|son|daughter|children|kids|grand\w+|mum|dad|"
           r"mother|father|brother|sister|relatives|nephew|niece)")

NEG, ANY = True, False  # NEG: the rule does not count right after a negation

# (weight, pattern, negatable) per category; each pattern is matched as whole words.
_Rule = Tuple[int, str, bool]
_RULES: Dict[str, List[_Rule]] = {
    "police_prosecute": [
        (5, r"prosecut\w*", NEG),
        (5, (
            r"(?:press|pressing|pressed|bring|brought) charges?|charged|"
            r"charges? (?:against|brought)|"
            r"charge (?:him|her|them|the \w+|whoever|someone|somebody)"
        ), NEG),
        (5, r"arrest\w*", NEG),
        (4, r"courts?(?! order)", NEG),
        (5, (
            r"prison|jail|gaol|locked up|lock (?:him|her|them|\w+) up|sent down|"
            r"send (?:him|her|them) down|behind bars|put away"
        ), NEG),
        (4, (
            r"punish\w*|justice|criminal|crimes?|trial|guilty|convict\w*|sentenc\w*|"
            r"(?:be|been|get|gets|got) caught(?! out)|caught and|the law|legal action|"
            r"do (?:him|her|them) for|(?:him|her|them) done for|"
            r"done for (?:it|what|that|assault|theft|fraud)|"
            r"pay for what (?:he|she|they) (?:did|done|have done|has done)|criminal record|"
            r"investigat\w* (?:by|with) the police|what (?:he|she|they) deserves?|consequences|"
            r"face the music|(?:in|into) the dock|answer for (?:what|it|this)"
        ), NEG),
        (3, (
            r"report(?:ed|ing)? (?:it |him |her |them |this )?to the police|"
            r"police (?:to )?(?:deal with|investigate|take (?:it|this|action)|get (?:him|her|"
            r"them)|do something|do more|do anything)"
        ), NEG),
        (6, r"police (?:\w+ ){0,2}involved|involve the police|police (?:to )?do (?:their|its) jobs?", NEG),
        (2, r"police|cid|detectives?|cps|crown prosecution", NEG),
    ],
    "harmer_stay_away": [
        (6, (
            r"stay(?:s|ing)? (?:well )?away|keep(?:s|ing)? (?:\w+ ){1,4}away|far away|"
            r"kept (?:\w+ ){0,3}away|keep away|stay(?:s|ing)? out(?! of trouble)|"
            r"keep (?:\w+ ){1,2}out of|kept out of"
        ), ANY),
        (4, r"away from (?:me|us|my|mum|dad|her|him|the house|the home|our)", ANY),
        (5, rf"leave {_PRON} alone|leave (?:me|us|her|him) be", ANY),
        (5, (
            r"(?:not|never|no longer|can not|will not) "
            r"(?:to )?(?:be )?(?:come|coming|go|going|get|getting|turn|turning) "
            r"(?:up |anywhere )?(?:near|round|around|back|to (?:my|our|the|her|his)|"
            r"in(?:to)? (?:my|our|the))"
        ), ANY),
        (5, (
            r"(?:restraining|court|non molestation|non-molestation|protection|occupation) order|"
            r"injunction|an order|order (?:so|to stop|against)|banned|barred|ban (?:him|her|them)"
        ), ANY),
        (5, (
            r"no contact|"
            r"(?:not|never|stop) (?:to )?(?:contact|contacting|ringing|calling|texting|messaging) "
            r"(?:me|us|her|him|mum|dad)(?! names)|"
            r"no (?:more )?(?:calls|texts|messages|visits) from"
        ), ANY),
        (5, (
            r"out of (?:my|our|her|his|mum's|dad's) (?:life|lives)|"
            rf"{_HARMER} (?:\w+ )?(?:to )?(?:leave|move out of|get out of|gone from|out of|"
            r"kicked out of|thrown out "
            r"of) (?:my|our|her|his|mum's|dad's|the) (?:house|home|flat|room|property|place)"
        ), ANY),
        (5, (
            r"mov(?:e|ed|es|ing) (?:out|away)\b|evict\w*|"
            rf"{_HARMER} (?:to be |be |being |is |gets? )?(?:moved|rehoused|removed|evicted|"
            r"taken away|taken off|transferred|banned|sent away)|"
            r"(?:move|rehouse|remove) (?:him|her|them)"
        ), ANY),
        (6, (
            r"(?:stop|stopped|blocked|banned|barred|prevented|kept) (?:\w+ ){0,2}from "
            r"(?:visiting|coming|seeing|contacting|calling|going|working|caring)|"
            r"(?:not|never|no longer) "
            r"(?:to )?(?:be )?(?:work|working|look after|looking after|care for|caring for) "
            r"(?:with |for )?(?:me|her|him|us|mum|dad|my \w+)|"
            r"(?:not|never) (?:to )?(?:be )?let (?:\w+ )?(?:in|into|near|back)|"
            r"stop (?:him |her |them )?(?:visiting|coming (?:round|over|near|to|here|in)|"
            r"turning up|contacting|seeing (?:me|her|him|mum|dad))"
        ), ANY),
        (5, (
            r"(?:not|never) (?:want|have|let) (?:him|her|them|that \w+|the \w+|\w+) "
            r"(?:coming|to come|visiting|to visit|round|near|in (?:my|the|our))"
        ), ANY),
        (5, (
            r"(?:never|not|do not|no) "
            r"(?:to |want to |wish to |have to |need to )?(?:ever )?(?:see|hear from) "
            r"(?:him|her|them|my \w+|that \w+)(?: \w+)? (?:again|anymore|ever|at all|now)|"
            r"never (?:see|hear from) (?:him|her|them)"
        ), ANY),
        (4, r"(?:not|never|no longer) (?:to )?(?:be )?(?:visit|visiting|allowed|welcome)\b", ANY),
        (5, (
            r"(?:him|her|them) gone|(?:want|get|got|have|need) (?:him|her|them) out|(?:get|got|be) rid of|"
            r"(?:want|need|get|make|like|for) (?:him|her|them) to (?:leave|go away|move out|get out)\b"
            r"(?! (?:me|us) alone)|"
            r"(?:not|never) (?:to )?know where (?:i|we|she|he) (?:live|am|are|is|lives)|"
            r"(?:not|never|no longer) (?:have to )?deal with (?:him|her|them)|"
            r"(?:not|no longer|never) (?:to )?(?:have )?(?:him|her|them|\w+) (?:living|staying|stay|live) "
            r"(?:with|here|in|at)|"
            r"(?:left|leave) (?:me |us |her |him )?alone by|"
            r"keep (?:\w+ )?(?:distance|at a distance)|anywhere near|"
            r"(?:not|never|no longer) (?:\w+ ){0,3}near (?:me|us|my|her|him|the|mum|dad|our)"
        ), ANY),
        (5, (
            r"(?:not|no longer|never) (?:to )?(?:be )?(?:my|her|his|mum's|dad's|our) "
            r"(?:carer|care worker|support worker|worker|nurse|key worker|appointee)|"
            rf"(?:not|never) (?:to )?(?:let|allow) (?:{_HARMER}|that \w+|the \w+) "
            r"(?:back )?(?:in|into|near|back|round)|"
            r"(?:nothing|anything) (?:more )?to do with (?:him|her|them)|"
            r"(?:not|never|no longer) (?:want to |have to |need to )?(?:see|bump into|run into) "
            r"(?:him|her|them|that \w+)"
        ), ANY),
        (3, (
            r"(?:different|new|another|change (?:of|the)|other) "
            r"(?:carers?|care workers?|workers?|staff|social worker|home care)"
        ), ANY),
        (3, r"change (?:the|my|our) locks|keep (?:\w+ )?clear", ANY),
    ],
    "people_do_what_they_say": [
        (6, (
            r"do (?:what|as) (?:they|you|he|she|people|we|the \w+|\w+)(?: have| had)? "
            r"(?:say|said|says|promised|agreed)|"
            r"(?:do|did|does|doing|done) (?:the things |things |what )(?:they|you|he|she) "
            r"(?:promised|said|agreed)|(?:do|did) what (?:is|was|has been|had been|they have) "
            r"(?:promised|agreed|said|written|set out|planned|in)|"
            r"(?:follow|stick to|carry out|keep to|do) (?:\w+ ){0,2}(?:the|my|her|his|their) "
            r"(?:care |support |safety )?plan"
        ), ANY),
        (6, (
            r"(?:keep|kept|keeps|keeping|stick to|stuck to|honour|honor|honoured|good to|true to|"
            r"go back on) (?:their|your|his|her|the|my|our) (?:word|promises?)|"
            r"keep (?:to )?(?:their|your|his|her) word|(?:empty|broken|false) promises|"
            r"promises? (?:kept|made|broken)"
        ), ANY),
        (4, r"promis\w*", ANY),
        (5, (
            r"(?:say|said|says|promised|told me|tell me)(?: that)? "
            r"(?:they|you|he|she|we|it|people|something|things) "
            r"(?:will|would|are going to|were going to|was going to|is going to|are|is|was)\b"
        ), ANY),
        (5, (
            r"follow(?:s|ed|ing)? (?:it )?(?:through|up)|see (?:it|things) through|"
            r"carr(?:y|ied) (?:it )?out|(?:agreed|promised) (?:actions?|plans?|things|steps)|"
            r"(?:what|things?|everything|it) (?:is |has |was |have |were |are )?(?:been )?agreed|"
            r"(?:stick|keep|kept) to (?:the|their|our|it|what)|by the dates?|on time|deadlines?|"
            r"chas(?:e|ing) (?:\w+ )?up|chasing|"
            r"cancel\w* (?:the |my |her |his )?(?:visits?|appointments?|calls?|meetings?)|"
            r"when (?:she|he|they|it) (?:is|are|was|were) (?:booked|due|arranged|supposed)"
        ), ANY),
        (5, (
            r"let (?:me |us |her |him |mum |dad )?down|letting (?:me |us |her |him )?down|"
            r"(?:never|not|nobody|no one) (?:do|did|does) (?:it|anything)|nobody did|no one did|"
            r"(?:turn|turned|turns|show|shows|come|comes) (?:up|out) (?:when|on time|as)|"
            r"(?:actually|really) (?:do|does|did|happen|happens|turn up|come|ring|call|done|sort)"
        ), ANY),
        (5, (
            r"(?:ring|call|phone|get) (?:me|us|her|him) back|"
            r"get back to (?:me|us|her|him)(?! \w+ self)|"
            r"answer (?:my|our) (?:calls|emails|messages|letters)|"
            r"(?:reply|respond) to (?:my|our|me)"
        ), ANY),
        (4, (
            r"reliable|rely on|(?:trust|believe) (?:that |what )?(?:they|them|you|people|services|the \w+) "
            r"(?:will|to|would|say|said)|(?:they|them|you) (?:to )?(?:just )?do it\b|"
            r"mean what (?:they|you) say|(?:do|does|did) (?:their|your|his|her) jobs?|"
            r"(?:do|sort) it this time|for once|fob\w* (?:\w+ )?off|brushed off|"
            r"messed (?:about|around)|(?:the )?run ?around|pillar to post|"
            r"(?:saying|say|said) (?:things|stuff|it) and (?:then )?(?:not|never) "
            r"(?:doing|do|did)|all talk|nothing (?:ever )?(?:changes|happens|gets done)|"
            r"keeps? saying (?:they|she|he|you) will|(?:supposed|meant) to|"
            r"at the (?:right|agreed) times?|(?:lied|lying) to|(?:honest|straight) with|"
            r"(?:they|them|you|carers?|staff|workers?|people|nurses?|agency|the \w+) "
            r"(?:to )?(?:actually )?(?:turn|show) up\b(?! again)"
        ), ANY),
        (6, r"(?:like|as) (?:he|she|they|you|we) (?:said|promised|agreed)", ANY),
        (1, r"this time|actually", ANY),
    ],
    "be_involved": [
        (6, (
            r"(?<!police )(?<!police to be )(?<!police get )(?<!police to get )(?<!police getting )"
            r"involved(?! in (?:the |my |local )?(?:community|activities|clubs?|groups?|church|volunteering|"
            r"sports?|hobbies|things))|involve (?:me|him|her|us|mum|dad)|involvement|included|"
            r"include (?:me|him|her|us)|in the (?:loop|picture)|"
            r"kept (?:informed|updated|up to date|posted)|"
            rf"keep {_PRON} (?:informed|updated|up to date|posted|in the loop)|updated|updates"
        ), ANY),
        (6, (
            r"(?:a|my|our|his|her|some|any|the final|more) (?:\w+ )?say (?:in|on|about|over|so)|"
            r"(?:a|my|our|his|her|some|any|the final) say\b|have (?:a|my|our|his|her) say|"
            r"say in (?:what|how|my|the|her|his|where|who|decisions)"
        ), ANY),
        (5, (
            r"consult\w*|asked (?:first|before|what|about|for (?:my|her|his) (?:views?|opinion))|"
            r"ask (?:me|her|him|us|them|mum|dad) (?:first|before|what)|(?:be|being) asked|"
            r"asking (?:me|her|him) (?:first|before|what|about (?:it|this|things|decisions))"
        ), ANY),
        (5, (
            r"decisions? (?:about|on|over|for) (?:me|my|him|her|his|us|our|mum|dad)|"
            r"part of (?:the |any |all )?decisions?|(?:be|feel|being) part of "
            r"(?:it|this|that|the process|the enquiry|what|things|the plan|the team|the conversations?|"
            r"the discussions?)|(?:proper |a )?(?:conversation|discussion)s? (?:about|with me)|"
            r"(?:written|said|recorded|put) about (?:me|her|him|us)|"
            r"(?:any|all) decisions|decisions? (?:made|taken)|"
            r"(?:decide|decided|deciding) (?:anything |things )?(?:about|for) (?:me|us|him|her)|"
            r"without (?:me|us|asking|consulting|telling)\b|"
            r"behind (?:my|our|her|his) backs?|"
            r"before (?:anything|something|it|things) (?:is|are|gets?) decided"
        ), ANY),
        (5, (
            r"(?:tell|told|inform|informed) "
            r"(?:me |us |her |him |mum |dad )?(?:what|how|when|about|of|the outcome|the results?|"
            r"what is)|let (?:me|us|her|him) know|"
            r"know what (?:is|was|has been) (?:going on|happening|happened|decided)|"
            r"(?:know|told|hear) what happens|what happens next|what is (?:happening|going on)|"
            r"what (?:was|has been|is|gets|got) decided|"
            r"(?:talk|speak|speaking|talking) (?:to|with) (?:me|her|him|us) "
            r"(?:not|rather|instead|directly|first)|what (?:is|was|are) going to happen|"
            r"what will happen|happen next|(?:know|hear|understand|told|tell me) what "
            r"(?:you|they|the \w+|social services|everyone|people) "
            r"(?:\w+ )?(?:do|does|doing|did|plan|decide)\b|"
            r"explain\w* (?:things |it |everything |what is happening )?to (?:me|us|her|him)|"
            r"(?:talk|take|go) (?:me|her|him|us) through|go through (?:it|the plan|things) with|"
            r"(?:know|hear|told|tell me|find out|understand) (?:about )?the (?:outcome|results?|findings)|"
            r"(?:my|her|his|our) side(?: of (?:the|things))?\b"
        ), ANY),
        (5, (
            r"listened to|listen to (?:me|her|him|us|what)|"
            r"(?:my|her|his|our) (?:views|wishes|opinions?|voice)|"
            r"(?:ask|asked|asking|know|hear|listen to|about) what (?:i|she|he|we) "
            r"(?:think|want|thinks|wants)|talked over|talked about|"
            r"speak for (?:myself|herself|himself)|speak(?:ing)? for (?:me|her|him)|"
            r"(?:be|being|feel) heard|"
            r"(?:spoken|talked) to(?: me)?,? (?:not|rather than|instead of) about|"
            r"treated (?:like|as) (?:an adult|a child|a grown up)"
        ), ANY),
        (5, (
            r"meetings?(?! (?:new |other |some |more )?(?:people|friends|folk|others|mates))|"
            r"conferences?|be there when|(?:be|being) present|discussed"
        ), ANY),
        (5, (
            r"agree (?:to )?(?:it|the plan|the report|any plan|what happens)|"
            r"(?:a )?copy of (?:the |my |her |his )?(?:plan|report|notes|minutes|records?)|"
            r"(?:see|read) (?:the |my )?(?:reports?|notes|records?|minutes|plan)"
        ), ANY),
        (5, (
            r"in on (?:the |any )?(?:decisions?|it|things|meetings?|discussions?|plans?)|"
            r"decisions? (?:myself|for myself|ourselves|herself|himself)|"
            r"decide (?:myself|for myself)"
        ), ANY),
        (3, (
            r"choose|choice|choices|(?:my|her|his|our) (?:own )?decisions?|decide (?:what|for)|"
            r"in control|a voice"
        ), ANY),
    ],
    "feel_more_confident": [
        (6, (
            r"confiden\w*|self[ -]?(?:esteem|worth|belief|respect)|"
            r"(?:believe|belief|faith|trust) in (?:my|him|her|them|your)sel(?:f|ves)|"
            r"sure of (?:my|him|her|them)sel(?:f|ves)|trust (?:my|him|her)self|"
            r"(?:feel|feeling|be|am|is) "
            r"(?:more |a bit |much )?(?:good|better|ok|okay|happy|positive|proud) "
            r"(?:about|in|with) (?:(?:my|him|her|your)sel(?:f|ves)|me\b)"
        ), ANY),
        (5, (
            r"(?:feel|feeling|be|get|become|grow|am) "
            r"(?:more |a bit |much )?(?:stronger|strong|brave|braver|bold|bolder|assertive|"
            r"empowered|less (?:nervous|anxious|shy|timid|worried))|(?:strong|brave|bold) enough|"
            r"hold (?:my|his|her|our) heads? (?:up|high)"
        ), ANY),
        (5, (
            r"(?:stop|not|no more) (?:blaming|hating|doubting) (?:myself|herself|himself)|"
            r"(?:not|never|stop) (?:to )?feel(?:ing)? "
            r"(?:so )?(?:stupid|worthless|useless|ashamed|embarrassed|small|weak|pathetic|"
            r"a failure|silly|guilty|like a failure|like an idiot)"
        ), ANY),
        (5, (
            r"feel (?:like )?(?:a person|a human|human|a real person|normal|me) again|capable|"
            r"(?:feel|know|believe) (?:like |that )?(?:i|she|he) can (?:do|cope|manage)|"
            r"(?:my|his|her) (?:old|usual|normal|happy|chatty|bubbly|cheerful|confident|former) "
            r"self|spark(?:le)? back|outgoing|"
            r"(?:feel|be|get|am) (?:more |back )?in control of (?:my|her|his) (?:own )?life|"
            r"(?:not|stop|less|no longer) "
            r"(?:be |being |feel |feeling )?(?:so )?(?:anxious|nervous|shy|panicky)|"
            r"(?:less|not|never|stop|no longer) "
            r"(?:feel\w* )?(?:so )?(?:ashamed|embarrassed|guilty|humiliated)|"
            r"without (?:feeling )?(?:ashamed|embarrassed|guilty)|"
            r"(?:am|is|are|was) not (?:stupid|worthless|useless|a failure|to blame|rubbish|thick)|"
            r"(?:stop|no more|not) hiding|hiding away|start living again|out of (?:my|her|his) shell|"
            r"feel (?:more )?like (?:my|him|her)self|feel (?:more )?like me\b|feel (?:\w+ )?good enough|"
            r"(?:i am|am) good enough|"
            r"(?:doubting|doubt) (?:my|him|her)self|self[ -]doubt|"
            r"look (?:people|anyone|them|others) in the eyes?|(?:my|his|her|our) fault|"
            r"blam\w* (?:my|him|her)self|courage|about who (?:i|she|he) (?:am|is)|"
            r"(?:not|no longer|stop) (?:feel\w* )?(?:like )?a victim|"
            r"(?:more )?(?:positive|hopeful|optimistic) about|"
            r"worth (?:something|anything|more|it)|"
            r"(?:happy|happier|proud|pleased|comfortable|at peace) (?:in|of|with) "
            r"(?:my|him|her)self|(?:walk|walked|walking|trample) (?:all )?over|"
            r"push (?:me|her|him) around|pushover|doormat|"
            r"(?:how|the way|who) (?:i|she|he) (?:was|used to be)|(?:my|his|her) old self|"
            r"(?:like|back to|be) (?:my|him|her)self again|"
            r"trust (?:my|his|her) (?:own )?(?:judgement|judgment|instincts|decisions)|"
            r"stand up (?:for|to)|speak up|assert\w*|less (?:nervous|anxious|shy)"
        ), ANY),
        (4, (
            r"made (?:me|her|him) feel "
            r"(?:useless|worthless|stupid|small|like nothing|like rubbish|weak)|"
            r"(?:say|speak) (?:what (?:i|she|he) (?:think|feel)|(?:my|her|his) mind)|"
            r"(?:go|going|get|do|manage|cope|travel) "
            r"(?:\w+ ){0,3}(?:on my own|by myself|independently)|"
            r"feel (?:ok|okay|alright|comfortable|able) (?:about|to|going|doing)|"
            r"without (?:panicking|panic)|panic attacks"
        ), ANY),
        (2, (
            r"nervous|worthless|shy|around people|with people|second guess|ashamed|embarrassed|"
            r"brave\w*|positive|happier|happy|motivat\w*"
        ), ANY),
    ],
    "protect_myself_future": [
        (5, (
            rf"protect {_SELF}|(?:keep|keeping) {_SELF} safer?|(?:staying|keeping) safe|stay safe"
        ), ANY),
        (5, (
            r"(?:scammed|conned|tricked|fooled|ripped off|taken in|exploited|groomed|robbed|used) "
            r"again|(?:keep|keeping) (?:my|her|his|our) "
            r"(?:\w+ )?(?:details|information|data|money|cards?|pin|savings|account|passwords?) "
            r"(?:safe|secure|private)|(?:someone|somebody|a number|number|people) to "
            r"(?:ring|call|contact|phone|turn to|go to) (?:if|when|in case)|in (?:the )?future|"
            r"future|(?:better|more) prepared|in case|"
            r"(?:a|some|an) (?:\w+ )?plan (?:for|in case|if)|"
            r"(?:emergency|contingency|escape) plan|(?:go|goes|went) wrong again|"
            r"who (?:i|she|he|we) can trust|from now on|next time|going forward|"
            r"in case (?:it|this|he|she|they)|"
            r"if (?:it|this|he|she|they|anything|something) (?:ever )?happens?|"
            r"(?:never|not|does not|do not|will not|will never|can not|won't) "
            r"(?:ever )?happen(?:s)? (?:to (?:me|her|him|us) )?again|"
            r"happen(?:s|ing)? (?:to (?:me|her|him|us) )?again|(?:tries|try|trying) (?:it )?again|"
            r"ready (?:if|for|when)|(?:who|which people) (?:not )?to trust|the wrong (?:people|sort)|"
            r"(?:get|be|getting|being) "
            r"(?:caught out|taken in|conned|scammed|fooled|tricked|ripped off|taken advantage of)|"
            r"(?:fall|falling|fell) for|caught out|taken in|taken advantage|"
            r"so (?:nobody|no one|no-one|no \w+) (?:can|could|will)|"
            r"(?:make sure|ensure) (?:this|it|that) (?:never|does not|will not|can not)"
        ), ANY),
        (5, (
            r"(?:learn|learning|know|knowing|understand|understanding|find out|show (?:me|her|"
            r"him)|teach\w*|taught|explain|tell (?:me|her|him|us)) (?:\w+ )?(?:how|about|what to "
            r"do|who to|the (?:warning )?signs|to recogni[sz]e|to spot|(?:my|her|his|our) "
            r"rights|to spot|to tell)|"
            r"how to (?:spot|tell|say no|block|keep|protect|stay|avoid|recogni[sz]e|check|stop it|"
            r"stop this|deal with)|warning signs|spot (?:a|the|them|scams?|signs|when|if)|"
            r"recogni[sz]e (?:the |a )?(?:signs|scams?|when|if|abuse)|"
            r"know (?:my|her|his|our) rights|safety plan\w*|personal safety|red flags|"
            r"(?:spot|spotting|recogni[sz]e|notice|identify|tell|know) "
            r"(?:\w+ )?(?:grooming|scams?|fraud|fraudsters|scammers|exploitation|red flags|liars?|"
            r"fakes?|conmen|con men)|(?:what|how) "
            r"(?:a |an |the )?(?:scams?|fraud|grooming|abuse|exploitation|coercion|con) "
            r"(?:look|looks|is|are|work|works) like|(?:shown|taught|told) how|(?:what|who|where) "
            r"(?:i |she |he |we |you )?(?:can |could |to |should )?"
            r"(?:do|ring|call|contact|phone|go|turn|go to|turn to) (?:if|when)|"
            r"(?:if|when|in case) (?:it|he|she|they|this) (?:starts|kicks off|comes back|returns)|"
            r"avoid (?:it|this|that|scams?|them|being|getting)"
        ), ANY),
        (4, (
            r"tips|courses?|workshops?|(?:video )?doorbell|spy ?hole|peep ?hole|"
            r"(?:not|never) (?:to )?(?:open|answer) the door|strangers|"
            r"(?:understand|know|aware of|explain) (?:\w+ )?risks?|safely|"
            r"(?:more|be|being|become) aware|awareness|helplines?|(?:police|emergency|useful) numbers?|"
            r"numbers? (?:to|for) (?:ring|call)|(?:advice|information|info) (?:on|about) "
            r"(?:keeping|staying|how|protect\w*|scams?|being safe|safety)|"
            r"check(?:ing)? (?:id|who)|block(?:ing)? (?:numbers|calls|them|him|her)|say no|"
            r"online safety|safe online|"
            r"(?:card|pin|passwords?|bank details|account|money) (?:safe|secure)|"
            r"set (?:things|it|something) up with (?:my|the|her|his) bank|"
            r"lock(?:ed)? (?:my|the) door|door (?:locked|chain)|alarm|panic button|"
            r"look after (?:my|him|her|them)sel(?:f|ves)|be more careful|"
            r"(?:who|what) (?:i|she|he|we) let in|let (?:anyone|people|strangers|them) in|"
            r"pretending to be (?:my|a|her|his) friend|fake friends?|so called friends?|"
            r"call (?:blocker|blocking)|blockers?"
        ), ANY),
    ],
    "make_friends": [
        (5, (
            r"(?:make|making|made|find|finding|have|having|get|meet|meeting|want|need|some|more|"
            r"new|proper|real|decent|best|good|few|a|nice) "
            r"(?:\w+ )?(?:friends?|mates|pals?|buddies|buddy)\b|^(?:friends?|mates)$|friendship"
        ), NEG),
        (3, r"friends?|friendly|mates", NEG),
        (5, (
            r"lonely|loneliness|isolated|isolation|"
            r"(?:not|less) (?:be |feel |feeling )?(?:so )?alone|(?:feel|feeling|am|so|all) alone|"
            r"people to (?:talk|chat|go out|spend time|do things)|"
            r"(?:someone|somebody|people) to (?:go|do things|go out|chat)(?: \w+){0,4} with|"
            r"companionship|(?:some|more|for|me|her|him|us|have|bit of|need|want|like|love) company|"
            r"social(?!(?: workers?| services| care| work| media| security))\w*|befriend\w*|"
            r"(?:nobody|no one|no-one|noone) to (?:talk|chat|speak) to|"
            r"(?:stuck|alone|on my own|by myself) "
            r"(?:\w+ )?(?:indoors|in the house|at home|all day|every day)|"
            r"(?:on my own|by myself|alone|lonely) (?:so much|all the time|too much|a lot)|"
            r"(?:have a |a )?laugh with|(?:someone|somebody|people) to (?:talk|chat) to and|"
            r"(?:for|have) a (?:chat|natter|cuppa)|part of something|belong\w*|fit in"
        ), ANY),
        (4, (
            r"(?:meet|meeting|see|know|talk to) "
            r"(?:new |some |other |decent |more |nice )?(?:people|folk)|get to know|"
            r"(?:have|more|get|some) visitors|(?:meet|meeting|know) others|same boat|"
            r"(?:people|others) (?:who|that) understand|"
            r"(?:involved|join\w*|take part|taking part) in "
            r"(?:the |my |local )?(?:community|activities|clubs?|groups?|church|volunteering|"
            r"sports?|hobbies|things)|(?:join|go to|attend|going to|start) "
            r"(?:a |the |some )?(?:\w+ )?(?:club|group|class|coffee morning|day centre|church)|"
            r"(?:go|get|going|getting) out (?:more|and about|and meet)|"
            r"people (?:like me|who like|with the same|my (?:own )?age)|hobb(?:y|ies)|"
            r"(?:people|someone|somebody) (?:\w+ )?in (?:my|her|his) life|"
            r"(?:lunch|social|football|walking|knitting|book) (?:club|group)"
        ), NEG),
        (2, r"clubs?|groups?", NEG),
    ],
    "get_support": [
        (7, r"support groups?|peer support", NEG),
        (5, (
            r"support\w*|counsell?\w*|therap\w*|someone to talk to|talk to someone|"
            r"(?:carer'?s? |care |needs )assessment|assess\w* (?:of )?(?:my|her|his) needs|"
            r"care (?:hours|package|and support|at home)|(?:get|getting) (?:my|her|his) \w+ treated|"
            r"package of care|more care|(?:home|extra|day|respite) care|a carer|"
            r"(?:key|support) worker|respite|(?:a|my|her|his|own|new) social worker|social care|"
            r"meals on wheels"
        ), NEG),
        (5, (
            r"help(?:s|ing)? "
            r"(?:me |her |him |them |us |mum |dad |my \w+ )?(?:with|to sort|sort|to get|get|fill|"
            r"manage|pay|cope|around)|any help|all the help|"
            r"(?:some|more|extra|a bit of|little|bit of|proper|real) help|"
            r"help (?:going|available|out there|there is|you can|please|anything)|"
            r"needs? (?:\w+ )?help|get (?:some |any )?help|(?:what|whatever|anything) "
            r"(?:is |help )?(?:available|on offer|out there|you can offer)|help going|"
            r"where to turn|(?:not|can not|struggling to) cop(?:e|ing)|struggling|put in touch"
        ), NEG),
        (4, (
            r"(?:more|extra|regular|daily) (?:visits|calls|hours|carers?|help)|visits from|"
            r"women's aid|womens aid|samaritans|age uk|citizens advice|refuge|food ?bank|benefits|"
            r"(?:pay|paying) (?:the |my |her |his )?bills|budget\w*|shopping|cleaning|cooking|"
            r"meals|personal care|housework|drinking|alcohol|drugs?|addiction|gambling|hoarding|"
            r"mental health|depression|grief|bereavement|meds|medication|a (?:district )?nurse|"
            r"physio\w*|occupational therap\w*|"
            r"(?:someone|somebody) to (?:help|check|visit|come|pop|look in|call|ring)|"
            r"(?:be|being|is) (?:properly |well )?looked after|"
            r"check(?:s|ing)? (?:on|in on) (?:me|her|him|us)|housing|"
            r"(?:somewhere|place) (?:safe )?to (?:live|stay)|accommodation|equipment|adaptations"
        ), NEG),
        (3, (
            r"advoca\w*|rehab\w*|detox|treatment|"
            r"carers? (?:twice|once|three times|every|each|in|coming)|grab rails?|"
            r"shower (?:seat|chair)|rails?|hoist|stair ?lift|walking frame|ot assessment"
        ), NEG),
        (2, r"help|advice|assistance|signpost\w*|refer(?:red|ral)?|gp|doctor|nurse", NEG),
    ],
    "stop_abuse_feel_safer": [
        (3, r"sto+p(?:s|ped|ping)?", ANY),
        (5, (
            r"(?:to|just|please|it|this|that|all) sto+p\b(?! \w+ing\b)|"
            r"sto+p (?:it|this|that|him|her|them|the|all|his|their|being|taking|hitting|shouting|"
            r"hurting|calling|locking|controlling|bullying|threatening|abusing|harassing)\b|"
            r"make (?:it|this|that|him|her|them) sto+p"
        ), ANY),
        (5, (
            r"(?:feel|be|am|feeling|being|live|living|sleep) "
            r"(?:more |so |really |a lot |totally |completely )?(?:safe|safer|secure)|"
            r"safe (?:at|in) (?:home|my|her|his|our)"
        ), ANY),
        (4, (
            r"(?:not|never|no longer|stop) "
            r"(?:be |feel |being |feeling |to be |have to be )?(?:so )?(?:scared|frightened|"
            r"afraid|terrified|worried|fearful|in "
            r"fear|hurt|harmed|hit|abused|bullied|threatened|on edge)|"
            r"(?:without|free from|free of) (?:fear|worry|worrying|being|abuse)|"
            r"(?:relax|sleep|rest|live) "
            r"(?:\w+ ){0,4}(?:in peace|without|at night|in my own (?:home|house))|"
            r"(?:in|some|bit of) peace|peace and quiet|(?:come|comes|put) to an end|an end to|"
            r"(?:to|will|would|it) end\b|to be over|"
            r"no more (?:\w+ing|abuse|threats|violence|hitting)|less (?:worry|fear|stress)|"
            r"(?:happen|happening|go on|going on|carry on|carrying on|continue) "
            r"(?:anymore|any more|no more|any longer)|"
            r"treated (?:properly|with (?:respect|dignity|kindness)|well|better|kindly|nicely|"
            r"like a (?:person|human))|(?:respect|dignity)|"
            r"(?:be|being|more) (?:gentle|kind|kinder|careful|patient) (?:with|to) "
            r"(?:me|her|him|them|mum|dad|us)|calm(?:s|ed)? down|calmer|quieter"
        ), ANY),
        (2, (
            r"peace|safe|safety|scared|frightened|afraid|terrified|fear\w*|abus\w*|bully\w*|"
            r"harass\w*|hitting|hit (?:me|her|him)|hurt\w*|beat\w*|violen\w*|threat\w*|shout\w*|"
            r"rough|controll?ing|intimidat\w*|exploit\w*|nasty|"
            r"(?:taking|asking (?:me |her |him )?for|pestering (?:me |her |him )?for) "
            r"(?:my |her |his )?money|calling (?:me |her |him )?names|racis\w*|messages|"
            r"calls from|grab\w* (?:me|her|him|my|his|mum|dad)|punch\w*|kick\w*|slap\w*|push\w*|"
            r"neglect\w*|troll\w*|stalk\w*|cyber\w*|worry|worrying|checking (?:my|her|his|up)|"
            r"spying|tracking|without (?:him|her|them) \w+ing"
        ), ANY),
    ],
    "something_else": [
        (4, (
            r"(?:get|give|want|have|got|gets|given|giving|getting|need) (?:\w+ ){1,5}back\b|"
            r"give (?:me |her |him )?back|return(?:ed)? (?:my|her|his|our)|"
            r"(?:money|everything|it|savings|pension) (?:back|returned|repaid)"
        ), NEG),
        (5, (
            r"refund\w*|reimburs\w*|repa(?:y|id|yment)|pay (?:me |her |him |us |it |them )?back|"
            r"paid back|"
            r"pay for (?:the|my|her|his|it|them|damage|what (?:was|they) (?:lost|broke|damaged))|"
            r"compensat\w*|owed|owes|wages|salary|debts?|loans?|catalogue|(?:in|from) my name|"
            r"written off"
        ), NEG),
        (5, (
            r"apolog\w*|say(?:s|ing)? sorry|(?<!feel )(?<!felt )sorry|"
            r"admit\w*(?! (?:to|into) (?:a |the )?(?:hospital|ward|home))|acknowledg\w*|own up|"
            r"(?:got|get|did|done|had) it wrong|(?:they|you|he|she) (?:were|was) wrong|"
            r"explanation|explain why|why (?:it|this) happened"
        ), NEG),
        (4, (
            r"(?:stay|staying|remain|live|living|keep living|carry on living) (?:in|at) "
            r"(?:my|his|her|our) (?:own )?(?:home|house|flat|bungalow)|"
            r"(?:go|going|come|coming|return\w*|get|getting) "
            r"(?:back )?(?:home|house|(?:to|into) (?:a |another |my |her |his |the )?"
            r"(?:own |different |new |old |better )?"
            r"(?:country|home|house|flat|bungalow|place|room|job|work|family|care home|area|town|village)|"
            r"nearer|closer|abroad)|"
            r"(?:back|home) to (?:my|her|his) (?:own )?(?:country|family|home)|"
            r"(?:not|never) (?:be )?(?:put|go|moved|sent) in(?:to)? a (?:care )?home|independen\w*"
        ), NEG),
        (5, (
            r"(?:move|moving|moved|rehoused|transferred|relocate\w*) "
            r"(?:back )?(?:in ?to|to|house|home|nearer|closer|abroad|somewhere|in with|"
            r"out of (?:here|this area|the area))"
        ), NEG),
        (5, (
            r"(?:my|his|her|our|the) "
            r"(?:cats?|dogs?|pets?|parrot|bird|budgie|rabbit|animals?|tortoise|hamster)|rehom\w*"
        ), NEG),
        (4, (
            r"(?:keep|keeps|keeping|carry on|continue|still) "
            r"(?:to )?(?:seeing|see|visiting|in touch|contact)|"
            rf"(?:see|visit|seeing|visiting) (?:my|her|his) {_FAMILY}"
        ), NEG),
        (4, r"landlord|damp|heating|repairs?|\bfix\w*|mould|boiler", NEG),
        (4, (
            r"(?:learn|learns|learned|learnt) (?:from|lessons)|lessons? (?:learned|learnt)|"
            r"(?:better|more|proper|new) training|(?:change|changes|improve\w*) "
            r"(?:how|the way|their|its|things|practice|procedures|polic\w*)|"
            r"(?:anyone|anybody|someone|somebody|others|other people|no one|nobody) else|"
            r"other (?:people|residents|patients|old people|vulnerable)|sacked|fired|disciplin\w*|"
            r"struck off|lose (?:his|her|their) jobs?|inspect\w*|cqc|complain\w*"
        ), NEG),
        (3, (
            r"(?:manage|control|in charge of|look after) (?:my|her|his) "
            r"(?:own )?(?:money|finances|affairs)|(?:my|her|his) own "
            r"(?:key|keys|room|front door|space|place|bank account|phone|money)|"
            r"keep (?:my|her|his) "
            r"(?:home|house|flat|job|car|allotment|garden|pets?|dog|cat|independence|tenancy|"
            r"place|room|things|belongings)|rehous\w*"
        ), NEG),
    ],
}

# Per category, strongest rule first, so that a word already counted by a strong
# rule ("help with my shopping") is not counted again by a weak one ("help").
_COMPILED: Tuple[Tuple[str, int, "re.Pattern[str]", bool], ...] = tuple(
    (category, weight, re.compile(rf"\b(?:{pattern})\b"), negatable)
    for category, rules in _RULES.items()
    for weight, pattern, negatable in sorted(rules, key=lambda rule: -rule[0])
)


def scores(text: str) -> Dict[str, int]:
    """Score per category (only those with a match), for tuning and explaining.

    A rule adds its weight once if it matches somewhere that is not negated
    (for a negatable rule) and not wholly inside a stretch of text that a stronger
    rule of the same category has already counted.
    """
    norm = normalise(text)
    out: Dict[str, int] = {}
    counted: Dict[str, List[Tuple[int, int]]] = {}
    for category, weight, pattern, negatable in _COMPILED:
        spans = counted.setdefault(category, [])
        for match in pattern.finditer(norm):
            start, end = match.span()
            if negatable and _negated(norm, start):
                continue
            if any(s <= start and end <= e for s, e in spans):
                continue
            out[category] = out.get(category, 0) + weight
            spans.append((start, end))
            break
    return out


def suggest_category(text: str) -> str:
    """One of the ten reporting categories for an outcome in the person's words."""
    found = scores(text)
    if not found:
        return FALLBACK
    return max(_ORDER, key=lambda c: (found.get(c, 0), -_ORDER.index(c)))
