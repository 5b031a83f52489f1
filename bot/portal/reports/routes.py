"""Reports: SG4a, desired outcomes by reporting group, and end-of-enquiry feedback, for a chosen period.

Each report is tables with a chart beside each (SVG drawn here, see
``bot.portal.charts``) and a CSV download in the layout of the return. The
figures come from ``bot.records.reporting``, the same functions ``msp report``
uses. Safeguarding leads choose published figures (the publication rule of
the settings: suppressed and rounded) or unsuppressed ones, which are for
leads only and say so; auditors get published figures only. Every view and
every download is audited.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

from flask import Blueprint, Response, g, render_template, request, url_for

from bot.records.reporting import REPORTS, publication_rule, report_csv, report_sections

from .. import inputs
from ..access import audit, reading, roles
from ..charts import bar_chart

bp = Blueprint("reports", __name__, url_prefix="/reports")

VIEWERS = ("lead", "auditor")
REPORT = "/<any(sg4a, outcomes, feedback):report>"
FIGURES = ("unsuppressed", "published")


def _period():
    start = inputs.day("from", label="From")
    end = inputs.day("to", label="To", end=True)
    if start and end and start >= end:
        raise inputs.BadInput("'From' must be on or before 'To'.")
    return start, end


def _published() -> bool:
    """Auditors see published figures only; leads choose (unsuppressed unless they ask)."""
    asked = inputs.choice("figures", FIGURES, label="Figures", default="unsuppressed")
    return g.user.role != "lead" or asked == "published"


def _typed():
    """The period and choice as typed (they were checked), for links and the audit row."""
    return {key: request.args.get(key) for key in ("from", "to", "figures") if request.args.get(key)}


def _day(value) -> Optional[date]:
    return value.date() if value is not None else None


def _figures(report: str):
    """The period and kind of figures asked for (checked), the rule, and the report's sections."""
    start, end = _period()
    published = _published()
    with reading() as db:
        sections = report_sections(db, report, concluded_from=start, concluded_to=end)
    return start, end, published, publication_rule(), sections


@bp.route("/")
@roles(*VIEWERS)
def index():
    return render_template("reports/index.html", reports=REPORTS)


@bp.route(REPORT)
@roles(*VIEWERS)
def show(report: str):
    _start, _end, published, rule, sections = _figures(report)
    audit("report.view", target=f"report:{report}", detail=dict(_typed(), published=published))
    charts = {s.key: bar_chart(f"chart-{s.key}", s.title, s.chart_values(published, rule), s.columns[0].lower())
              for s in sections}
    typed = _typed()
    csv_args = {k: v for k, v in typed.items() if k != "figures"}
    return render_template(
        "reports/show.html", report=report, title=REPORTS[report], sections=sections, charts=charts,
        published=published, rule=rule, lead=g.user.role == "lead",
        form={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
        csv_url=url_for("reports.download", report=report, figures="published" if published else "unsuppressed",
                        **csv_args),
        published_csv_url=url_for("reports.download", report=report, figures="published", **csv_args),
        switch_url=url_for("reports.show", report=report, figures="unsuppressed" if published else "published",
                           **csv_args),
    )


@bp.route(REPORT + ".csv")
@roles(*VIEWERS)
def download(report: str):
    start, end, published, rule, sections = _figures(report)
    first, last = _day(start), _day(end - timedelta(days=1)) if end else None
    body = report_csv(report, sections, published=published, rule=rule, period_from=first, period_to=last)
    audit("report.export", target=f"report:{report}", detail=dict(_typed(), published=published))
    name = f"msp-{report}-{first or 'start'}-{last or 'now'}-{'published' if published else 'unsuppressed'}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
