"""The one Alembic history; `recrue migrate` runs it against DATABASE_URL."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from shared.settings import get_settings

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for `url` (default: the configured database)."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # ConfigParser interpolates '%': a password may contain one.
    url = url or get_settings().resolved_database_url
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str | None = None) -> None:
    """Migrate the database to the newest revision."""
    command.upgrade(alembic_config(url), "head")
