"""Closed vocabularies of SmartSupport, defined once.

Models build their CHECK constraints from these enums, validation checks input against
them and the portal fills its select boxes from them, so a value can never be accepted
in one layer and refused in another. Departments and ticket categories are *rows*
(admins add more); only their seed values live here.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    EMPLOYEE = "Employee"
    COORDINATOR = "Ticket Coordinator"
    ADMIN = "System Admin"


class AccountStatus(StrEnum):
    PENDING = "Pending"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    SUSPENDED = "Suspended"


class TicketStatus(StrEnum):
    NEW = "New"
    OPEN = "Open"
    IN_PROGRESS = "In Progress"
    ON_HOLD = "On Hold"
    RESOLVED = "Resolved"
    CLOSED = "Closed"
    REJECTED = "Rejected"
    WITHDRAWN = "Withdrawn"


#: Statuses a ticket can still be worked in (the spec's partial index uses the first three).
OPEN_STATUSES: tuple[TicketStatus, ...] = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS,
    TicketStatus.ON_HOLD,
)
#: The spec's `idx_open_tickets` predicate, kept verbatim.
SPEC_OPEN_INDEX_STATUSES: tuple[TicketStatus, ...] = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS,
)
#: "Not closed" (the queue's default view, the "mine" index): still open, or Resolved
#: and waiting to be closed.
NOT_CLOSED_STATUSES: tuple[TicketStatus, ...] = (*OPEN_STATUSES, TicketStatus.RESOLVED)
#: Resolved, whether or not closed since: what a requester may rate and where the assistant
#: finds resolutions of similar tickets.
RESOLVED_STATUSES: tuple[TicketStatus, ...] = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
RESOLVED_STATUS_VALUES: tuple[str, ...] = tuple(s.value for s in RESOLVED_STATUSES)
FINAL_STATUSES: tuple[TicketStatus, ...] = (
    TicketStatus.CLOSED,
    TicketStatus.REJECTED,
    TicketStatus.WITHDRAWN,
)

#: What a requester is shown instead of the internal status (domain notes).
REQUESTER_STATUS_LABEL: dict[TicketStatus, str] = {
    TicketStatus.NEW: "Pending",
    TicketStatus.OPEN: "Pending",
}


def status_label(status: str, *, for_requester: bool) -> str:
    """The status as a given audience should read it."""
    if for_requester:
        return REQUESTER_STATUS_LABEL.get(TicketStatus(status), status)
    return status


class Priority(StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class AuditAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"
    DOWNLOAD = "DOWNLOAD"


class ImapSecurity(StrEnum):
    """How an inbound mailbox connects: implicit TLS (port 993, Gmail), STARTTLS on 143, or
    none (loopback and test servers only)."""

    SSL = "ssl"
    STARTTLS = "starttls"
    NONE = "none"


class InboundOutcome(StrEnum):
    """What became of one fetched message (the inbound log's `outcome`)."""

    TICKET_CREATED = "ticket created"
    COMMENT_ADDED = "comment added"
    REOPENED = "ticket reopened"
    REFUSED = "refused"  # a bounce was queued (or suppressed by the per-address limit)
    IGNORED = "ignored"  # auto-replies, bulk mail, mailer-daemons, duplicates: never answered


class SlaClock(StrEnum):
    BUSINESS = "business"
    CALENDAR = "calendar"


class ArticleVisibility(StrEnum):
    """Lowest role that may read a help article (domain notes)."""

    EMPLOYEE = "Employee"
    COORDINATOR = "Ticket Coordinator"
    ADMIN = "System Admin"


#: The spec's eight departments plus the original SmartSupport's Asset Department.
SEED_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("IT Department", "Computers, accounts, network and software"),
    ("Human Resources", "People, leave, benefits and onboarding"),
    ("Finance", "Budgets, expenses and payments"),
    ("Operations", "Facilities and day-to-day operations"),
    ("Marketing", "Brand, campaigns and communications"),
    ("Sales", "Customers, deals and quotes"),
    ("Customer Service", "Customer care and escalations"),
    ("Legal", "Contracts, compliance and legal advice"),
    ("Asset Department", "Company assets: check out and check in"),
)

LOCATIONS: tuple[str, ...] = (
    "Main Office 1st Floor",
    "Main Office 2nd Floor",
    "Main Office 3rd Floor",
    "Branch Office North",
    "Branch Office South",
    "Warehouse",
    "Remote/Home Office",
)


def check_in(column: str, values: tuple[str, ...] | type[StrEnum]) -> str:
    """SQL text of a CHECK (column IN (...)) built from a vocabulary."""
    items = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return f"{column} IN ({items})"
