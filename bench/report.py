"""The results: JSON (everything measured), a markdown table (side by side with the
limits), the goals met or missed, and an SVG chart of each timing against history size,
drawn here (no plotting library needed)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import RESULTS

NATIONAL_BEDS, NATIONAL_ADMISSIONS = 20_000, 1_000_000


def _get(result: dict[str, Any], *path: str) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ms(result: dict[str, Any], *path: str) -> str:
    p50, p95 = _get(result, *path, "p50_ms"), _get(result, *path, "p95_ms")
    return "-" if p50 is None else f"{p50:.1f} / {p95:.1f}"


def _rate(result: dict[str, Any], *path: str) -> str:
    value = _get(result, *path)
    if value is None:
        return "-"
    failed = value.get("failed", 0)
    return f"{value['per_second']:.0f}/s" + (f" ({failed} failed)" if failed else "")


def _seconds(result: dict[str, Any], *path: str) -> str:
    value = _get(result, *path)
    return "-" if value is None else f"{value:,.0f} s ({_get(result, 'feed', 'messages'):,} msgs)"


def _full(result: dict[str, Any]) -> str:
    full = _get(result, "rules", "full")
    if full is None:
        return "not run (BENCH_FULL_RUN)"
    text = f"{full['seconds']:.1f} s, {full['raised']:,} raised"
    if full.get("errors"):
        text += f"; **failed**: {', '.join(full['errors'])} †"
    return text


def _windowed(result: dict[str, Any], key: str) -> str:
    windowed = _get(result, "rules", key)
    if windowed is None:
        return "-"
    runs = ", ".join(f"{s:.2f}" for s in windowed["seconds"])
    return f"{windowed['steady']:.2f} s ({runs})"


ROWS: tuple[tuple[str, Any], ...] = (
    ("Ward board, 30 beds, HTML: p50 / p95 ms", lambda r: _ms(r, "board", "html")),
    ("  limit: one SQL query", lambda r: _ms(r, "board", "sql")),
    ("  limit: bare route, same size", lambda r: _ms(r, "board", "bare_html")),
    ("Ward board, 30 beds, JSON: p50 / p95 ms", lambda r: _ms(r, "board", "json")),
    ("  limit: bare route, same size", lambda r: _ms(r, "board", "bare_json")),
    ("Bed search (API): p50 / p95 ms", lambda r: _ms(r, "search", "api")),
    ("  limit: one SQL query", lambda r: _ms(r, "search", "sql")),
    ("  limit: bare route, same size", lambda r: _ms(r, "search", "bare")),
    (
        "Rule run, windowed, history worked: steady (runs 1, 2, 3)",
        lambda r: _windowed(r, "windowed"),
    ),
    ("  limit: one SQL query of everything open: p50 / p95 ms", lambda r: _ms(r, "rules", "sql")),
    ("Rule run, full: the first over all history", _full),
    (
        "Rule run, windowed after the full run (its open alerts)",
        lambda r: _windowed(r, "after_full"),
    ),
    ("Admissions written through the API", lambda r: _rate(r, "admissions", "api")),
    ("  limit: the same rows by hand-written SQL", lambda r: _rate(r, "admissions", "sql")),
    ("  limit: bare route, same request", lambda r: _rate(r, "admissions", "bare")),
    ("PAS feed through MLLP, a national day: messages/s", lambda r: _rate(r, "feed", "listener")),
    ("  ACK p50 / p95 ms", lambda r: _ms(r, "feed", "listener", "ack")),
    ("  a day's backlog drains in", lambda r: _seconds(r, "feed", "day_drains_in_s")),
    ("  limit: bare MLLP listener (parse, ACK): messages/s", lambda r: _rate(r, "feed", "bare")),
    ("  limit: its ACK p50 / p95 ms", lambda r: _ms(r, "feed", "bare", "ack")),
    ("Peak memory (RSS) of a web worker", lambda r: _mb(r, "worker_peak_rss_mb")),
    ("  limit: a bare worker", lambda r: _mb(r, "bare_peak_rss_mb")),
)


def _mb(result: dict[str, Any], key: str) -> str:
    value = _get(result, "memory", key)
    return "-" if value is None else f"{value:.0f} MB"


def _head(result: dict[str, Any]) -> str:
    s = result["set"]
    engine = "PostgreSQL" if s["engine"] == "postgresql" else "SQLite"
    return f"{engine}<br>{s['beds']:,} beds<br>{s['past_admissions'] / 1000:,.0f}k past adm."


def _facts(result: dict[str, Any]) -> list[str]:
    s = result["set"]
    rows = s["rows"]
    built = f"built in {s['build_seconds']:.0f} s" + (" (reused)" if s["reused"] else "")
    return [
        f"{s['past_admissions']:,}",
        f"{s['restrictive_episodes']:,}",
        f"{rows['purpose_reviews']:,}",
        f"{s['occupancy']:.1%}",
        f"{s['workers']}",
        built,
    ]


FACT_ROWS = (
    "Past admissions",
    "Restrictive episodes (seclusion, segregation, force)",
    "Purpose reviews",
    "Occupied now",
    "Web workers",
    "`wardflow seed synthetic`",
)


def markdown(results: list[dict[str, Any]], goals: list[dict[str, Any]], started: str) -> str:
    head = "| | " + " | ".join(_head(r) for r in results) + " |"
    rule = "|---|" + "---|" * len(results)
    lines = [f"Run {started} on this machine.", "", head, rule]
    for label, facts in zip(
        FACT_ROWS, zip(*(_facts(r) for r in results), strict=True), strict=bool(results)
    ):
        lines.append(f"| {label} | " + " | ".join(facts) + " |")
    for label, cell in ROWS if results else ():
        name = label.replace("  ", "&nbsp;&nbsp;↳ ") if label.startswith("  ") else f"**{label}**"
        lines.append(f"| {name} | " + " | ".join(cell(r) for r in results) + " |")
    lines += [
        "",
        "Windowed runs: the first after the start raises what breaches now; *steady* is the "
        "slower of the later two, what every scheduled run costs.",
        "",
    ]
    if any(_get(r, "rules", "full", "errors") for r in results):
        lines += [
            "† A rule that failed looks at everything again in the next run; the errors were "
            "taken off the full run's record in the measured copy to measure the windowed "
            "runs after it.",
            "",
        ]
    lines += [
        "| Goal | Measured | |",
        "|---|---|---|",
    ]
    for goal in goals:
        mark = {True: "met", False: "**missed**", None: "not measured"}[goal["met"]]
        lines.append(f"| {goal['goal']} | {goal['measured']} | {mark} |")
    return "\n".join(lines) + "\n"


def _p95(result: dict[str, Any] | None, *path: str) -> float | None:
    if result is None:
        return None
    value = _get(result, *path, "p95_ms")
    return float(value) if value is not None else None


def goals(
    results: list[dict[str, Any]], weekly: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    pg = sorted(
        (r for r in results if r["set"]["engine"] == "postgresql"),
        key=lambda r: r["set"]["past_admissions"],
    )
    top = pg[-1] if pg else None
    national = top is not None and (
        top["set"]["beds"] >= NATIONAL_BEDS
        and top["set"]["past_admissions"] >= 0.95 * NATIONAL_ADMISSIONS
    )
    where = "" if national or top is None else " (largest set measured is below national scale)"
    out: list[dict[str, Any]] = []

    def add(goal: str, measured: str, met: bool | None) -> None:
        out.append({"goal": goal + where, "measured": measured, "met": met})

    if top is None:
        add("National scale on PostgreSQL", "no PostgreSQL set measured", None)
        return out
    html, js = _p95(top, "board", "html"), _p95(top, "board", "json")
    sql = _p95(top, "board", "sql")
    worst = max(v for v in (html, js) if v is not None) if (html or js) else None
    add("Board p95 < 25 ms (HTML and JSON)", f"HTML {html} ms, JSON {js} ms",
        None if worst is None else worst < 25)  # fmt: skip
    if worst is not None and sql:
        bare = _p95(top, "board", "bare_html") or 0.0
        add(
            "Board p95 within 3x its SQL limit",
            f"{worst / sql:.1f}x the SQL query's p95 ({sql} ms); "
            f"{worst / (sql + bare):.1f}x SQL + bare route ({sql + bare:.1f} ms)",
            worst <= 3 * sql,
        )
    search = _p95(top, "search", "api")
    add("Bed search p95 < 50 ms", f"{search} ms", None if search is None else search < 50)
    windowed = _get(top, "rules", "windowed", "steady")
    fulls = [(r, _get(r, "rules", "full")) for r in pg if _get(r, "rules", "full")]
    failing = sorted({code for _, f in fulls for code in f.get("errors", {})})
    full_text = "; ".join(
        f"full run {f['seconds']:.0f} s at {r['set']['past_admissions'] / 1000:.0f}k"
        for r, f in fulls
    )
    add(
        "A rule run < 2 s (windowed, as scheduled)",
        f"{windowed} s windowed, steady"
        + (f"; {full_text}" if full_text else "")
        + (
            f"; full runs fail {', '.join(failing)} on PostgreSQL, and each failing rule "
            "reads everything again in every run"
            if failing
            else ""
        ),
        None if windowed is None else (windowed < 2 and not failing),
    )
    if weekly is None:
        add("Weekly report < 3 s", "not measured (BENCH_REPORT empty)", None)
    else:
        slowest = max(weekly[form]["p95_ms"] for form in ("json", "pdf", "csv"))
        out.append(
            {
                "goal": "Weekly report < 3 s (1,000-bed trust, a year; JSON, PDF and CSV)",
                "measured": f"p95 JSON {weekly['json']['p95_ms']:.0f} ms, PDF "
                f"{weekly['pdf']['p95_ms']:.0f} ms, CSV {weekly['csv']['p95_ms']:.0f} ms",
                "met": slowest < 3000,
            }
        )
        if "contention" in weekly:
            kept = weekly["contention"]["kept_speed"]
            loaded = weekly["contention"]["loaded"]
            out.append(
                {
                    "goal": "Board and sign-in keep their speed while 10 PDF reports are asked for",
                    "measured": f"p95 under load: board {loaded['board']['p95_ms']:.0f} ms, "
                    f"sign-in {loaded['sign_in']['p95_ms']:.0f} ms",
                    "met": all(kept.values()),
                }
            )
    rate = _get(top, "admissions", "api", "per_second")
    add(
        f"≥ 200 admissions/s with {top['set']['workers']} workers",
        f"{rate}/s",
        None if rate is None else rate >= 200,
    )
    drain = _get(top, "feed", "day_drains_in_s")
    ack = _p95(top, "feed", "listener", "ack")
    refused = _get(top, "feed", "listener", "not_accepted")
    add(
        "PAS feed: a national day's backlog drains in < 5 minutes, ACK p95 < 250 ms, all AA",
        f"{drain} s for {_get(top, 'feed', 'messages')} messages, ACK p95 {ack} ms, "
        f"{refused} not accepted",
        None if drain is None or ack is None else (drain < 300 and ack < 250 and not refused),
    )
    rss = _get(top, "memory", "worker_peak_rss_mb")
    add("A worker < 300 MB", f"{rss} MB peak RSS", None if rss is None else rss < 300)
    for smaller, larger in itertools.pairwise(pg):
        ratio = larger["set"]["past_admissions"] / max(1, smaller["set"]["past_admissions"])
        if not 1.6 <= ratio <= 2.5:
            continue
        changes = []
        for label, path in (
            ("board HTML p95", ("board", "html")),
            ("board JSON p95", ("board", "json")),
            ("search p95", ("search", "api")),
        ):
            a, b = _p95(smaller, *path), _p95(larger, *path)
            if a and b:
                changes.append((label, (b - a) / a))
        a, b = (
            _get(smaller, "rules", "windowed", "steady"),
            _get(larger, "rules", "windowed", "steady"),
        )
        if a and b:
            changes.append(("windowed rule run", (b - a) / a))
        text_ = ", ".join(f"{label} {change:+.0%}" for label, change in changes)
        add(
            f"Doubling history ({smaller['set']['past_admissions'] / 1000:.0f}k → "
            f"{larger['set']['past_admissions'] / 1000:.0f}k) moves board, search and rule "
            "run by < 20 %",
            text_,
            all(abs(c) < 0.2 for _, c in changes) if changes else None,
        )
    return out


# --- the chart ---------------------------------------------------------------------------

DASHED = 'stroke="#999" stroke-dasharray="4 3"'
PANELS = (
    ("Board HTML p95 (ms)", ("board", "html", "p95_ms"), ("board", "sql", "p95_ms")),
    ("Board JSON p95 (ms)", ("board", "json", "p95_ms"), ("board", "sql", "p95_ms")),
    ("Bed search p95 (ms)", ("search", "api", "p95_ms"), ("search", "sql", "p95_ms")),
    ("Windowed rule run, steady (s)", ("rules", "windowed", "steady"), None),
    ("Full rule run (s)", ("rules", "full", "seconds"), None),
    (
        "Admissions/s (API; dashed: bare route)",
        ("admissions", "api", "per_second"),
        ("admissions", "bare", "per_second"),
    ),
)


def svg(results: list[dict[str, Any]]) -> str:
    pg = sorted(
        (r for r in results if r["set"]["engine"] == "postgresql"),
        key=lambda r: r["set"]["past_admissions"],
    )
    width, height, pad = 300, 210, 44
    cols = 3
    rows = (len(PANELS) + cols - 1) // cols
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * width}" '
        f'height="{rows * height + 30}" font-family="Arial, sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="10" y="18" font-size="13" font-weight="bold">Wardflow on PostgreSQL: '
        "each timing against history size (past admissions); dashed: the SQL limit</text>",
    ]
    xs = [r["set"]["past_admissions"] for r in pg]
    for index, (title, path, limit_path) in enumerate(PANELS):
        ox, oy = (index % cols) * width, 30 + (index // cols) * height
        ys = [_get(r, *path) for r in pg]
        limits = [_get(r, *limit_path) for r in pg] if limit_path else []
        values = [v for v in ys + limits if isinstance(v, int | float)]
        parts.append(f'<text x="{ox + pad}" y="{oy + 14}" font-weight="bold">{title}</text>')
        left, right, top, bottom = ox + pad, ox + width - 12, oy + 24, oy + height - 30
        parts.append(
            f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#333"/>'
        )
        if not values or not xs:
            parts.append(f'<text x="{left + 10}" y="{top + 40}">no data</text>')
            continue
        ymax = max(values) * 1.15 or 1
        xmax = max(xs) * 1.05 or 1

        def px(x: float, y: float) -> tuple[float, float]:
            return (
                left + (right - left) * x / xmax,  # noqa: B023
                bottom - (bottom - top) * y / ymax,  # noqa: B023
            )

        for tick in (0, ymax / 2, ymax / 1.15):
            _, ty = px(0, tick)
            label = f"{tick:.0f}" if tick >= 100 else f"{tick:.3g}"
            parts.append(f'<text x="{left - 4}" y="{ty + 4}" text-anchor="end">{label}</text>')
        for x in xs:
            tx, _ = px(x, 0)
            parts.append(
                f'<text x="{tx}" y="{bottom + 14}" text-anchor="middle">{x / 1000:.0f}k</text>'
            )
        for series, style, colour in (
            (ys, 'stroke="#005eb8" stroke-width="2"', "#005eb8"),
            (limits, DASHED, "#999"),
        ):
            points = [
                px(x, y) for x, y in zip(xs, series, strict=False) if isinstance(y, int | float)
            ]
            if len(points) > 1:
                d = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                parts.append(f'<polyline points="{d}" fill="none" {style}/>')
            for x, y in points:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def weekly_table(weekly: dict[str, Any] | None) -> str:
    if weekly is None:
        return ""
    facts = weekly["set"]
    lines = [
        f"Weekly report for the week ending {weekly['week_ending']}, trust-wide: "
        f"{facts['label']}, {facts.get('past_admissions', 0):,} past admissions, "
        f"{facts['workers']} workers.",
        "",
        "| Weekly report | p50 / p95 ms | bytes |",
        "|---|---|---|",
    ]
    for key, label in (
        ("json", "JSON (`/api/v1/reports/weekly`)"),
        ("pdf", "PDF (WeasyPrint, charts drawn on the server)"),
        ("csv", "CSV (long form)"),
        ("sql", "limit: one SQL query (the week's occupied bed days)"),
        ("bare", "limit: bare route, the JSON's size"),
    ):
        value = weekly[key]
        timing = f"{value['p50_ms']:.1f} / {value['p95_ms']:.1f}"
        lines.append(f"| {label} | {timing} | {value.get('bytes', '')} |")
    if "contention" in weekly:
        lines += ["", contention_table(weekly["contention"])]
    return "\n".join(lines) + "\n"


def contention_table(c: dict[str, Any]) -> str:
    """The ward board and a sign-in, quiet and while PDF clients ask (bench/contention.py)."""
    lines = [
        f"While {c['pdf_clients']} clients keep asking for weekly-report PDFs (answers "
        f"meanwhile: {c['pdf_answers_during']}):",
        "",
        "| Request | quiet p50 / p95 ms | under load p50 / p95 ms | failed under load "
        "| kept its speed |",
        "|---|---|---|---|---|",
    ]
    for name, label in (("board", "Ward board (JSON)"), ("sign_in", "Sign-in (form and POST)")):
        q, loaded = c["quiet"][name], c["loaded"][name]
        lines.append(
            f"| {label} | {q['p50_ms']:.1f} / {q['p95_ms']:.1f} | {loaded['p50_ms']:.1f} / "
            f"{loaded['p95_ms']:.1f} | {loaded['failed']} | "
            f"{'yes' if c['kept_speed'][name] else 'no'} |"
        )
    return "\n".join(lines)


def write(
    results: list[dict[str, Any]], started: datetime, weekly: dict[str, Any] | None = None
) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    met = goals(results, weekly)
    (RESULTS / "results.json").write_text(
        json.dumps(
            {"started": stamp, "results": results, "weekly_report": weekly, "goals": met},
            indent=2,
            default=str,
        )
        + "\n"
    )
    table = markdown(results, met, stamp)
    if weekly is not None:
        table += "\n" + weekly_table(weekly)
    (RESULTS / "results.md").write_text(f"# Benchmark results\n\n{table}\n![chart](chart.svg)\n")
    (RESULTS / "chart.svg").write_text(svg(results))
    return RESULTS / "results.md"
