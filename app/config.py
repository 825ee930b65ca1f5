"""Settings from the environment (prefix WARDFLOW_) or a .env file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{VAR_DIR / 'wardflow.db'}"


def _local_secret_key() -> str:
    """A key kept under var/ so a single-machine install needs no set-up.

    Production sets WARDFLOW_SECRET_KEY; this is only the embedded default.
    """
    VAR_DIR.mkdir(exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARDFLOW_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=_default_database_url)
    secret_key: str = Field(default_factory=_local_secret_key)
    scheduler_enabled: bool = True
    timezone: str = "Europe/London"
    # Sessions end after this long without a request (a shared ward PC is left signed in).
    session_idle_minutes: int = 30
    # Cookies are Secure whenever the request came over HTTPS (directly, or through a proxy
    # at forwarded_allow_ips that says so in X-Forwarded-Proto); this forces it always.
    cookie_secure: bool = False
    # Addresses whose X-Forwarded-Proto/-For are believed (uvicorn's forwarded_allow_ips):
    # the reverse proxy that ends TLS. "*" trusts anyone: only where nothing else can connect.
    forwarded_allow_ips: str = "127.0.0.1"
    # How long an idle client connection stays open. Longer than the proxy's own idle
    # timeout (nginx and most load balancers: 60 s), or the proxy sends a request on a
    # connection the service is closing at that moment and the user gets a 502; uvicorn's
    # default of 5 s also dropped clients on a loaded machine between two requests.
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    # A request body larger than this is refused with 413 before it is read whole.
    max_body_bytes: int = 1_048_576
    # Sign-in throttling, counted in the database so every worker sees the same counts.
    # From one client address: after max_failed_logins failures for one typed name within
    # lockout_minutes, that name is refused from that address until the window passes (the
    # person at their own PC can still sign in: nobody can lock another out); after
    # sign_in_address_limit failures for any names, that address is refused altogether.
    # The same answer for every name, real or not.
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    sign_in_address_limit: int = 30
    # API tokens end this many days after they are made; a person holds at most this many.
    api_token_days: int = 90
    api_tokens_per_user: int = 5
    # Ward staff read their own ward's past stays of a person (and what was recorded on
    # them) for this many days after the stay ended, to complete the records; no longer.
    records_after_discharge_days: int = Field(default=7, ge=0, le=365)
    # How far in the future a clinical time may be (clock drift between devices).
    future_tolerance_minutes: int = 5
    # Rule runs: how often the scheduler runs the whole catalogue.
    rules_interval_seconds: int = 60
    # High-severity alerts by email (when smtp_host is set) and by webhook (when set).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    alert_email_from: str = "wardflow@localhost"
    alert_email_to: list[str] = []
    alert_webhook_url: str | None = None
    # A notice that fails is tried again after 1, 2, 4... minutes, up to this many times.
    notify_max_attempts: int = 8
    # The link in a notice: where people reach this service.
    public_url: str = "http://127.0.0.1:8000"
    # Where clients reach the API: the start of every link FHIR answers carry (Bundle
    # self/next links, fullUrl). Never taken from the request's Host header, which a
    # client chooses. Default: public_url.
    base_url: str | None = None
    # Who gets the weekly report (PDF attached) each Monday: a JSON list, like alert_email_to.
    report_recipients: list[str] = []
    # Weekly report PDFs laid out at once on this machine, by all the web workers together
    # (app/reports/slots.py); one more is answered 503 "busy,
    # try again" (Retry-After) at once, so PDFs cannot starve the ward board.
    report_pdf_concurrency: int = Field(default=2, ge=1)
    # A finished week's report (data, CSV, PDF) is kept in memory and served again for
    # this long; records typed in late for that week appear once it has passed.
    report_cache_seconds: int = Field(default=300, ge=0)
    # Counts in the weekly report's equality tables below this are suppressed (shown as
    # "fewer than N", null in the JSON), as NHS statistics do: a count of 1 for one ward
    # and one week can name a person. 1 turns suppression off.
    equality_min_count: int = Field(default=5, ge=1)
    # The PAS feed (issue 21): a message held because it came before what it needs (a
    # transfer before its admission) is reported as failed after this long.
    pas_hold_minutes: int = Field(default=60, ge=1)
    # Home locality (code) for people the feed adds, when the PAS address is not mapped:
    # unset, the locality of the admitting ward's site (or the first site's).
    pas_home_locality: str | None = None
    # The MLLP listener: a connection silent this long is closed; when the list is not
    # empty, only these client addresses may connect (MLLP carries no credentials).
    pas_idle_seconds: float = Field(default=300, gt=0)
    pas_allowed_clients: list[str] = []

    @property
    def api_base_url(self) -> str:
        """Where clients reach this service, without a trailing slash."""
        return (self.base_url or self.public_url).rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
