"""The `recrue` command itself: what it prints and what it refuses to start with."""

from shared.settings import Settings


def test_the_run_banner_hides_passwords() -> None:
    from services.cli import banner

    settings = Settings(
        _env_file=None,
        database_url="postgresql+psycopg://recrue:db-Pa55word@db.example:5432/recrue",
        broker_url="redis://:redis-Pa55word@cache.example:6379/0",
        secret_key="x" * 40,
    )
    printed = banner(settings)
    assert "db-Pa55word" not in printed
    assert "redis-Pa55word" not in printed
    assert "postgresql+psycopg://recrue:***@db.example:5432/recrue" in printed
    assert "redis://:***@cache.example:6379/0" in printed
    query = Settings(
        _env_file=None,
        broker_url="rediss://cache.example:6380/0?password=q-Pa55word&ssl_cert_reqs=required",
    )
    assert "q-Pa55word" not in banner(query)
    assert "ssl_cert_reqs=required" in banner(query)
