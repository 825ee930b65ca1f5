"""`wardflow report weekly`: any finished week, in each form, to a file or standard output."""

from __future__ import annotations

import csv
import io
import json

from tests.test_cli import cli_env, run  # noqa: F401  (the fixture)


def test_report_weekly_in_each_form(cli_env, tmp_path) -> None:  # noqa: F811
    run(cli_env, "db", "upgrade")
    out = run(cli_env, "report", "weekly", "--week-ending", "2026-03-29", "--format", "json")
    data = json.loads(out.stdout)
    assert (data["week_start"], data["week_ending"]) == ("2026-03-23", "2026-03-29")
    assert data["occupied_bed_days"] == 0 and data["occupancy_rate"] is None
    target = tmp_path / "week.csv"
    run(cli_env, "report", "weekly", "--week-ending", "2026-03-29", "--format", "csv",
        "-o", str(target))  # fmt: skip
    rows = list(csv.reader(io.StringIO(target.read_text())))
    assert rows[0] == ["measure", "breakdown", "group", "value"]
    pdf = tmp_path / "week.pdf"
    run(cli_env, "report", "weekly", "--format", "pdf", "-o", str(pdf), "--keep")
    assert pdf.read_bytes().startswith(b"%PDF")
    html = run(cli_env, "report", "weekly", "--week-ending", "2026-03-29", "--format", "html")
    assert "<svg" in html.stdout and "Weekly report: The trust" in html.stdout


def test_report_weekly_refuses_a_day_that_is_not_a_sunday(cli_env) -> None:  # noqa: F811
    run(cli_env, "db", "upgrade")
    result = run(cli_env, "report", "weekly", "--week-ending", "2026-03-28", check=False)
    assert result.returncode == 2
    assert "not a Sunday" in result.stderr
    result = run(cli_env, "report", "weekly", "--ward", "NOPE", check=False)
    assert result.returncode == 2
    assert "No ward 'NOPE'" in result.stderr
