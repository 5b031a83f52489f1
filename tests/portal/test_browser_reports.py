"""The reports in real Chromium against the real portal process: every chart on every report page is
drawn (an SVG from the portal, named by its <title>, described by a <desc> that reads out the table's
figures, bars as long as the figures, no label over a bar, dark text), with no console error; and
each CSV download, made by clicking its link, holds exactly the figures of the page's tables.

Safeguarding leads: each report unsuppressed and published; auditors: published (what they get
whatever they ask). The records are those of tests/portal/world.py.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from tests.portal.helpers import PASSWORD
from tests.portal.live import Watched, sign_in

pytestmark = pytest.mark.browser

REPORTS = ("sg4a", "outcomes", "feedback")
LEAD, AUDITOR = "lee.lead", "aud.auditor"


def _page(live, chromium, username: str) -> Watched:
    account = live.world.accounts[username]
    live.world.allow_code_again(account)
    context = chromium.new_context(locale="en-GB", accept_downloads=True, viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page(), live.url)
    sign_in(watched.page, live.url, account.username, PASSWORD, account.totp_secret)
    return watched


def _tables(page) -> List[dict]:
    """Each section of the report page: its heading, columns and rows as shown."""
    return page.eval_on_selector_all("section.report-section", """sections => sections.map(s => ({
        title: s.querySelector('h2').textContent.trim(),
        columns: [...s.querySelectorAll('thead th')].slice(1).map(th => th.textContent.trim()),
        rows: [...s.querySelectorAll('tbody tr')].map(tr => [tr.querySelector('th').textContent.trim(),
                                                            ...[...tr.querySelectorAll('td')].map(td => td.textContent.trim())]),
    }))""")


def _charts(page) -> List[dict]:
    """Each section's chart as the browser drew it."""
    return page.eval_on_selector_all("section.report-section", """sections => sections.map(s => {
        const svg = s.querySelector('svg');
        if (!svg) return null;
        const named = (svg.getAttribute('aria-labelledby') || '').split(' ').map(id => document.getElementById(id));
        const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        const luminance = rgb => {
            const [r, g, b] = rgb.match(/\\d+/g).slice(0, 3).map(v => { v = v / 255;
                return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        return {
            role: svg.getAttribute('role'),
            visible: svg.getBoundingClientRect().width,
            title: svg.querySelector('title') && svg.querySelector('title').textContent,
            desc: svg.querySelector('desc') && svg.querySelector('desc').textContent,
            labelledBy: named.map(e => e && e.tagName),
            inside: named.every(e => e && svg.contains(e)),
            bars: [...svg.querySelectorAll('rect')].map(r => r.getBoundingClientRect().width),
            rects: [...svg.querySelectorAll('rect')].map(box),
            texts: [...svg.querySelectorAll('text')].map(t => ({box: box(t), text: t.textContent,
                                                                 contrast: 1.05 / (luminance(getComputedStyle(t).fill) + 0.05)})),
        };
    })""")


def _overlaps(a, b) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def _check_charts(page) -> List[str]:
    problems = []
    for table, chart in zip(_tables(page), _charts(page)):
        name = table["title"]
        if chart is None:
            problems.append(f"{name}: no chart")
            continue
        if chart["role"] != "img" or chart["labelledBy"] != ["title", "desc"] or not chart["inside"]:
            problems.append(f"{name}: the chart is not named by its own <title> and <desc>: {chart}")
        if chart["title"] != name or chart["visible"] < 300:
            problems.append(f"{name}: title {chart['title']!r}, {chart['visible']} px wide")
        shown = [(label, values[0]) for label, *values in table["rows"]]
        for label, value in shown:
            spoken = "suppressed" if value == "*" else value
            if f"{label}: {spoken}" not in chart["desc"]:
                problems.append(f"{name}: the description does not read out {label}: {spoken}")
        numbers = [0 if value == "*" else int(value) for _label, value in shown]
        bars = chart["bars"]
        if len(bars) != len(numbers):
            problems.append(f"{name}: {len(bars)} bars for {len(numbers)} rows")
            continue
        for (n, width), (m, other) in zip(zip(numbers, bars), zip(numbers[1:] + numbers[:1], bars[1:] + bars[:1])):
            if (n == 0) != (width == 0) or (n > m and width <= other) or (n == m and abs(width - other) > 1):
                problems.append(f"{name}: bars {bars} do not follow the figures {numbers}")
                break
        for text in chart["texts"]:
            if text["contrast"] < 4.5:
                problems.append(f"{name}: {text['text']!r} has contrast {text['contrast']:.1f} on white")
            if any(_overlaps(text["box"], rect) for rect in chart["rects"]):
                problems.append(f"{name}: {text['text']!r} is drawn over a bar")
    return problems


