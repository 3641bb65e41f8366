"""One settings class, read from the environment: each name is the field's in upper case
(DATABASE_URL, SMTP_HOST...), and the README's "Configuration" table lists them all."""

from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from the environment (and a `.env` file if present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="where the embedded run keeps its files")
    database_url: str = ""
    broker_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout: float = 30.0
    smtp_send_deadline: float = Field(
        default=60.0, gt=0, description="seconds one whole send may take, connection included"
    )
    smtp_connections: int = Field(
        default=3, ge=1, le=50, description="SMTP connections each notifier process keeps busy"
    )
    smtp_require_tls: bool = Field(
        default=False, description="refuse to send when the server offers no STARTTLS"
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="a PEM file of extra certificate authorities to trust"
    )
    smtp_rate_per_second: float = Field(
        default=0.0, ge=0, description="messages per second across all notifiers; 0: no limit"
    )
    mail_from: str = "Recrue RH <rh@recrue.local>"
    # Whom candidates may ask, as calendar events say it: MAIL_FROM's address when unset.
    hr_contact: str = ""
    # The candidate pages' accessibility statement (the EU Web Accessibility Directive's).
    administration_name: str = Field(
        default="", description="who publishes the candidate pages: MAIL_FROM's name when unset"
    )
    accessibility_contact: str = Field(
        default="", description="where to report an accessibility problem: HR_CONTACT when unset"
    )
    accessibility_enforcement: str = Field(
        default="", description="the enforcement body a candidate may turn to (name, address)"
    )
    mail_dir: Path | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""  # required outside SQLite: see shared/secret_key.py
    api_port: int = 8000
    api_workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes")
    docs_enabled: bool = Field(default=True, description="serve /docs and /openapi.json")
    metrics_enabled: bool = Field(default=True, description="serve /metrics")
    metrics_token: str = Field(
        default="", description="when set, /metrics wants Authorization: Bearer <this token>"
    )
    cors_origins: str = Field(
        default="",
        description="comma-separated origins browsers may call the API from (empty: none)",
    )
    default_timezone: str = "Europe/Brussels"
    outbox_relay_seconds: float = 5.0
    outbox_relay_grace_seconds: float = 2.0
    delivery_sweep_seconds: float = Field(
        default=15.0, gt=0, description="how often beat sweeps the message rows"
    )
    delivery_redeliver_seconds: float = Field(
        default=120.0,
        gt=0,
        description="a waiting email or calendar change no task took this long after it was "
        "due is published again",
    )
    storage_dir: Path | None = None
    max_upload_mb: float = 10.0
    max_body_kb: int = Field(
        default=1024, ge=1, description="largest request body outside uploads (JSON, forms)"
    )
    candidate_link_days: int = 14
    unavailability_sweep_seconds: float = 60.0
    deadline_sweep_seconds: float = 60.0
    offer_days: int = 7
    dossier_review: bool = Field(
        default=False,
        description="validated applications open their dossier under_review, for HR to admit",
    )
    idempotency_key_hours: float = Field(default=24.0, gt=0)
    # Retention of personal data (docs/PRIVACY.md), swept by beat every RETENTION_SWEEP_SECONDS.
    cv_bank_months: int = Field(
        default=12, ge=1, description="months a CV bank profile is kept after the candidate acted"
    )
    cv_bank_renewal_days: int = Field(
        default=30, ge=1, description="days before that end the candidate is asked to keep it"
    )
    retention_months_after_closing: int = Field(
        default=24, ge=1, description="months a closed job's dossiers are kept after the closing"
    )
    reserve_valid_months: int = Field(
        default=24, ge=0, description="months the board's reserve stays valid after its decision"
    )
    retention_sweep_seconds: float = Field(
        default=3600.0, gt=0, description="how often beat runs the retention sweeps"
    )
    # Bounds on every network wait, so that a hung database or broker cannot freeze the api.
    database_connect_timeout: int = Field(
        default=5, ge=2, description="seconds to open a PostgreSQL connection"
    )
    database_statement_timeout: float = Field(
        default=30.0, ge=0, description="PostgreSQL statement_timeout, seconds; 0: none"
    )
    database_lock_timeout: float = Field(
        default=10.0, ge=0, description="PostgreSQL lock_timeout, seconds; 0: none"
    )
    broker_timeout: float = Field(
        default=2.0, gt=0, description="seconds per Redis connect or command (a publish)"
    )
    readyz_timeout: float = Field(default=2.0, gt=0, description="seconds per /readyz check")
    # Answers through the calendar (iTIP REPLY/COUNTER): beat polls this mailbox when a host is set.
    replies_imap_host: str = Field(default="", description="IMAP server of the HR mailbox")
    replies_imap_port: int = Field(default=993, ge=1, le=65535)
    replies_imap_username: str = ""
    replies_imap_password: str = ""
    replies_imap_tls: Literal["tls", "starttls", "none"] = "tls"
    replies_imap_ca_file: Path | None = Field(
        default=None, description="a PEM file of extra certificate authorities to trust"
    )
    replies_imap_folder: str = "INBOX"
    replies_imap_done_folder: str = Field(
        default="Recrue-Done", description="where handled answers are moved (created if missing)"
    )
    replies_imap_timeout: float = Field(default=30.0, gt=0, description="seconds per IMAP command")
    replies_poll_seconds: float = Field(default=60.0, gt=0, description="how often beat polls")
    # Sign-in through OpenID Connect (services/api/oidc.py): without an issuer, API keys only.
    oidc_issuer: str = Field(default="", description="the provider's issuer URL")
    oidc_audience: str = Field(default="", description="the `aud` access tokens must carry")
    oidc_roles_claim: str = Field(
        default="roles", description="the claim listing roles; a dotted path for nested ones"
    )
    oidc_role_map: str = Field(
        default="", description="provider role=Recrue role, comma-separated: recrue-hr=hr,..."
    )
    oidc_email_claim: str = Field(default="email", description="the claim naming the person")
    oidc_auto_create: bool = Field(
        default=False, description="create a person on their first valid sign-in"
    )

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file under var/."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'recrue.db').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        """BROKER_URL, or kombu's filesystem transport (the embedded broker)."""
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        """Folder of the embedded broker's queues."""
        return (self.var_dir / "broker").resolve()

    @property
    def resolved_mail_dir(self) -> Path:
        """MAIL_DIR, or var/mail: the embedded sink writes one .eml file per email there."""
        return (self.mail_dir or self.var_dir / "mail").resolve()

    @property
    def resolved_storage_dir(self) -> Path:
        """STORAGE_DIR, or var/files: uploaded CVs and attachments, outside any web root."""
        return (self.storage_dir or self.var_dir / "files").resolve()

    @property
    def sender(self) -> tuple[str, str]:
        """MAIL_FROM as (name, address)."""
        return _name_and_address(self.mail_from)

    @property
    def administration(self) -> str:
        """ADMINISTRATION_NAME, or the name MAIL_FROM shows."""
        return self.administration_name or self.sender[0] or "Recrue"

    @property
    def contact(self) -> str:
        """HR_CONTACT, or MAIL_FROM's address: whom candidates may ask."""
        return self.hr_contact or self.sender[1]

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS_ORIGINS as a list, without blanks or trailing slashes."""
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def oidc_role_mapping(self) -> dict[str, str]:
        """OIDC_ROLE_MAP as a dict: the provider's role name to Recrue's."""
        pairs = (item.partition("=") for item in self.oidc_role_map.split(","))
        return {name.strip(): role.strip() for name, _, role in pairs if name.strip() and role}

    @property
    def uses_embedded_broker(self) -> bool:
        return self.resolved_broker_url.startswith("filesystem")


@lru_cache(maxsize=16)
def _name_and_address(mail_from: str) -> tuple[str, str]:
    """Parsed once: email.utils is pure Python, and every calendar of a bulk invitation names
    its organizer and the HR contact."""
    return parseaddr(mail_from)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests clear the cache after changing the environment)."""
    return Settings()
