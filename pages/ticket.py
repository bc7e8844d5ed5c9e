"""Ticket detail (`/ticket?id=N`): conversation, attachments, timeline, SLA clock, actions.

Everything shown comes through the core's visibility-checked readers, and which action
widgets appear is `ticket_actions.ticket_actions` (the core's answer for this user on this
ticket: no permission is computed here); every action calls a core service with the version
of the ticket the user was looking at, so a stale action gets
the core's Conflict message instead of overwriting someone else's change. User-written text
is shown with `st.text` (never as HTML); images are previewed only when the core says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import streamlit as st

from portal import state
from portal import ticket_summary as ticket_summary_view
from portal.canned_picker import canned_picker
from portal.nav import page_file
from portal.safe_text import md_escape, show_errors
from smartsupport_core import assistant, attachments, ratings, ticket_states, tickets, triage, workflow
from smartsupport_core.assistant.providers import get_provider
from smartsupport_core.errors import DomainError, NotFound, ValidationError
from smartsupport_core.models import Employee
from smartsupport_core.queue_edits import KEEP, RowEdit, apply_row
from smartsupport_core.settings import get_settings
from smartsupport_core.ticket_actions import ticket_actions
from smartsupport_core.ticket_forms import CATEGORY_COLUMNS
from smartsupport_core.vocab import Priority, Role, TicketStatus, status_label

STAFF_ROLES = frozenset({Role.COORDINATOR.value, Role.ADMIN.value})
#: The status badge's colour per status.
STATUS_COLOURS = {
    "New": "gray", "Open": "blue", "In Progress": "violet", "On Hold": "orange",
    "Resolved": "green", "Closed": "gray", "Rejected": "red", "Withdrawn": "gray",
}
#: Staff status buttons, as a person would say them (the dots: a dialog asks first).
STAFF_MOVE_LABELS = {
    TicketStatus.OPEN: "Back to Open",
    TicketStatus.IN_PROGRESS: "Start work",
    TicketStatus.ON_HOLD: "Put on hold",
    TicketStatus.RESOLVED: "Resolve…",
    TicketStatus.CLOSED: "Close",
}
#: What the page says after a move.
MOVE_DONE = {
    TicketStatus.OPEN: "Ticket reopened.",
    TicketStatus.IN_PROGRESS: "Ticket in progress.",
    TicketStatus.ON_HOLD: "Ticket put on hold.",
    TicketStatus.RESOLVED: "Ticket resolved.",
    TicketStatus.CLOSED: "Ticket closed.",
    TicketStatus.WITHDRAWN: "Ticket withdrawn.",
    TicketStatus.REJECTED: "Ticket rejected.",
}

user = state.current_user()
if user is None:
    st.warning("Sign in to see tickets.")
    st.stop()

tz = ZoneInfo(get_settings().timezone)


def when(value: dt.datetime | None) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"


def duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return (f"{days} d " if days else "") + f"{hours} h {mins} min"


raw_id = st.query_params.get("id")
ticket_id: int | None = None
if raw_id is not None:
    try:
        ticket_id = int(raw_id)
    except ValueError:
        ticket_id = None
if ticket_id is None:  # reached without a ticket: find one by its number
    st.title("Find a ticket")
    if raw_id is not None:
        st.error("That ticket link is not valid.")
    with st.form("ticket_find"):
        number = st.text_input("Ticket number*", placeholder="TKT2026000123", max_chars=20, key="ticket_find_number")
        go = st.form_submit_button("Open")
    if go:
        with state.session() as s:
            found = tickets.find_by_number(s, s.get(Employee, user.id), number)
        if found is None:
            st.error("Ticket number: no ticket with that number that you may see.")
        else:
            st.query_params["id"] = str(found.id)
            st.rerun()
    st.page_link(page_file("my_tickets.py"), label="My tickets", icon=":material/confirmation_number:")
    st.stop()

flash = st.session_state.pop(f"ticket_flash_{ticket_id}", None)
if flash:
    st.success(flash)
    st.toast(flash, icon=":material/check_circle:")  # seen too by someone scrolled down to the composer

# The version the user saw on the previous run: actions are judged against it.
seen_key = f"ticket_seen_version_{ticket_id}"
seen_version = st.session_state.get(seen_key)

try:
    with state.session() as s:
        me = s.get(Employee, user.id)
        ticket = tickets.get_ticket(s, me, ticket_id)
        comments = tickets.list_comments(s, me, ticket_id)
        history = tickets.list_history(s, me, ticket_id)
        files = tickets.list_attachments(s, me, ticket_id)
        can = ticket_actions(s, me, ticket)
        people = tickets.people_on_ticket(s, ticket, comments, history)
        staff_choices = tickets.assignable_staff(s, ticket) if can.may_assign else []
        tokens = {a.id: attachments.download_token(s, me, a.id) for a in files}
        previews = {a.id: attachments.preview_content(s, me, a.id) for a in files}
        ticket_states.mark_seen(s, me.id, ticket.id)  # "updated by the requester since I last looked"
        s.commit()
        s.expunge_all()
except NotFound as exc:  # perhaps a department head, who may read the summary only
    if not ticket_summary_view.show(user, ticket_id):
        st.title("Ticket")
        st.error(str(exc))
    st.stop()
except DomainError as exc:
    st.title("Ticket")
    st.error(str(exc))
    st.stop()

expected = seen_version if seen_version is not None else ticket.version
st.session_state[seen_key] = ticket.version
staff = can.as_staff  # staff labels and tools only where the core says this user works the ticket
shown_status = status_label(ticket.status, for_requester=not staff)


def name_of(employee_id: int | None) -> str:
    person = people.get(employee_id) if employee_id is not None else None
    return person.full_name if person else ("the system" if employee_id is None else "a former employee")


#: The dialog asked for (resolve / reject / withdraw), until it is confirmed or dismissed; kept in
#: the session so the dialog is drawn on every run while it is open.
DIALOG_KEY = f"ticket_dialog_{ticket_id}"


def act(label: str, fn: Callable[..., object], *args: object, **kwargs: object) -> bool:
    """Run one core service as the user, commit, and reload with a message (or show the
    error and return False)."""
    try:
        with state.unit_of_work() as s:
            fn(s, s.get(Employee, user.id), *args, **kwargs)
    except ValidationError as exc:
        show_errors(exc)
        return False
    except DomainError as exc:
        st.error(md_escape(str(exc)))
        st.session_state.pop(seen_key, None)  # the next run shows the current version
        return False
    st.session_state.pop(seen_key, None)
    st.session_state.pop(DIALOG_KEY, None)  # a dialog that asked for this closes
    st.session_state[f"ticket_flash_{ticket_id}"] = label
    st.rerun()
    return True


# --- header: subject, number, status --------------------------------------------------------
st.title(md_escape(ticket.subject))
head = st.columns([1, 4], vertical_alignment="center")
head[0].markdown(f"**{ticket.ticket_number}**")
head[1].badge(shown_status, color=STATUS_COLOURS.get(ticket.status or "", "gray"))
facts = {
    "Priority": ticket.priority or "—",
    "Department": ticket.department,
    "Assigned to": name_of(ticket.assigned_to_id) if ticket.assigned_to_id else "Unassigned",
    "Requested by": name_of(ticket.employee_id),
    "Category": f"{ticket.category}{' / ' + ticket.sub_category if ticket.sub_category else ''}",
    "Submitted": when(ticket.submit_date),
    "Updated": when(ticket.update_date),
}
with st.container(key="ticket_facts", horizontal=True, gap="large"):
    for label, value in facts.items():  # plain text that wraps: long names are never cut
        st.markdown(f"<small>{label}</small>  \n**{md_escape(value)}**", unsafe_allow_html=True)
if ticket.rejection_reason and ticket.status == "Rejected":
    st.warning("Rejected. Reason:")
    st.text(ticket.rejection_reason)


# --- the action bar: the moves the core allows this user, in the main area ------------------
def open_dialog(name: str) -> None:
    st.session_state[DIALOG_KEY] = name


def close_dialog() -> None:
    st.session_state.pop(DIALOG_KEY, None)


@st.dialog("Resolve the ticket", on_dismiss=close_dialog)
def resolve_dialog() -> None:
    st.write("The resolution is posted as a public reply: the requester reads it.")
    if can.may_use_staff_tools:
        canned_picker(user, ticket_id, f"resolution_{ticket_id}", slot="_resolution")
    text = st.text_area("Resolution*", key=f"resolution_{ticket_id}", height=160, max_chars=tickets.COMMENT_MAX)
    if st.button("Resolve", type="primary", key="resolve_confirm"):
        act("Ticket resolved.", tickets.resolve_ticket, ticket_id, text, expected_version=expected)


@st.dialog("Reject the ticket", on_dismiss=close_dialog)
def reject_dialog() -> None:
    st.write("The requester is told the reason. A rejected ticket is final.")
    reason = st.text_area("Reason*", key=f"reject_reason_{ticket_id}", max_chars=tickets.REASON_MAX)
    if st.button("Reject", type="primary", key="reject_confirm"):
        act("Ticket rejected.", tickets.reject_ticket, ticket_id, reason, expected_version=expected)


@st.dialog("Withdraw the ticket", on_dismiss=close_dialog)
def withdraw_dialog() -> None:
    st.write("Withdraw this request? Nobody will work on it any more, and it cannot be undone.")
    c = st.columns(2)
    if c[0].button("Withdraw", type="primary", key="withdraw_confirm"):
        act("Ticket withdrawn.", tickets.change_status, ticket_id, "Withdrawn", expected_version=expected)
    c[1].button("Keep it", key="withdraw_cancel", on_click=close_dialog)


#: Moves that ask first (a dialog): what it needs, or because it cannot be undone.
DIALOGS = {"resolve": resolve_dialog, "reject": reject_dialog, "withdraw": withdraw_dialog}
ASKS_FIRST = {TicketStatus.RESOLVED: "resolve", TicketStatus.WITHDRAWN: "withdraw"}


def move_button(container, target: TicketStatus, label: str) -> None:
    if target in ASKS_FIRST:
        container.button(label, key=f"move_{target.value}", on_click=open_dialog, args=(ASKS_FIRST[target],))
    elif container.button(label, key=f"move_{target.value}"):
        act(MOVE_DONE[target], tickets.change_status, ticket_id, target.value, expected_version=expected)


if can.any:
    with st.container(border=True, key="ticket_actions"):
        bar = st.container(horizontal=True)
        if can.may_approve and bar.button("Approve", key="approve", type="primary", icon=":material/check:"):
            act("Ticket approved and opened.", tickets.approve_ticket, ticket_id, expected_version=expected)
        if can.may_reject:
            bar.button("Reject…", key="reject", icon=":material/block:", on_click=open_dialog, args=("reject",))
        for target in can.staff_moves:
            move_button(bar, target, STAFF_MOVE_LABELS.get(target, target.value))
        for target in can.requester_moves:
            label = workflow.REQUESTER_LABELS.get(target, target.value)
            move_button(bar, target, label + ("…" if target in ASKS_FIRST else ""))
        if staff_choices or can.may_set_priority:
            with st.form(f"ticket_assign_{ticket_id}_{ticket.version}", border=False):
                row = st.columns([3, 2, 1], vertical_alignment="bottom")
                assignee = ticket.assigned_to_id
                if staff_choices:
                    options = [None, *[e.id for e in staff_choices]]
                    labels = dict(triage.people_names(staff_choices))
                    if ticket.assigned_to_id not in options:
                        options.insert(1, ticket.assigned_to_id)
                        labels[ticket.assigned_to_id] = name_of(ticket.assigned_to_id)
                    assignee = row[0].selectbox(
                        "Assignee", options, index=options.index(ticket.assigned_to_id),
                        format_func=lambda i: "Unassigned" if i is None else labels[i], key=f"assign_{ticket_id}",
                    )
                new_priority = ticket.priority or "Medium"
                if can.may_set_priority:
                    prios = [p.value for p in Priority]
                    new_priority = row[1].selectbox(
                        "Priority", prios, index=prios.index(new_priority), key=f"priority_{ticket_id}"
                    )
                if row[2].form_submit_button("Save", key=f"assign_save_{ticket_id}"):
                    edit = RowEdit(
                        ticket_id,
                        expected,
                        priority=new_priority if new_priority != (ticket.priority or "Medium") else None,
                        assignee_id=assignee if assignee != ticket.assigned_to_id else KEEP,
                    )
                    if edit.is_empty:
                        st.info("Nothing to save: choose another assignee or priority first.")
                    else:
                        act("Saved.", apply_row, edit)

    still_allowed = {
        "resolve": TicketStatus.RESOLVED in can.moves,
        "withdraw": TicketStatus.WITHDRAWN in can.moves,
        "reject": can.may_reject,
    }
    if still_allowed.get(st.session_state.get(DIALOG_KEY, "")):
        DIALOGS[st.session_state[DIALOG_KEY]]()
    else:
        close_dialog()

# --- satisfaction rating (issue 7): the requester rates a Resolved/Closed ticket ------------
if ticket.status in ratings.RATEABLE_STATUSES:
    with state.session() as s:
        given = ratings.get_rating(s, s.get(Employee, user.id), ticket_id)
    if can.may_rate:
        title = f"Your rating: {given.rating}/5 (change it)" if given else "Rate the help you got"
        with st.expander(title, expanded=st.query_params.get("rate") == "1" and given is None):
            stars = st.feedback("stars", key=f"rating_stars_{ticket_id}", default=given.rating - 1 if given else None)
            remark = st.text_area("Comment (optional)", value=given.comment or "" if given else "",
                                  key=f"rating_comment_{ticket_id}", max_chars=ratings.MAX_COMMENT)
            if st.button("Save rating", key="rating_save"):
                if stars is None:
                    st.error("Rating: choose from 1 to 5 stars")
                else:
                    act("Thank you for your rating.", ratings.rate_ticket, ticket_id, stars + 1, remark)
    elif given is not None:
        st.caption(f"Requester's rating: {given.rating}/5")
        if given.comment:
            st.text(given.comment)


def keep_draft(box_key: str, draft_key: str) -> None:
    """A box's text as its draft (a callback: Streamlit runs it before the next run's script)."""
    st.session_state[draft_key] = st.session_state.get(box_key, "")


def suggest_reply(tid: int) -> None:
    """Put the assistant's draft in the reply box (a callback: it runs before the box is drawn)."""
    try:
        with state.session() as s:
            me = s.get(Employee, user.id)
            generation = st.session_state.get(f"compose_gen_public_{tid}", 0)
            box = f"reply_{tid}" + (f"_{generation}" if generation else "")
            st.session_state[box] = assistant.suggest_reply(s, me, tid)
    except DomainError as exc:
        st.session_state[f"suggest_error_{tid}"] = str(exc)


