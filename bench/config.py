"""The benchmark's settings, from BENCH_* environment variables (defaults in brackets).

BENCH_SIZES [250000,500000,1000000]  past admissions of each PostgreSQL set
BENCH_BEDS [20000]                   beds of each PostgreSQL set (England)
BENCH_SQLITE [2000:100000]           beds:admissions of the SQLite set ("" for none)
BENCH_PG [postgresql+asyncpg://postgres@127.0.0.1:5432]   the server (databases
                                     wardflow_bench_<size>_base and wardflow_bench_<size>)
BENCH_SEED [1]                       the generator's seed
BENCH_WORKERS [4]                    web workers on PostgreSQL (SQLite always has one)
BENCH_REQUESTS [200]                 timed requests per latency measurement
BENCH_ADMISSIONS [600]               admissions written through the API per set
BENCH_REPORT [1000:7000]             beds:admissions of the weekly report's set (a 1,000-bed
                                     trust's year: about 7,000 admissions; "" for none)
BENCH_FULL_RUN [250000]              sets (past admissions asked, or "all", or "none") that
                                     get a full rule run over all their history first; the
                                     others start from a recorded earlier run (see README)
BENCH_REBUILD [0]                    1: build every set again, even when a fresh one exists
BENCH_MAX_AGE_HOURS [24]             an older set is built again (its "now" has moved on)
BENCH_KEEP [0]                       1: keep the measured copies (for looking into them)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"


@dataclass(frozen=True)
class DataSet:
    """One set to build and measure."""

    engine: str  # "postgresql" or "sqlite"
    beds: int
    admissions: int
    workers: int

    @property
    def name(self) -> str:
        return f"{self.engine}_{self.beds}_{self.admissions}"

    @property
    def label(self) -> str:
        short = "PostgreSQL" if self.engine == "postgresql" else "SQLite"
        return f"{short}, {self.beds:,} beds, {self.admissions / 1000:,.0f}k admissions"


@dataclass(frozen=True)
class Config:
    sets: tuple[DataSet, ...]
    pg_server: str
    seed: int
    requests: int
    admissions: int
    rebuild: bool
    max_age_hours: float
    keep: bool
    full_run: str
    report: DataSet | None = None

    def wants_full_run(self, data: DataSet) -> bool:
        if self.full_run == "all" or data.engine == "sqlite":
            return True
        return str(data.admissions) in self.full_run.replace(" ", "").split(",")


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.replace(" ", "").split(",") if v]


def load() -> Config:
    env = os.environ.get
    beds = int(env("BENCH_BEDS", "20000"))
    workers = int(env("BENCH_WORKERS", "4"))
    sets = [
        DataSet("postgresql", beds, size, workers)
        for size in _ints(env("BENCH_SIZES", "250000,500000,1000000"))
    ]
    sqlite = env("BENCH_SQLITE", "2000:100000")
    if sqlite:
        sqlite_beds, sqlite_admissions = (int(v) for v in sqlite.split(":"))
        sets.insert(0, DataSet("sqlite", sqlite_beds, sqlite_admissions, 1))
    return Config(
        sets=tuple(sets),
        pg_server=env("BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432").rstrip("/"),
        seed=int(env("BENCH_SEED", "1")),
        requests=int(env("BENCH_REQUESTS", "200")),
        admissions=int(env("BENCH_ADMISSIONS", "600")),
        rebuild=env("BENCH_REBUILD", "0") == "1",
        max_age_hours=float(env("BENCH_MAX_AGE_HOURS", "24")),
        keep=env("BENCH_KEEP", "0") == "1",
        full_run=env("BENCH_FULL_RUN", "250000"),
        report=_report_set(env("BENCH_REPORT", "1000:7000"), workers),
    )


def _report_set(value: str, workers: int) -> DataSet | None:
    if not value:
        return None
    beds, admissions = (int(v) for v in value.split(":"))
    return DataSet("postgresql", beds, admissions, workers)
