"""XmR charts as SVG drawn on the server (no script): the points, the mean, the natural
process limits, special causes coloured as Making Data Count colours them (orange a
concern, blue an improvement, grey common cause), and the 85 % line on occupancy. Each
has a title and a description for screen readers; the page and the PDF use the same."""

from __future__ import annotations

from markupsafe import Markup, escape

from app.reports.schemas import Trend
from app.reports.trends import chart_of

WIDTH, HEIGHT = 640, 190
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 30
GREY, ORANGE, BLUE, INK, LINE = "#768692", "#ed8b00", "#41b6e6", "#212b32", "#425563"


def _num(value: float) -> str:
    return f"{value:,.1f}" if abs(value) < 100 and value != int(value) else f"{value:,.0f}"


def svg(trend: Trend, *, ident: str) -> Markup:
    chart = chart_of(trend)
    values = trend.values
    known = [v for v in values if v is not None]
    lines = [v for v in (chart.upper, chart.lower, chart.mean) if v is not None]
    target = 85.0 if trend.unit == "%" else None
    extent = known + lines + ([target] if target is not None else [])
    low = min([0.0, *extent]) if extent else 0.0
    high = max(extent) if extent else 1.0
    if chart.lower is not None and chart.lower > 0:
        low = min([*known, chart.lower]) * 0.9
    if high <= low:
        high = low + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(values) - 1, 1)

    def x(i: int) -> float:
        return LEFT + plot_w * i / n

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / (high - low))

    title = f"{trend.label}, weekly, {len(values)} weeks"
    desc = trend.reading
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wf-spc" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="Arial, sans-serif">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        f'stroke="#d8dde0"/>',
    ]
    for value, label, dash in (
        (chart.upper, "upper limit", "6 4"),
        (chart.lower, "lower limit", "6 4"),
        (chart.mean, "mean", ""),
    ):
        if value is None or not low <= value <= high:
            continue
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="{LINE}" stroke-width="1"{dashes}><title>{label} {_num(value)}</title></line>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="{LINE}">{_num(value)}</text>'
        )
    if target is not None and low <= target <= high:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            f'stroke="#d5281b" stroke-width="1" stroke-dasharray="2 3">'
            f"<title>85 % recommended maximum</title></line>"
        )
    path: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            continue
        path.append(f"{'M' if not path else 'L'}{x(i):.1f},{y(v):.1f}")
    if path:
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{GREY}" stroke-width="1.5"/>')
    for i, v in enumerate(values):
        if v is None:
            continue
        side = chart.special(i)
        colour = GREY
        if side is not None:
            concern = (side == "high") == (trend.concern == "up")
            colour = ORANGE if concern else BLUE
        week = trend.weeks[i].isoformat()
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
            f"<title>week ending {escape(week)}: {_num(float(v))}</title></circle>"
        )
    for i in (0, len(values) - 1):
        when = trend.weeks[i]
        anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - 10}" font-size="10" text-anchor="{anchor}" '
            f'fill="{INK}">{when.day} {when:%b %Y}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it is escaped above)
