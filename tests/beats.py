"""Two beats at once, as two threads: what the sweeps' row claims must make safe."""

import threading
from collections.abc import Callable


def as_two_beats(tick: Callable[[], object]) -> None:
    """Run `tick` in two threads released together, as two beats would run one sweep; fail
    with what either raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def beat() -> None:
        try:
            start.wait()
            tick()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
