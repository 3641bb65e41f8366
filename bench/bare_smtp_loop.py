"""The baseline of the invitations: a bare aiosmtplib loop over one SMTP connection.

It runs in a process of its own, as the stack's notifier does: in the bench's process it would
share one interpreter lock with the SMTP server it measures, which the stack does not.

Usage: python -m bench.bare_smtp_loop PORT COUNT < message (prints the seconds the sends took)
"""

import asyncio
import sys
import time

import aiosmtplib


async def send(port: int, message: bytes, count: int) -> float:
    """Seconds `count` sends of `message` take over one open connection."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
        started = time.perf_counter()
        for n in range(count):
            await smtp.sendmail("rh@recrue.local", [f"loop{n}@example.org"], message)
        return time.perf_counter() - started


def main() -> None:
    port, count = (int(arg) for arg in sys.argv[1:3])
    print(asyncio.run(send(port, sys.stdin.buffer.read(), count)))


if __name__ == "__main__":
    main()
