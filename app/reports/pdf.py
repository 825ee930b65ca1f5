"""The report as a PDF (WeasyPrint), from the same data and charts as the page."""

from __future__ import annotations

import asyncio

from app.reports.schemas import WeeklyReport
from app.reports.views_context import context
from app.web import templates


def html(report: WeeklyReport) -> str:
    return templates.env.get_template("reports/pdf.html").render(**context(report))


def render(report: WeeklyReport) -> bytes:
    import weasyprint  # needs Pango (README); imported only when a PDF is made

    document = weasyprint.HTML(string=html(report), base_url=None)
    return bytes(document.write_pdf())


async def render_async(report: WeeklyReport) -> bytes:
    """Off the event loop: laying out a few pages takes a second."""
    return await asyncio.to_thread(render, report)
