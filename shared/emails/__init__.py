"""Email rendering shared by the notifier (sending) and the API (HR previews)."""

from shared.emails.kinds import KINDS, EmailKind
from shared.emails.texts import LANGUAGES, RenderError, render

__all__ = ["KINDS", "LANGUAGES", "EmailKind", "RenderError", "render"]
