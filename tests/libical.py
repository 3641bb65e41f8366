"""libical, the C library behind Evolution, KDE, Cyrus and many CalDAV servers. It marks what it
cannot read with X-LIC-ERROR properties instead of failing: a calendar it accepts has none.

A tiny C program (below) is compiled once per run against the system's libical (Debian:
`libical-dev`, which brings `libical3`; and a C compiler). It reads one calendar on its
standard input and prints each X-LIC-ERROR, one a line. Where libical or the compiler is
missing, the tests that use it are deselected (the run's header says why).
"""

import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <libical/ical.h>

static int report(icalcomponent *component) {
    int found = 0;
    for (icalproperty *p = icalcomponent_get_first_property(component, ICAL_XLICERROR_PROPERTY);
         p != NULL; p = icalcomponent_get_next_property(component, ICAL_XLICERROR_PROPERTY)) {
        printf("%s: %s\n", icalcomponent_kind_to_string(icalcomponent_isa(component)),
               icalproperty_get_xlicerror(p));
        found++;
    }
    for (icalcomponent *c = icalcomponent_get_first_component(component, ICAL_ANY_COMPONENT);
         c != NULL; c = icalcomponent_get_next_component(component, ICAL_ANY_COMPONENT)) {
        found += report(c);
    }
    return found;
}

int main(void) {
    size_t size = 0, used = 0;
    char *text = NULL;
    int ch;
    while ((ch = getchar()) != EOF) {
        if (used + 1 >= size) {
            size = size ? size * 2 : 65536;
            text = realloc(text, size);
            if (text == NULL) return 3;
        }
        text[used++] = (char)ch;
    }
    if (text == NULL) return 2;
    text[used] = '\0';
    icalcomponent *root = icalparser_parse_string(text);
    if (root == NULL) {
        printf("PARSER: not parsed at all\n");
        return 0;
    }
    if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) printf("PARSER: not a VCALENDAR\n");
    report(root);
    icalcomponent_free(root);
    free(text);
    return 0;
}
"""

WHY_MISSING = "libical (Debian: libical-dev) or a C compiler is missing"


@lru_cache
def _program() -> Path | None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not Path("/usr/include/libical/ical.h").exists():
        return None
    folder = Path(tempfile.mkdtemp(prefix="recrue-libical-"))
    (folder / "check.c").write_text(_SOURCE)
    program = folder / "check"
    try:
        done = subprocess.run(
            [compiler, "-O1", "-o", str(program), str(folder / "check.c"), "-lical"],
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return program if done.returncode == 0 else None


def available() -> bool:
    """libical's headers and a compiler are there, and the checker compiled."""
    return _program() is not None


def errors(ics: str) -> list[str]:
    """The X-LIC-ERROR properties libical adds while reading `ics` ([] when it accepts it)."""
    program = _program()
    assert program is not None
    done = subprocess.run([str(program)], input=ics, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.strip()]
