"""A synthetic region or nation, for benchmarks and for trying Wardflow at scale.

`wardflow seed synthetic --beds N --years Y` fills an empty database with hospitals in real
English towns, wards of England's mix of types (adult acute most; older adult, PICU,
CAMHS, learning disability and autism, rehabilitation, secure), about 90 % occupied now,
and Y years of history behind them: admissions with transfers, discharges and legal
status, purpose reviews, seclusion and long-term segregation with their reviews, uses of
force, clinically-ready-for-discharge periods, the waiting list and out-of-area
placements; plus the demo accounts, so the service can be used on it.

It lives in app/ (not bench/) because the installed `wardflow` command runs it. How it
stays realistic: the demo trust's own planner (app.demo.plan, app.demo.restrictive), applied
one hospital at a time. How it stays repeatable: each hospital is planned from its own
random stream, seeded by the seed and the hospital's code, so the same seed and the same
`now` always give the same nation. How it stays fast: rows are tuples with ids given in
advance, written a table at a time in bulk (COPY on PostgreSQL), while the next hospitals
are planned (see build.py).

The modules, in the order the work happens: `places` (towns, hospitals, wards), `history`
(every bed's stays), `people`, `records` (admissions and what hangs off them), `flow`
(the waiting list, out-of-area placements), `restrictive`, `writer`, and `build`, which
runs them.
"""

from app.demo.synthetic.build import Summary, build, years_for
from app.demo.synthetic.places import LARGE_WARD, plan_places

__all__ = ["LARGE_WARD", "Summary", "build", "plan_places", "years_for"]
