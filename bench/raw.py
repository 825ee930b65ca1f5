"""Hand-written SQL, straight to the driver (asyncpg, or sqlite3), for the limits: what
fetching or writing the same data costs with nothing of the service in between."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC
from typing import Any

import asyncpg

NUMBERED = re.compile(r"\$(\d+)")


class Raw:
    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql")
        self._pg: asyncpg.Connection | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._statements: dict[str, Any] = {}

    async def __aenter__(self) -> Raw:
        if self.postgres:
            self._pg = await asyncpg.connect(self.url.replace("postgresql+asyncpg", "postgresql"))
        else:
            path = self.url.removeprefix("sqlite+aiosqlite:///")
            self._sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._pg is not None:
            await self._pg.close()
        if self._sqlite is not None:
            self._sqlite.close()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """Rows of a query written with $1, $2... (a prepared statement on PostgreSQL)."""
        if self._pg is not None:
            statement = self._statements.get(sql)
            if statement is None:
                statement = self._statements[sql] = await self._pg.prepare(sql)
            return list(await statement.fetch(*args))
        assert self._sqlite is not None
        return self._sqlite.execute(NUMBERED.sub(r":p\1", sql), _sqlite_args(args)).fetchall()

    async def execute(self, sql: str, *args: Any) -> None:
        if self._pg is not None:
            await self._pg.execute(sql, *args)
            return
        assert self._sqlite is not None
        self._sqlite.execute(NUMBERED.sub(r":p\1", sql), _sqlite_args(args))


def _sqlite_args(args: tuple[Any, ...]) -> dict[str, Any]:
    """$1, $2... as :p1, :p2... (a statement may use only some of them), and times as
    SQLAlchemy stores them on SQLite: naive UTC text."""
    out = {}
    for number, value in enumerate(args, start=1):
        if getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        out[f"p{number}"] = value
    return out


# --- the limits' queries -------------------------------------------------------------------

BOARD = """
SELECT b.label, b.status, b.closed_reason, a.id, p.id, p.given_name, p.family_name,
       p.date_of_birth, a.legal_status, a.admitted_at, s.started_at, a.expected_discharge_date,
       (SELECT max(x.started_at) FROM seclusions x
         WHERE x.admission_id = a.id AND x.ended_at IS NULL),
       (SELECT max(r.at) FROM seclusions x JOIN seclusion_reviews r ON r.seclusion_id = x.id
         WHERE x.admission_id = a.id AND x.ended_at IS NULL),
       (SELECT max(g.started_at) FROM segregations g
         WHERE g.admission_id = a.id AND g.ended_at IS NULL),
       (SELECT max(d.started_at) FROM ready_for_discharge d
         WHERE d.admission_id = a.id AND d.ended_at IS NULL),
       (SELECT count(*) FROM alerts al
         WHERE al.admission_id = a.id AND al.status IN ('open', 'acknowledged'))
FROM wards w
JOIN beds b ON b.ward_id = w.id
LEFT JOIN ward_stays s ON s.bed_id = b.id AND s.ended_at IS NULL
LEFT JOIN admissions a ON a.id = s.admission_id
LEFT JOIN patients p ON p.id = a.patient_id
WHERE w.code = $1
ORDER BY b.id
"""

# Nearest empty suitable beds, and the occupied ones expected to free up soonest. The
# distance is a flat-earth approximation (enough to order by; SQLite has no trigonometry).
SEARCH = """
SELECT * FROM (
  SELECT 'empty' AS kind, w.code, b.label, CAST(NULL AS DATE) AS expected,
         CAST(NULL AS TIMESTAMP) AS ready,
         (l.latitude - $3) * (l.latitude - $3)
         + (l.longitude - $4) * (l.longitude - $4) * 0.36 AS near
  FROM beds b JOIN wards w ON w.id = b.ward_id JOIN sites st ON st.id = w.site_id
  JOIN localities l ON l.id = st.locality_id
  WHERE w.sex IN ($1, 'mixed') AND w.min_age <= $2 AND w.max_age >= $2 AND w.ward_type = $5
    AND b.status = 'open'
    AND NOT EXISTS (SELECT 1 FROM ward_stays s WHERE s.bed_id = b.id AND s.ended_at IS NULL)
  ORDER BY near, w.code, b.label LIMIT 20
) empty_beds
UNION ALL
SELECT * FROM (
  SELECT 'soon' AS kind, w.code, b.label, a.expected_discharge_date AS expected,
         d.started_at AS ready,
         (l.latitude - $3) * (l.latitude - $3)
         + (l.longitude - $4) * (l.longitude - $4) * 0.36 AS near
  FROM ward_stays s JOIN beds b ON b.id = s.bed_id JOIN wards w ON w.id = s.ward_id
  JOIN sites st ON st.id = w.site_id JOIN localities l ON l.id = st.locality_id
  JOIN admissions a ON a.id = s.admission_id
  LEFT JOIN ready_for_discharge d ON d.admission_id = a.id AND d.ended_at IS NULL
  WHERE w.sex IN ($1, 'mixed') AND w.min_age <= $2 AND w.max_age >= $2 AND w.ward_type = $5
    AND s.ended_at IS NULL AND b.status = 'open'
    AND (a.expected_discharge_date IS NOT NULL OR d.id IS NOT NULL)
  ORDER BY a.expected_discharge_date, d.started_at, near LIMIT 20
) soon_beds
"""

# What a windowed rule run must read: everything open, with the latest action that
# counts towards each deadline.
OPEN_NOW = """
SELECT 'admission', a.id, max(pr.at) FROM admissions a
  LEFT JOIN purpose_reviews pr ON pr.admission_id = a.id
  WHERE a.discharged_at IS NULL GROUP BY a.id
