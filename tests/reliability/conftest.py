"""Fixtures for the reliability tests: databases of their own, the service as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import Api, Database, Service, Trust, make_token


@pytest.fixture
def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (the PostgreSQL pass runs it)")


class Databases:
    """Databases of a test's own on the pass's database server, dropped afterwards."""

    def __init__(self, test_url: str, tmp: Path) -> None:
        self.test_url, self.tmp = test_url, tmp
        self.made: list[Database] = []

    def new(self, suffix: str) -> Database:
        self.made.append(Database.create(self.test_url, suffix, self.tmp))
        return self.made[-1]

    def copy(self, source: Database, suffix: str) -> Database:
        self.made.append(source.copy(suffix, self.tmp))
        return self.made[-1]


@pytest.fixture
def databases(database_url: str, tmp_path: Path) -> Iterator[Databases]:
    made = Databases(database_url, tmp_path)
    yield made
    for db in made.made:
        db.drop()


@pytest.fixture(scope="package")
def trust(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    """The service as deployed: `wardflow serve` with four workers on PostgreSQL (the one
    process on SQLite), every worker running the scheduler, on a migrated database of its
    own with an admin made by the command line. Shared by the tests here, each on wards of
    its own; a test that kills it starts it again."""
    tmp = tmp_path_factory.mktemp("service")
    db = Database.create(database_url, "rel_service", tmp)
    service = Service(
        db.url,
        tmp,
        workers=4 if db.dialect == "postgresql" else 1,
        settings={"scheduler_enabled": "true", "rules_interval_seconds": "2"},
    )
    try:
        service.start(wait=False)
        token = make_token(db.url, "reliability-admin")  # while the workers start
        service.wait_ready()
        api = Api(service.base_url, token)
        api.place()
        yield Trust(db, service, api, token)
        api.close()
    finally:
        service.stop()
        db.drop()
