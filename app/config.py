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
    # A request body larger than this is refused with 413 before it is read whole.
    max_body_bytes: int = 1_048_576
    # After this many failed sign-ins in a row an account is locked for lockout_minutes.
    max_failed_logins: int = 5
    lockout_minutes: int = 15
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
    # Who gets the weekly report (PDF attached) each Monday: a JSON list, like alert_email_to.
    report_recipients: list[str] = []


@lru_cache
def get_settings() -> Settings:
    return Settings()
