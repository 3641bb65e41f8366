"""schemathesis hooks for the fuzzing of the OpenAPI (tests/api/test_openapi_fuzz.py, `make fuzz`).

Loaded by schemathesis through SCHEMATHESIS_HOOKS=tests.api.fuzz_hooks.
"""

import itertools
import re
import uuid
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
    # A link the stateful phase infers from a nullable field (a message's `dossier_id`, null
    # when it is about an application) yields None, sent as ".../dossiers/None/...": no client
    # follows a link that is not there. Such a path goes with the id of nothing (a 404).
    parameters = case.path_parameters or {}
    for name in [name for name, value in parameters.items() if value is None]:
        parameters[name] = str(uuid.UUID(int=0))
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.match(value):
            headers[name] = f"{value[:160]}-{next(_sent)}"
