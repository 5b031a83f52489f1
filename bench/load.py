"""Closed-loop load over the REST channel: many distinct, realistic conversations.

Each simulated person holds one conversation at a time (a fresh sender id each
time), sends a message, waits for the whole reply, then sends the next one.
When invitation codes are given, some conversations are the outcomes
conversation (issue 3): link with a code, say who for, consent, say what they
would like to happen, confirm, answer the suggested group, say how to be kept
informed. Those go through the action server and write to the MSP records.
When feedback codes are given too, some are the end-of-enquiry feedback
survey (issue 11): open it with the code, answer the six questions, how safe
now and whether that is better, each desired outcome read back, anything
else (the action server checks and records each answer).
`concurrency` people do this at once until the message budget or the time
budget for the level runs out. Latency is per message, from sending the
request to having read the whole reply.
"""
from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import aiohttp
import numpy as np

# --- what people say -------------------------------------------------------

GREET = [
    "hi", "hello", "hello there", "good morning", "hiya, can you help me", "hi is anyone there",
    "good evening", "hey", "hello i need some advice",
]
ASK_KIND = [
    "what types of abuse are there", "what is financial abuse", "what does coercive control mean",
    "is it abuse if my carer shouts at me", "what is self neglect", "what counts as neglect",
    "what is modern slavery", "what does organisational abuse mean", "what is psychological abuse",
    "is it abuse if my son takes my pension", "what is discriminatory abuse",
    "what does sexual exploitation mean", "what is domestic abuse",
]
DESCRIBE = [
    "my grandson keeps my bank card", "the staff leave mum in wet pads all day",
    "my son keeps telling me i'm useless", "my husband checks my phone and won't let me see friends",
    "the carer was rough with dad and he has bruises", "nobody gives my nan her tablets",
    "my neighbour's house is full of rubbish and he won't let anyone in",
    "a man at the car wash works all day and they keep his passport",
    "people at the day centre laugh at my brother because he is deaf",
    "my daughter took out a loan in my name",
    "the home leaves residents in bed all day",
]
DANGER = [
    "he is hitting me right now", "my husband is outside the door with a knife",
    "i want to kill myself", "she's hurting mum right now and i can't stop her",
    "i'm going to end it all tonight", "he says he will kill me when he gets home tonight",
    "my son is attacking me", "i have taken all my pills",
]
AFTER_DANGER = ["i'm ok now he has gone", "/inform_safe", "i am safe now", "no one is in danger now"]
PROCESS = [
    "what happens after i report it", "will mum be put in a home", "do i have to give my name",
    "what is a section 42 enquiry", "can i get an advocate", "will he get in trouble",
    "what does making safeguarding personal mean", "do you need my consent",
    "who can see what i write here", "is this confidential",
]
CARER = [
    "i'm a carer and i'm struggling", "looking after my dad is too much for me",
    "i care for my wife and i am exhausted",
]
CARER_NEXT = ["what's a carers assessment", "can i get a break from caring", "/ask_carers_assessment"]
OTHER = ["are you a robot", "what can you do", "what's the weather like tomorrow", "how are you",
         "can i talk to a real person"]
BUTTONS = [
    "/ask_types_of_abuse", "/ask_about_financial", "/ask_about_neglect", "/ask_raise_concern",
    "/ask_what_happens_next", "/ask_what_to_say", '/ask_signs{"abuse_kind":"financial"}',
    '/ask_what_to_do{"abuse_kind":"domestic"}', "/inform_worried_about_someone",
]
CLOSE = ["thanks", "thank you, bye", "ok bye", "thanks for your help", "goodbye"]
OUTCOME_WORDS = [
    "I want him to stop taking my money", "I want to feel safe in my own home",
    "I'd like to stay living here with my cat", "I want the carers to come on time and be kind",
    "I want to know what happens next and be asked first", "I just want my son to leave me alone",
    "I'd like to go to the day centre again and see my friends",
    "I want the police to deal with him", "I want to keep control of my own bank account",
]
ROLE = ["For myself", "for me", "/inform_role{\"outcome_role\":\"self\"}", "someone else"]
KEEP_INFORMED = ["A letter", "a phone call", "email please", "text me"]


def outcomes_conversation(rng: random.Random, code: str) -> List[str]:
    """Link with an invitation and record one desired outcome (form + actions + records)."""
    from bot.actions.outcome_categories import FALLBACK, suggest_category

    words = rng.choice(OUTCOME_WORDS)
    script = [code, rng.choice(ROLE), "yes", words, "yes"]
    if suggest_category(words) != FALLBACK:
        script.append(rng.choice(["yes", "Skip this"]))
    return script + ["no", rng.choice(KEEP_INFORMED)]