def _download(page, link_name: str) -> Tuple[str, List[Dict[str, str]]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).click()
    download = info.value
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    return download.suggested_filename, rows


def _figures(tables) -> List[Tuple[str, str, str, str]]:
    return [(t["title"], label, column, value) for t in tables for label, *values in t["rows"]
            for column, value in zip(t["columns"], values)]


@pytest.mark.parametrize("username, kinds", [(LEAD, ("unsuppressed", "published")), (AUDITOR, ("published",))])
def test_every_chart_is_drawn_and_every_csv_matches_its_page(live, chromium, username, kinds):
    watched = _page(live, chromium, username)
    page = watched.page
    problems = []
    try:
        page.get_by_role("link", name="Reports").first.click()
        page.wait_for_url("**/reports/")
        for report in REPORTS:
            for kind in kinds:
                watched.clear()
                page.goto(f"{live.url}/reports/{report}?figures={kind}")
                where = f"{username} {report} {kind}"
                tables = _tables(page)
                if not tables or not all(t["rows"] for t in tables):
                    problems.append(f"{where}: tables without rows: {tables}")
                problems += [f"{where}: {p}" for p in _check_charts(page)]

                name, rows = _download(page, "Download these figures as CSV")
                if name != f"msp-{report}-start-now-{kind}.csv":
                    problems.append(f"{where}: downloaded as {name}")
                got = [(r["Section"], r["Row"], r["Column"], r["Value"]) for r in rows]
                if got != _figures(tables):
                    problems.append(f"{where}: the CSV is not the page's tables:\n  csv  {got}\n  page {_figures(tables)}")
                if {r["Figures"].split(" ")[0] for r in rows} != {kind}:
                    problems.append(f"{where}: the CSV says {set(r['Figures'] for r in rows)}")
                if kind == "unsuppressed":  # the lead's second link: the published figures
                    _name, published = _download(page, "the published figures as CSV")
                    page.goto(f"{live.url}/reports/{report}?figures=published")
                    if [(r["Section"], r["Row"], r["Column"], r["Value"]) for r in published] != \
                            _figures(_tables(page)):
                        problems.append(f"{where}: the published CSV is not the published page's tables")
                if watched.errors():
                    problems.append(f"{where}: {watched.errors()}")
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)


def test_an_auditor_asking_for_unsuppressed_figures_gets_the_published_ones(live, chromium):
    watched = _page(live, chromium, AUDITOR)
    page = watched.page
    try:
        page.goto(f"{live.url}/reports/sg4a?figures=unsuppressed")
        asked = _tables(page)
        assert "Published figures" in page.locator("#figures-kind").inner_text()
        name, rows = _download(page, "Download these figures as CSV")
        assert name == "msp-sg4a-start-now-published.csv"
        assert [(r["Section"], r["Row"], r["Column"], r["Value"]) for r in rows] == _figures(asked)
        assert any(value == "*" for *_rest, value in _figures(asked))  # small counts are suppressed
        assert not watched.errors(), watched.errors()
    finally:
        page.context.close()