UNION ALL
SELECT 'seclusion ' || coalesce(r.kind, '-'), x.id, max(r.at) FROM seclusions x
  LEFT JOIN seclusion_reviews r ON r.seclusion_id = x.id
  WHERE x.ended_at IS NULL GROUP BY x.id, r.kind
UNION ALL
SELECT 'observation', x.id, max(o.at) FROM seclusions x
  LEFT JOIN seclusion_observations o ON o.seclusion_id = x.id
  WHERE x.ended_at IS NULL GROUP BY x.id
UNION ALL
SELECT 'segregation ' || coalesce(r.kind, '-'), g.id, max(r.at) FROM segregations g
  LEFT JOIN segregation_reviews r ON r.segregation_id = g.id
  WHERE g.ended_at IS NULL GROUP BY g.id, r.kind
UNION ALL
SELECT 'ready', d.id, d.started_at FROM ready_for_discharge d WHERE d.ended_at IS NULL
UNION ALL
SELECT 'request', q.id, q.decision_to_admit_at FROM bed_requests q WHERE q.status = 'open'
UNION ALL
SELECT 'placement', o.id, max(v.at) FROM out_of_area_placements o
  LEFT JOIN out_of_area_reviews v ON v.placement_id = o.id
  WHERE o.ended_at IS NULL GROUP BY o.id
UNION ALL
SELECT 'force', f.id, f.debriefed_at FROM restrictive_interventions f
  WHERE f.started_at > $1
"""

# One admission, as the API writes it: the admission, its stay, its legal status, the
# audit entry. PostgreSQL: one statement; SQLite (no writing CTEs): one transaction.
ADMIT_PG = """
WITH a AS (
  INSERT INTO admissions (patient_id, admitted_at, reason, expected_benefit, legal_status,
                          created_at)
  VALUES ($1, $2, 'Benchmark', 'Benchmark', 'informal', $2) RETURNING id
), s AS (
  INSERT INTO ward_stays (admission_id, ward_id, bed_id, started_at)
  SELECT id, $3, $4, $2 FROM a
), l AS (
  INSERT INTO legal_status_changes (admission_id, legal_status, at, recorded_at)
  SELECT id, 'informal', $2, $2 FROM a
)
INSERT INTO audit_log (at, username, action, entity_type, entity_id)
SELECT $2, 'bench', 'admission.create', 'admissions', id::text FROM a
"""
ADMIT_SQLITE = (
    "INSERT INTO admissions (patient_id, admitted_at, reason, expected_benefit, legal_status,"
    " created_at) VALUES ($1, $2, 'Benchmark', 'Benchmark', 'informal', $2)",
    "INSERT INTO ward_stays (admission_id, ward_id, bed_id, started_at)"
    " VALUES (last_insert_rowid(), $3, $4, $2)",
    "INSERT INTO legal_status_changes (admission_id, legal_status, at, recorded_at)"
    " SELECT admission_id, 'informal', $2, $2 FROM ward_stays WHERE id = last_insert_rowid()",
    "INSERT INTO audit_log (at, username, action, entity_type, entity_id)"
    " VALUES ($2, 'bench', 'admission.create', 'admissions', 'x')",
)
