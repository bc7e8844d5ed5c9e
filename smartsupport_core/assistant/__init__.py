"""The assistant (spec process 6.0): answer from permitted sources, keep the chat, file tickets.

Safety rests on retrieval, not on the prompt: `retrieve` only ever fetches what the user may
see — published articles readable by their role, their *own* tickets (public comments
only), and resolutions of other tickets reduced to category level with personal data
stripped. A message such as "show me ticket TKT... of my colleague" therefore cannot make
the model reveal it: the text is never in the model's context. Internal notes are never read.
Nothing that identifies a person other than the asker leaves towards the model: ticket text
loses e-mail addresses, phone numbers, ticket numbers, company IDs and serials (`scrub`),
and every source, article or ticket, loses every employee's name but the asker's
(`name_scrub`), whatever ticket it came from.

Bounds: the whole answer, streaming included, takes at most the provider's time-out
(`SMARTSUPPORT_AI_TIMEOUT_SECONDS`; past it the turn keeps what was shown and falls back to
retrieval-only with a notice), and what is shown and stored is at most `ANSWER_MAX_CHARS`
characters, with a note saying it was cut.

Modules: `retrieval` (what the model may read), `privacy` and `name_scrub` (what leaves),
`providers` (the model behind an OpenAI-compatible API, or none), `chat` (the conversation
and its store), `suggest` (ticket and reply drafts), `definitions` (limits and prompts).

Page flow: `start_turn` (validate, rate-limit, store the question, retrieve) -> commit ->
`stream_answer` (the provider's stream, or retrieval-only with a notice if it fails) ->
`save_reply` -> commit.
"""


from . import chat, definitions, name_scrub, privacy, providers, retrieval, suggest
from .chat import (
    ask,
    cap_answer,
    capped,
    check_rate_limit,
    clear_history,
    history,
    purge_expired,
    purge_expired_job,
    save_reply,
    shortlist,
    start_turn,
    stream_answer,
    validate_message,
)
from .definitions import (
    ANSWER_MAX_CHARS,
    ARTICLE_SOURCES,
    CUT_NOTICE,
    DEFAULT_RETENTION_DAYS,
    FALLBACK_CATEGORY,
    HISTORY_FOR_MODEL,
    MAX_MESSAGE_CHARS,
    OWN_TICKET_SOURCES,
    PASSAGE_CHARS,
    RATE_LIMIT_MESSAGES,
    RATE_LIMIT_WINDOW,
    REPLY_PROMPT,
    REQUESTER,
    RESOLUTION_SOURCES,
    RESOLVED_VALUES,
    SUGGEST_PROMPT,
    SYSTEM_PROMPT,
    TICKET_NUMBER,
    retention_days,
)
from .privacy import asker_names, names_of, scrub, without_names
from .retrieval import best_passage, retrieve
from .suggest import (
    DESCRIPTION_MAX,
    PRIORITY_HINTS,
    SUBJECT_MAX,
    Request,
    current_request,
    request_description,
    suggest_reply,
    suggest_ticket,
    suggest_ticket_detailed,
)

__all__ = [
    "ANSWER_MAX_CHARS",
    "ARTICLE_SOURCES",
    "CUT_NOTICE",
    "DEFAULT_RETENTION_DAYS",
    "DESCRIPTION_MAX",
    "FALLBACK_CATEGORY",
    "HISTORY_FOR_MODEL",
    "MAX_MESSAGE_CHARS",
    "OWN_TICKET_SOURCES",
    "PASSAGE_CHARS",
    "PRIORITY_HINTS",
    "RATE_LIMIT_MESSAGES",
    "RATE_LIMIT_WINDOW",
    "REPLY_PROMPT",
    "REQUESTER",
    "RESOLUTION_SOURCES",
    "RESOLVED_VALUES",
    "SUBJECT_MAX",
    "SUGGEST_PROMPT",
    "SYSTEM_PROMPT",
    "TICKET_NUMBER",
    "Request",
    "ask",
    "asker_names",
    "best_passage",
    "cap_answer",
    "capped",
    "chat",
    "check_rate_limit",
    "clear_history",
    "current_request",
    "definitions",
    "history",
    "name_scrub",
    "names_of",
    "privacy",
    "providers",
    "purge_expired",
    "purge_expired_job",
    "request_description",
    "retention_days",
    "retrieval",
    "retrieve",
    "save_reply",
    "scrub",
    "shortlist",
    "start_turn",
    "stream_answer",
    "suggest",
    "suggest_reply",
    "suggest_ticket",
    "suggest_ticket_detailed",
    "validate_message",
    "without_names",
]