tab_conv, tab_details, tab_timeline = st.tabs(["Conversation", "Details and files", "Timeline and SLA"])

with tab_conv:
    st.subheader("Description")
    st.text(ticket.description)
    st.subheader("Conversation")
    if not comments:
        st.caption("No replies yet.")
    for c in comments:
        author = people.get(c.user_id)
        by_staff = author is not None and author.id != ticket.employee_id and author.role in STAFF_ROLES
        with st.container(border=True, key=f"comment_{c.id}"):
            tag = " · :orange-background[Internal note]" if c.is_internal else ""
            role = " · :blue-background[Staff]" if by_staff else ""
            edited = " · edited" if c.updated_at and c.created_at and c.updated_at > c.created_at else ""
            st.markdown(f"**{md_escape(name_of(c.user_id))}**{role} · {when(c.created_at)}{tag}{edited}")
            st.text(c.comment)
            if tickets.can_edit_comment(user, c):
                with st.expander("Edit (within 15 minutes of posting)"):
                    new_text = st.text_area(
                        "Comment", value=c.comment, key=f"edit_comment_{c.id}", max_chars=tickets.COMMENT_MAX
                    )
                    if st.button("Save edit", key=f"save_comment_{c.id}"):
                        act("Comment updated.", tickets.edit_comment, c.id, new_text)

    can_reply = can.may_comment
    if can_reply or can.may_comment_internal:
        st.subheader("Reply")
        modes = [m for m, ok in (("public", can_reply), ("internal", can.may_comment_internal)) if ok]
        mode = modes[0]
        if len(modes) > 1:
            mode = st.segmented_control(
                "Write", modes, default=modes[0], key=f"compose_mode_{ticket_id}", required=True,
                format_func=lambda m: "Public reply" if m == "public" else "Internal note",
            )
        internal = mode == "internal"
        # Each kind of message has its own box (its own widget key): switching never carries
        # text across, so a note cannot be published by flipping the switch.
        # A new box (a new key) after each post: the text is gone even if the browser kept it.
        gen_key = f"compose_gen_{mode}_{ticket_id}"
        generation = st.session_state.get(gen_key, 0)
        box_key = ("note_" if internal else "reply_") + str(ticket_id) + (f"_{generation}" if generation else "")
        if can.may_use_staff_tools:
            canned_picker(user, ticket_id, box_key)  # staff: fill the box from a template
        if can.may_use_staff_tools and not internal:
            generative = get_provider().generative
            st.button(
                "Suggest reply",
                icon=":material/auto_awesome:",
                key=f"suggest_{ticket_id}",
                on_click=suggest_reply,
                args=(ticket_id,),
                disabled=not generative,
                help="Draft a public reply from the ticket, its public thread and matching help articles; "
                "edit it before sending."
                if generative
                else "Needs a language model (SMARTSUPPORT_AI_BASE_URL / SMARTSUPPORT_AI_MODEL); none is configured.",
            )
            if problem := st.session_state.pop(f"suggest_error_{ticket_id}", None):
                st.error(problem)
        with st.container(border=True, key=f"composer_{mode}"):
            if internal:
                st.markdown(":orange-background[:material/lock: **Internal note** — staff only, never the requester]")
            else:
                reader = "the requester reads this" if can.as_staff else "the support team reads this"
                st.markdown(f":blue-background[:material/public: **Public reply** — {reader}]")
            # Each box keeps its own draft while the other is shown (a hidden widget loses its
            # state), and a new box (key) after each post: a second click finds it empty.
            draft_key = f"draft_{mode}_{ticket_id}"
            if box_key not in st.session_state:
                st.session_state[box_key] = st.session_state.get(draft_key, "")
            text = st.text_area(
                "Internal note" if internal else "Your reply",
                key=box_key,
                max_chars=tickets.COMMENT_MAX,
                # also kept by the callback: it runs even when this run is cut short by the next
                # click (switching the box at once), which the line below would then miss
                on_change=keep_draft,
                args=(box_key, draft_key),
            )
            st.session_state[draft_key] = text
            sent = st.button(
                "Post internal note" if internal else "Send reply",
                type="secondary" if internal else "primary",
                icon=":material/lock:" if internal else ":material/send:",
                key=f"send_{mode}_{ticket_id}",
            )
            if sent:
                st.session_state[gen_key] = generation + 1
                st.session_state.pop(draft_key, None)
                if not act(
                    "Internal note added." if internal else "Reply sent.",
                    tickets.add_comment,
                    ticket_id,
                    text,
                    internal=internal,
                ):
                    st.session_state[gen_key] = generation  # refused: keep the text
                    st.session_state[draft_key] = text

