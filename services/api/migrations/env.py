"""Alembic environment: the one migration history, for PostgreSQL and SQLite alike."""

from alembic import context

from shared.db import make_engine
from shared.models import Base

url = context.config.get_main_option("sqlalchemy.url")
assert url, "recrue migrate sets sqlalchemy.url from DATABASE_URL"
engine = make_engine(url, statement_limits=False)  # a migration may take its time

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
