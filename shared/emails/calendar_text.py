"""What a trial's calendar event says (its DESCRIPTION), in the candidate's language.

Outlook deletes the invitation email once it is answered, and a calendar keeps the event long
after the email is gone: the event itself carries the trial's information, then the
candidate's link (to answer, or to change their time slot), until when it works, and whom to
ask. The sentences are in the email catalogues (`make messages` extracts them from this file,
see babel.cfg), translated like the emails.

A bulk send writes this for thousands of candidates who differ only by their link: the text
around the link is written once per language, information, deadline and contact.
"""

from datetime import datetime
from functools import lru_cache
from typing import Literal

from shared.emails.texts import language_of, translations, written_datetime

# answer: a fixed-time invitation not answered yet (its page to accept or decline);
# change: a booked slot (its page to change it).
LinkKind = Literal["answer", "change"]


def event_description(
    *,
    language: str,
    info: str,
    contact: str,
    timezone: str,
    link: str | None = None,
    link_kind: LinkKind | None = None,
    until: datetime | None = None,
) -> str:
    """The event's DESCRIPTION: `info`, then the link of `link_kind` and until when it works
    (`until`), then the contact. Without a link, the information and the contact."""
    kind = link_kind if link else None
    until_text = until.isoformat() if until is not None and kind else None
    before, after = _around_link(
        language_of(language), info.strip(), contact.strip(), timezone, kind, until_text
    )
    return before + (link or "") + after if kind else before


@lru_cache(maxsize=1024)
def _around_link(
    language: str,
    info: str,
    contact: str,
    timezone: str,
    link_kind: LinkKind | None,
    until: str | None,
) -> tuple[str, str]:
    _ = translations(language).gettext
    when = written_datetime(datetime.fromisoformat(until), timezone, language) if until else ""
    head = [info, ""] if info else []
    lines: list[str] = []
    if link_kind == "answer":
        label = _("To accept or decline this invitation: %(link)s")
        lines.append(_("You can also answer in your calendar (Accept or Decline)."))
        if when:
            lines.append(_("Please answer before %(deadline)s.") % {"deadline": when})
    elif link_kind == "change":
        label = _("To change your time slot: %(link)s")
        if when:
            lines.append(
                _("You can change your time slot until %(deadline)s.") % {"deadline": when}
            )
    if contact:
        lines.append(_("Questions: %(contact)s") % {"contact": contact})
    if link_kind is None:
        return "\n".join(head + lines), ""
    before, _mark, after = (label % {"link": "\x00"}).partition("\x00")
    return "\n".join([*head, before]), "\n".join([after, *lines])
