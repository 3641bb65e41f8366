"""The global send rate: one token bucket shared by every notifier process.

SMTP_RATE_PER_SECOND = r (0: no limit) lets through r messages per second on average, with
bursts of at most max(1, r) messages (one second's worth). The bucket is kept as the time at
which it will be full again ("theoretical arrival time", GCRA): each send reserves the next
free instant in one atomic step and sleeps until it, first come first served, with no polling.

Where the bucket lives follows the broker, because that is what the notifiers already share:
- BROKER_URL on Redis (workers on any number of hosts): one key in that Redis, updated by a Lua
  script on Redis's own clock, so hosts whose clocks differ still agree;
- the embedded broker (one machine by construction): a small file under VAR_DIR, updated under
  an exclusive lock (flock).
If Redis cannot be reached, the message goes out unthrottled and a warning is logged: a broker
outage must not strand messages that a worker already holds.
"""

import fcntl
import logging
import time
from pathlib import Path
from typing import Protocol

import redis

from shared.settings import Settings

log = logging.getLogger(__name__)

REDIS_KEY = "recrue:smtp-rate"

# KEYS[1]: the bucket; ARGV[1]: seconds between two messages; ARGV[2]: burst size.
# Returns the seconds to wait, as a string (a Lua number would be truncated to an integer).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - (burst - 1) * interval - now
if wait < 0 then wait = 0 end
local ttl = math.ceil((tat + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', tat + interval), 'PX', ttl)
return string.format('%.6f', wait)
"""


class Bucket(Protocol):
    def reserve(self) -> float:
        """Take the next free instant; returns the seconds to wait until it."""
        ...


def next_instant(tat: float, now: float, interval: float, burst: float) -> tuple[float, float]:
    """GCRA: (seconds to wait, the bucket's new theoretical arrival time)."""
    start = max(tat, now)
    return max(0.0, start - (burst - 1) * interval - now), start + interval


class NoLimit:
    def reserve(self) -> float:
        return 0.0


class FileBucket:
    """The bucket as a file, for the processes of one machine."""

    def __init__(self, path: Path, rate: float) -> None:
        self.path, self.interval, self.burst = path, 1 / rate, max(1.0, rate)

    def reserve(self) -> float:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+") as state:
            fcntl.flock(state, fcntl.LOCK_EX)  # released when the file closes
            state.seek(0)
            text = state.read().strip()
            wait, tat = next_instant(float(text or 0), time.time(), self.interval, self.burst)
            state.seek(0)
            state.truncate()
            state.write(f"{tat:.6f}")
        return wait


class RedisBucket:
    """The bucket as a Redis key, for workers on any number of hosts."""

    def __init__(self, url: str, rate: float, key: str = REDIS_KEY) -> None:
        self.key, self.interval, self.burst = key, 1 / rate, max(1.0, rate)
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._redis.register_script(_RESERVE)

    def reserve(self) -> float:
        return float(self._script(keys=[self.key], args=[self.interval, self.burst]))


def bucket_for(settings: Settings) -> Bucket:
    """The bucket that SMTP_RATE_PER_SECOND and the broker call for."""
    rate = settings.smtp_rate_per_second
    if rate <= 0:
        return NoLimit()
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return RedisBucket(settings.broker_url, rate)
    return FileBucket(settings.var_dir.resolve() / "smtp-rate", rate)


_buckets: dict[tuple[float, str, Path], Bucket] = {}


def _bucket(settings: Settings) -> Bucket:
    key = (settings.smtp_rate_per_second, settings.broker_url, settings.var_dir)
    bucket = _buckets.get(key)
    if bucket is None:
        bucket = _buckets[key] = bucket_for(settings)
    return bucket


def wait_for_turn(settings: Settings) -> float:
    """Sleep until this process may hand over one more message; returns the seconds slept."""
    try:
        wait = _bucket(settings).reserve()
    except redis.RedisError as exc:
        log.warning("send rate not enforced, Redis unavailable: %s", exc)
        return 0.0
    if wait > 0:
        time.sleep(wait)
    return wait
