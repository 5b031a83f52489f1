"""Web widget benchmark: size, start-up and reply time in real Chromium.

    .venv/bin/python -m bench.widget                  # prints a Markdown section
    .venv/bin/python -m bench.widget --messages 100 --loads 20 --json results/widget_bench.json

Starts the real servers and the demo council page on free loopback ports
(scripts/stack.py) and measures, against issue 4's targets:

* **size**: web_widget/dist/msp-widget.js + .css, gzipped (level 9) and as the
  browser actually transferred them (the demo server sends gzip), target <= 60 KB
  including the bundled socket.io client;
* **script load to ready**: from the request for msp-widget.js to the widget's
  "msp-ready" performance mark (launcher on screen, styles applied), in fresh
  browser contexts, target <= 500 ms; and from opening the chat to connected and
  to the welcome rendered;
* **send to reply rendered**: from submitting a message in the page to the bot's
  first reply in the DOM, and to the last (the server's acknowledgement), p50/p95
  over N messages in one conversation; beside it the same messages over REST,
  so the widget's own share is visible.

``run()`` returns the figures as a dict and ``markdown()`` formats them;
``make bench`` writes them to bench/WIDGET.md, beside bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

from scripts.stack import ROOT, Stack, free_port, new_token

DIST = ROOT / "web_widget" / "dist"
CHROMIUM = os.environ.get("MSP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SIZE_TARGET_KB = 60
READY_TARGET_MS = 500
MESSAGES = [
    "what is financial abuse", "how do I report a concern", "what happens after I report",
    "my grandson keeps my bank card", "what is neglect", "thank you", "are you a robot",
    "what is an advocate", "will I be put in a home", "hello",
]

SEND_AND_TIME = """
async (text) => {
  const log = document.querySelector('.msp-log');
  const input = document.getElementById('msp-input');
  const form = input.form;
  const bots = () => log.querySelectorAll('.msp-msg--bot, .msp-msg--system').length;
  const pending = () => JSON.parse(sessionStorage.getItem('msp-chat')).pending.length;
  const before = bots();
  let first = null;
  const observer = new MutationObserver(() => {
    if (first === null && bots() > before) first = performance.now();
  });
  observer.observe(log, {childList: true});
  input.value = text;
  const t0 = performance.now();
  form.requestSubmit();
  while (first === null || pending() > 0) {
    await new Promise(r => setTimeout(r, 2));
    if (performance.now() - t0 > 60000) break;
  }
  const all = performance.now();
  observer.disconnect();
  return {first: first === null ? null : first - t0, all: all - t0};
}
"""


def pct(values: List[float], p: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: List[float]) -> Dict[str, Optional[float]]:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
            "mean": statistics.fmean(values) if values else None, "max": max(values) if values else None}


def sizes() -> dict:
    out = {}
    for name in ("msp-widget.js", "msp-widget.css"):
        raw = (DIST / name).read_bytes()
        out[name] = {"bytes": len(raw), "gzip": len(gzip.compress(raw, 9))}
    total = sum(v["gzip"] for v in out.values())
    out["total_gzip"] = total
    out["total_gzip_kb"] = round(total / 1024, 1)
    out["meets_target"] = total <= SIZE_TARGET_KB * 1024
    return out


def machine() -> dict:
    try:
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        chromium = "not found"
    return {"date": dt.datetime.now().isoformat(timespec="seconds"), "platform": platform.platform(),
            "python": platform.python_version(), "cpus": os.cpu_count(), "chromium": chromium}


def measure_loads(browser, url: str, loads: int) -> dict:
    ready, after_download, connect, welcome, transferred = [], [], [], [], None
    for i in range(loads):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => performance.getEntriesByName('msp-ready').length > 0")
        timing = page.evaluate("""() => {
            const script = performance.getEntriesByType('resource').find(e => e.name.endsWith('/msp-widget.js'));
            const css = performance.getEntriesByType('resource').find(e => e.name.endsWith('/msp-widget.css'));
            const mark = performance.getEntriesByName('msp-ready')[0];
            return {ready: mark.startTime - script.startTime, afterDownload: mark.startTime - script.responseEnd,
                    transferred: (script.encodedBodySize || 0) + (css ? css.encodedBodySize || 0 : 0)};
        }""")
        ready.append(timing["ready"])
        after_download.append(timing["afterDownload"])
        transferred = timing["transferred"]
        if i < max(3, loads // 4):  # opening the chat: connect and welcome
            t0 = time.perf_counter()
            page.click(".msp-launcher")
            page.wait_for_function("() => document.querySelector('.msp').dataset.connection === 'online'")
            connect.append((time.perf_counter() - t0) * 1000)
            page.wait_for_selector(".msp-msg--bot")
            welcome.append((time.perf_counter() - t0) * 1000)
        context.close()
    return {"script_request_to_ready_ms": summary(ready), "script_downloaded_to_ready_ms": summary(after_download),
            "open_to_connected_ms": summary(connect), "open_to_welcome_ms": summary(welcome),
            "transferred_bytes": transferred,
            "meets_target": (pct(ready, 95) or 1e9) <= READY_TARGET_MS}


def measure_replies(browser, url: str, count: int) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(url)
    page.click(".msp-launcher")
    page.wait_for_function("""() => { const s = JSON.parse(sessionStorage.getItem('msp-chat') || 'null');
                                      return s && s.token && s.pending.length === 0 &&
                                             document.querySelector('.msp-msg--bot'); }""")
    first, every, missing = [], [], 0
    for i in range(count):
        result = page.evaluate(SEND_AND_TIME, MESSAGES[i % len(MESSAGES)])
        if result["first"] is None:
            missing += 1
        else:
            first.append(result["first"])
        every.append(result["all"])
    shown = page.evaluate("document.querySelectorAll('.msp-msg--user').length")
    context.close()
    return {"send_to_first_reply_ms": summary(first), "send_to_last_reply_ms": summary(every),
            "messages": count, "no_reply": missing, "user_messages_shown": shown}


def measure_rest(stack: Stack, count: int) -> dict:
    sender = f"rest-bench-widget-{uuid.uuid4().hex}"
    stack.send(sender, "/greet")
    times = []
    for i in range(count):
        t0 = time.perf_counter()
        stack.send(sender, MESSAGES[i % len(MESSAGES)])
        times.append((time.perf_counter() - t0) * 1000)
    return {"rest_round_trip_ms": summary(times)}


def run(messages: int = 100, loads: int = 20, model: Optional[Path] = None) -> dict:
    from playwright.sync_api import sync_playwright

    if not (DIST / "msp-widget.js").exists():
        raise SystemExit("the widget is not built: run `make widget`")
    if model is None:
        from scripts.model import ensure_model

        model = ensure_model(quiet=True)
    results = {"machine": machine(), "size": sizes()}
    with tempfile.TemporaryDirectory(prefix="msp-bench-widget-") as tmp:
        var_dir = Path(tmp)
        stack = Stack(model=model, rasa_port=free_port(), actions_port=free_port(), var_dir=var_dir,
                      token=new_token(), log_dir=var_dir / "logs", demo_port=free_port(),
                      rest_token=new_token(),
                      # The rate limit per conversation is not what this measures.
                      extra_env={"MSP_WIDGET_SECRET": new_token(), "MSP_WIDGET_RATE_PER_MINUTE": "100000"})
        stack.start()
        try:
            results["servers_ready_s"] = round(stack.ready_seconds, 1)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    measure_loads(browser, stack.demo_url, 2)  # warm up the servers and the browser
                    results["load"] = measure_loads(browser, stack.demo_url, loads)
                    results["replies"] = measure_replies(browser, stack.demo_url, messages)
                finally:
                    browser.close()
            results["replies"].update(measure_rest(stack, messages))
        finally:
            stack.stop()
    return results


def _ms(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{v:.0f} ms"


def markdown(r: dict) -> str:
    s, load, rep = r["size"], r["load"], r["replies"]
    js, css = s["msp-widget.js"], s["msp-widget.css"]
    lines = [
        "## Web widget (bench/widget.py)",
        "",
        f"{r['machine']['date']}, {r['machine']['platform']}, {r['machine']['cpus']} CPUs, {r['machine']['chromium']}.",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| JS + CSS gzipped (incl. socket.io client) | **{s['total_gzip_kb']} KB** "
        f"(JS {js['gzip'] / 1024:.1f} KB of {js['bytes'] / 1024:.1f} KB, CSS {css['gzip'] / 1024:.1f} KB; "
        f"transferred {load['transferred_bytes'] / 1024:.1f} KB) | <= {SIZE_TARGET_KB} KB "
        f"{'met' if s['meets_target'] else 'MISSED'} |",
        f"| script request to ready, p50 / p95 (n={load['script_request_to_ready_ms']['n']}) | "
        f"{_ms(load['script_request_to_ready_ms']['p50'])} / **{_ms(load['script_request_to_ready_ms']['p95'])}** | "
        f"<= {READY_TARGET_MS} ms {'met' if load['meets_target'] else 'MISSED'} |",
        f"| script downloaded to ready, p50 / p95 | {_ms(load['script_downloaded_to_ready_ms']['p50'])} / "
        f"{_ms(load['script_downloaded_to_ready_ms']['p95'])} | |",
        f"| open chat to connected, p50 / p95 | {_ms(load['open_to_connected_ms']['p50'])} / "
        f"{_ms(load['open_to_connected_ms']['p95'])} | |",
        f"| open chat to welcome shown, p50 / p95 | {_ms(load['open_to_welcome_ms']['p50'])} / "
        f"{_ms(load['open_to_welcome_ms']['p95'])} | |",
        f"| send to first reply rendered, p50 / p95 (n={rep['send_to_first_reply_ms']['n']}) | "
        f"**{_ms(rep['send_to_first_reply_ms']['p50'])} / {_ms(rep['send_to_first_reply_ms']['p95'])}** | |",
        f"| send to last reply rendered, p50 / p95 | {_ms(rep['send_to_last_reply_ms']['p50'])} / "
        f"{_ms(rep['send_to_last_reply_ms']['p95'])} | |",
        f"| same messages over REST (server only), p50 / p95 | {_ms(rep['rest_round_trip_ms']['p50'])} / "
        f"{_ms(rep['rest_round_trip_ms']['p95'])} | |",
        "",
        f"{rep['messages']} messages in one conversation, one at a time; {rep['no_reply']} without a reply; "
        f"servers ready in {r['servers_ready_s']} s.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Web widget benchmark (size, start-up, reply time).")
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--model", type=Path, help="a trained model (default: the content-hashed one)")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "widget_bench.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "bench" / "WIDGET.md",
                        help="where the Markdown report goes (default bench/WIDGET.md)")
    opts = parser.parse_args(argv)
    results = run(opts.messages, opts.loads, opts.model)
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps(results, indent=2))
    report = markdown(results)
    opts.markdown.write_text(report)
    print(report)
    print(f"(written to {opts.markdown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