SURVEY_ANSWERS = ["yes", "Yes", "partly", "no", "kind of", "yep", "not really", "dunno", "Don't know",
                  "Prefer not to say", "skip", "1", "2", "3"]
SAFE_NOW = ["1", "2", "3", "4", "5", "skip"]
SAFE_CHANGE = ["Better", "the same", "worse", "a bit better", "skip"]
OUTCOME_ANSWERS = ["yes it did", "partly", "no", "not sure", "Fully", "skip"]
ANYTHING_ELSE = ["no thanks", "no", "The worker was kind but it took ages",
                 "I wish someone had rung me back sooner", "skip"]


def feedback_conversation(rng: random.Random, code: str, outcomes: int) -> List[str]:
    """The end-of-enquiry survey from its code to the end (form + actions + records)."""
    c = rng.choice
    opening = c([code, f"my code is {code}"])
    return ([opening] + [c(SURVEY_ANSWERS) for _ in range(6)] + [c(SAFE_NOW), c(SAFE_CHANGE)]
            + [c(OUTCOME_ANSWERS) for _ in range(outcomes)] + [c(ANYTHING_ELSE)])


def conversation(rng: random.Random, codes: Optional[List[str]] = None,
                 feedback: Optional[List[Tuple[str, int]]] = None) -> List[str]:
    """One realistic script of about six messages (eight for the outcomes one,
    about twelve for the feedback survey). With only ``codes`` the choice of
    scripts is the same as before feedback conversations existed."""
    c = rng.choice
    special = (["outcomes"] if codes else []) + (["feedback"] if feedback else [])
    shape = rng.randrange(6 + len(special))
    if shape >= 6:  # the list it takes from is not empty here
        if special[shape - 6] == "outcomes":
            return outcomes_conversation(rng, codes.pop())
        code, outcomes = feedback.pop()
        return feedback_conversation(rng, code, outcomes)
    if shape == 0:  # learning about a kind of abuse, by typing and by buttons
        return [c(GREET), c(ASK_KIND), c(BUTTONS), c(PROCESS), c(CLOSE)]
    if shape == 1:  # describing harm, safe for now, then how to report
        return [c(GREET), c(DESCRIBE), "/inform_safe", "/ask_raise_concern", c(PROCESS), c(CLOSE)]
    if shape == 2:  # danger in the middle of another topic
        return [c(GREET), c(DESCRIBE), c(DANGER), c(AFTER_DANGER), c(PROCESS), c(CLOSE)]
    if shape == 3:  # a carer under strain
        return [c(GREET), c(CARER), c(CARER_NEXT), c(BUTTONS), c(PROCESS), c(CLOSE)]
    if shape == 4:  # small talk, off topic, then a question
        return [c(GREET), c(OTHER), "/ask_types_of_abuse", c(BUTTONS), c(ASK_KIND), c(CLOSE)]
    # worried about someone, describes, then danger
    return ["/inform_worried_about_someone", c(DESCRIBE), c(ASK_KIND), c(DANGER), c(AFTER_DANGER),
            c(CLOSE)]


# --- the load generator ----------------------------------------------------

@dataclass
class LevelResult:
    concurrency: int
    latencies: List[float] = field(default_factory=list)  # seconds, successful messages only
    errors: int = 0
    timeouts: int = 0
    empty_replies: int = 0
    conversations: int = 0
    outcome_conversations: int = 0
    outcome_latencies: List[float] = field(default_factory=list)  # also in latencies
    feedback_conversations: int = 0
    feedback_latencies: List[float] = field(default_factory=list)  # also in latencies
    elapsed: float = 0.0
    error_samples: List[str] = field(default_factory=list)

    def summary(self) -> Dict[str, object]:
        lat = np.array(self.latencies) * 1000.0
        ok = len(lat)

        def pct(q: float, values: np.ndarray = lat) -> Optional[float]:
            return round(float(np.percentile(values, q)), 1) if len(values) else None

        out = np.array(self.outcome_latencies) * 1000.0
        fb = np.array(self.feedback_latencies) * 1000.0
        return {
            "concurrency": self.concurrency,
            "outcome_messages": len(out),
            "outcome_p50_ms": pct(50, out),
            "outcome_p95_ms": pct(95, out),
            "feedback_messages": len(fb),
            "feedback_p50_ms": pct(50, fb),
            "feedback_p95_ms": pct(95, fb),
            "feedback_conversations": self.feedback_conversations,
            "messages": ok,
            "conversations": self.conversations,
            "outcome_conversations": self.outcome_conversations,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "empty_replies": self.empty_replies,
            "seconds": round(self.elapsed, 2),
            "throughput_msg_s": round(ok / self.elapsed, 2) if self.elapsed > 0 else None,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "mean_ms": round(float(lat.mean()), 1) if ok else None,
            "max_ms": round(float(lat.max()), 1) if ok else None,
            "error_samples": self.error_samples[:5],
        }


