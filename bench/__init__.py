"""Performance measurements, run by `make bench`: one table of goals (bench/README.md).

A bench run signs its candidate links with a key of its own unless SECRET_KEY is set: on
PostgreSQL the stack refuses to start without one, and a bench database lives for one run."""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
