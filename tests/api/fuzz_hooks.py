"""schemathesis hooks for the fuzzing of the OpenAPI (tests/api/test_openapi_fuzz.py, `make fuzz`).

Loaded by schemathesis through SCHEMATHESIS_HOOKS=tests.api.fuzz_hooks.
"""

import itertools
import re
from typing import Any

import schemathesis

from services.api.idempotency import KEY_PATTERN_TEXT

_sent = itertools.count()
_VALID_KEY = re.compile(KEY_PATTERN_TEXT)


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """A valid Idempotency-Key the fuzzer drew is made unique to its request.

    The fuzzer draws keys from the header's schema, and draws the same few ones (`!`, `0`...)
    for different requests. The API rightly answers the second of them a 422
    (`idempotency-key-reused`): a key names one request. A key is what a client makes unique,
    and the schema cannot say "unused"; so each valid key gets a unique suffix here, and invalid
    ones (the negative cases) go as drawn. Replays of one key are tested by
    tests/api/test_idempotency_keys.py.
    """
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.match(value):
            headers[name] = f"{value[:160]}-{next(_sent)}"


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a 422 to a path the stateful phase built from a null.

    The stateful phase follows the links it infers from responses: a message of an application
    without a dossier has `dossier_id: null`, and the phase puts that null in a dossier's path
    (`/dossiers/None/...`). No client following our data would send it (a null says there is
    no dossier); the API rightly answers 422 (not a UUID), which is not a refusal of valid data.
    """
    from_a_null = any(value is None for value in (case.path_parameters or {}).values())
    return not (failure.code == "ST202" and from_a_null and response.status_code == 422)