async def run_level(url: str, concurrency: int, max_messages: int, max_seconds: float,
                    tag: str, seed: int, timeout: float = 30.0,
                    codes: Optional[List[str]] = None,
                    headers: Optional[Dict[str, str]] = None,
                    feedback: Optional[List[Tuple[str, int]]] = None) -> LevelResult:
    """Closed loop: `concurrency` conversations at once until either budget is used.

    `headers`: sent with every request (the REST channel's bearer token).

    `codes`: unused invitation short codes; each outcomes conversation takes
    (pops) one. Without them no outcomes conversations are held.

    `feedback`: (survey code, desired outcomes on record) of unused feedback
    surveys; each feedback conversation takes (pops) one.
    """
    result = LevelResult(concurrency)
    rng = random.Random(seed)
    started = 0
    start = time.perf_counter()
    deadline = start + max_seconds
    last_done = start
    connector = aiohttp.TCPConnector(limit=concurrency + 4, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    def may_send() -> bool:
        nonlocal started
        if started >= max_messages or time.perf_counter() >= deadline:
            return False
        started += 1
        return True

    async def person(session: aiohttp.ClientSession) -> None:
        nonlocal last_done
        while True:
            left, fb_left = len(codes or ()), len(feedback or ())
            script = conversation(rng, codes, feedback)
            outcomes = len(codes or ()) < left
            surveyed = len(feedback or ()) < fb_left
            result.outcome_conversations += outcomes
            result.feedback_conversations += surveyed
            sender = f"rest-bench-{tag}-{uuid.uuid4().hex[:12]}"
            result.conversations += 1
            for text in script:
                if not may_send():
                    return
                t0 = time.perf_counter()
                try:
                    async with session.post(url, json={"sender": sender, "message": text}) as resp:
                        body = await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
                    t1 = time.perf_counter()
                    result.latencies.append(t1 - t0)
                    if outcomes:
                        result.outcome_latencies.append(t1 - t0)
                    if surveyed:
                        result.feedback_latencies.append(t1 - t0)
                    last_done = max(last_done, t1)
                    if body.strip() in (b"", b"[]"):
                        result.empty_replies += 1
                except asyncio.TimeoutError:
                    result.timeouts += 1
                    break  # abandon this conversation, start a new one
                except (aiohttp.ClientError, RuntimeError, OSError) as exc:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{type(exc).__name__}: {exc}"[:300])
                    await asyncio.sleep(0.2)
                    break

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout, headers=headers) as session:
        await asyncio.gather(*(person(session) for _ in range(concurrency)))
    result.elapsed = last_done - start
    return result


async def first_replies(url: str, texts: List[str], tag: str, concurrency: int = 4,
                        timeout: float = 30.0,
                        headers: Optional[Dict[str, str]] = None) -> List[Optional[List[dict]]]:
    """Send each text as the first message of its own conversation; return the replies."""
    out: List[Optional[List[dict]]] = [None] * len(texts)
    queue: asyncio.Queue = asyncio.Queue()
    for i, t in enumerate(texts):
        queue.put_nowait((i, t))

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i, text = queue.get_nowait()
            sender = f"rest-bench-{tag}-{uuid.uuid4().hex[:12]}"
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as resp:
                    if resp.status == 200:
                        out[i] = await resp.json(content_type=None)
            except (asyncio.TimeoutError, aiohttp.ClientError, OSError, ValueError):
                out[i] = None

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), headers=headers) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return out


async def parse_only(url: str, count: int, seed: int, timeout: float = 30.0) -> LevelResult:
    """NLU alone: `count` texts, one at a time, to POST /model/parse (no dialogue, no tracker)."""
    rng = random.Random(seed)
    result = LevelResult(1)
    texts: List[str] = []
    while len(texts) < count:
        texts += conversation(rng)
    start = time.perf_counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        for text in texts[:count]:
            t0 = time.perf_counter()
            try:
                async with session.post(url, json={"text": text}) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}")
                result.latencies.append(time.perf_counter() - t0)
            except asyncio.TimeoutError:
                result.timeouts += 1
            except (aiohttp.ClientError, RuntimeError, OSError) as exc:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{type(exc).__name__}: {exc}"[:300])
    result.elapsed = time.perf_counter() - start
    return result