with tab_details:
    details = {}
    for column in sorted(CATEGORY_COLUMNS):
        value = getattr(ticket, column)
        if value not in (None, "", []) and column != "cost_items":
            details[column.replace("_", " ").capitalize()] = str(value)
    for key, value in (ticket.dynamic_data or {}).items():
        details[key.replace("_", " ").capitalize()] = str(value)
    if details:
        st.table({"Field": list(details), "Value": list(details.values())})
    if ticket.cost_items:
        st.caption(f"Cost items ({get_settings().currency})")
        st.table(ticket.cost_items)
    st.subheader("Attachments")
    if not files:
        st.caption("No attachments.")
    for a in files:
        token = tokens[a.id]

        def fetch(token: str = token) -> bytes:
            with state.session() as s:
                download = attachments.open_download(s, s.get(Employee, user.id), token)
                s.commit()  # the download's audit row
                return download.content

        c1, c2 = st.columns([3, 1])
        c1.text(f"{a.file_name} ({a.file_size / 1024:.1f} KB, {a.file_type})")
        c2.download_button(
            "Download",
            data=fetch,
            file_name=a.file_name,
            mime="application/octet-stream",
            key=f"dl_{a.id}",
            on_click="ignore",
        )
        if previews.get(a.id):
            st.image(previews[a.id], caption=a.file_name, width=320)
    if can.may_upload:
        more = st.file_uploader(
            "Add attachments", accept_multiple_files=True, key=f"more_files_{ticket_id}_{len(files)}"
        )
        if more and st.button("Upload", key=f"upload_{ticket_id}"):
            act("Files attached.", tickets.add_attachments, ticket_id, [(f.name, f.getvalue()) for f in more])

