"""The assistant's limits, prompts and retention setting: one place every part reads."""

from __future__ import annotations

import datetime as dt
import re

from ..settings import get_settings
from ..vocab import RESOLVED_STATUS_VALUES

MAX_MESSAGE_CHARS = 2000
#: At most this many characters of an answer are shown and stored (a model can stream
#: megabytes); beyond, the answer ends with `CUT_NOTICE`, which counts towards the limit.
ANSWER_MAX_CHARS = 8000
CUT_NOTICE = f"\n\n*The answer was cut here: it was longer than {ANSWER_MAX_CHARS:,} characters.*"
RATE_LIMIT_MESSAGES = 20
RATE_LIMIT_WINDOW = dt.timedelta(minutes=10)
DEFAULT_RETENTION_DAYS = 90
HISTORY_FOR_MODEL = 10
ARTICLE_SOURCES = 3
OWN_TICKET_SOURCES = 3
RESOLUTION_SOURCES = 3
PASSAGE_CHARS = 700
FALLBACK_CATEGORY = "Others"
RESOLVED_VALUES = RESOLVED_STATUS_VALUES
TICKET_NUMBER = re.compile(r"\bTKT\d{6,}\b", re.IGNORECASE)

SYSTEM_PROMPT = """You are the SmartSupport help-desk assistant of this company.
Scope: help employees with IT, HR, Finance, facilities and company-asset questions and with their own
SmartSupport tickets. Use ONLY the numbered sources given below (help articles, the user's own tickets,
and anonymised resolutions of similar past requests); cite them like [1]. If the sources do not answer the
question, say so briefly and suggest the "Create a ticket" button. Do not invent policies, contacts or links.
Never ask for passwords. Politely decline anything outside this scope. You cannot see other employees'
tickets or any internal notes, so never claim to. Answer briefly, in Markdown, in the user's language."""

SUGGEST_PROMPT = """Turn the employee's help-desk conversation into a ticket. Reply with ONE JSON object only:
{{"subject": short summary (max 120 characters), "description": what happened and what is needed,
"category": one of the categories below, "sub_category": one of that category's sub-categories or "",
"priority": one of {priorities}}}.
Categories (name: sub-categories):
{categories}"""

#: Stands for the requester's first name in what the model is sent; put back in its draft.
REQUESTER = "[requester]"
REPLY_PROMPT = f"""You are a help-desk coordinator drafting a PUBLIC reply to the requester of a ticket.
Be courteous and concrete; use the help articles if they apply; ask for missing details if needed.
Do not promise dates you cannot know. Write only the reply text (no subject line, no signature placeholder).
Names are withheld: write {REQUESTER} wherever you address the requester by name."""


# ---------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------


def retention_days() -> int:
    """SMARTSUPPORT_CHAT_RETENTION_DAYS (default 90, at least 1; checked when the settings
    load): chat older than this is purged."""
    return get_settings().chat_retention_days