with tab_timeline:
    st.subheader("Status timeline")
    st.dataframe(
        [
            {
                "When": when(h.changed_at),
                "From": status_label(h.from_status, for_requester=not staff) if h.from_status else "",
                "To": status_label(h.to_status, for_requester=not staff),
                "By": name_of(h.changed_by_id),
                "Note": h.note or "",
            }
            for h in history
        ],
        hide_index=True,
    )
    st.subheader("Service level")
    sla_cols = st.columns(3)
    if ticket.first_response_at:
        met = {True: "met", False: "missed", None: ""}[ticket.sla_response_met]
        sla_cols[0].metric("First response", duration(ticket.response_time), met or None)
    else:
        sla_cols[0].metric("First response due", when(ticket.sla_response_due_at))
    if ticket.resolution_time is not None:
        met = {True: "met", False: "missed", None: ""}[ticket.sla_resolution_met]
        sla_cols[1].metric("Resolution", duration(ticket.resolution_time), met or None)
    else:
        sla_cols[1].metric("Resolution due", when(ticket.sla_resolution_due_at))
    held = f"{ticket.sla_hold_minutes:.0f} min on hold" if ticket.sla_hold_minutes else "never on hold"
    if ticket.on_hold_since:
        held = f"on hold since {when(ticket.on_hold_since)}"
    sla_cols[2].metric("Clock paused", held)
    if ticket.reopen_count:
        st.caption(f"Reopened {ticket.reopen_count} time(s); the first response and resolution times are kept.")
    if ticket.time_closed:
        st.caption(f"Closed {when(ticket.time_closed)}.")
