"""Queue: the coordinator's list of tickets — filter, select, triage in the side panel, export.

Thin page: filters become a `QueueFilters`, the database filters/sorts/pages
(`queue.query_queue`). The grid is read-only with row selection; the side panel offers, for
the selected ticket(s), exactly the choices the core allows (`triage.choices`), and a save
goes through `queue_edits.apply_grid_edits` (the services check again). The grid keeps its
widget key and its row order across saves and live refreshes while a row is selected, so
neither the selection nor the scroll position jumps.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy.orm import Session

from portal import state
from portal.nav import page_file
from portal.queue_grid import (
    COLUMN_TITLES,
    DEFAULT_COLUMNS,
    OPTIONAL_COLUMNS,
    WIDTHS,
    export_frame,
    grid_frame,
    patch_rows,
)
from portal.safe_text import md_escape, show_errors
from smartsupport_core import canned, exports, policy, saved_views, triage
from smartsupport_core.errors import DomainError, ValidationError
from smartsupport_core.policy import Action
from smartsupport_core.queue import (
    ASSIGNEE_LABELS,
    COLUMNS,
    PAGE_SIZES,
    PRIORITY_ORDER,
    SLA_LABELS,
    STATUS_ORDER,
    QueueFilters,
    QueueRow,
    assignable_staff,
    count_new_since,
    export_rows,
    filter_choices,
    query_queue,
    rows_by_id,
)
from smartsupport_core.queue_edits import KEEP, Outcome, RowEdit, apply_grid_edits, bulk_edits
from smartsupport_core.settings import get_settings
from smartsupport_core.ticket_states import STATE_LABELS

REFRESH_SECONDS = 30
SORT_TITLES = {**COLUMN_TITLES, "age": "Age", "version": "Last changed"}

user = state.current_user()
if user is None or not policy.allowed(user, Action.USE_QUEUE):
    st.error("You are not allowed to work the ticket queue.")
    st.stop()

tz = ZoneInfo(get_settings().timezone)

# --- filters and saved views -------------------------------------------------------------

FILTER_KEYS = {
    "statuses": "qf_statuses",
    "states": "qf_states",
    "department": "qf_department",
    "category": "qf_category",
    "priorities": "qf_priorities",
    "assignee": "qf_assignee",
    "text": "qf_text",
    "sla_state": "qf_sla",
    "created_from": "qf_from",
    "created_to": "qf_to",
    "sort": "qf_sort",
    "descending": "qf_desc",
}


def load_filters(filters: QueueFilters) -> None:
    """Put a filter set into the filter widgets (before they are drawn)."""
    values = {
        "statuses": list(filters.statuses),
        "states": [str(x) for x in filters.states],
        "department": filters.department,
        "category": filters.category,
        "priorities": list(filters.priorities),
        "assignee": filters.assignee,
        "text": filters.text,
        "sla_state": filters.sla_state,
        "created_from": filters.created_from,
        "created_to": filters.created_to,
        "sort": filters.sort,
        "descending": filters.descending,
    }
    for name, key in FILTER_KEYS.items():
        st.session_state[key] = values[name]


def current_filters() -> QueueFilters:
    """The filter set the filter widgets hold (the inverse of `load_filters`)."""
    v = {name: st.session_state[key] for name, key in FILTER_KEYS.items()}
    v.update(
        statuses=tuple(v["statuses"]),
        priorities=tuple(v["priorities"]),
        states=tuple(v["states"]),
        text=v["text"] or "",
    )
    v["descending"] = bool(v["descending"])
    return QueueFilters(**v)


def show_view_in_url(name: str) -> None:
    """A built-in view is named in the address (`?view=...`), so the link can be shared."""
    view = views_by_name.get(name)
    if view is not None and view.key:
        st.query_params["view"] = view.key
    elif "view" in st.query_params:
        del st.query_params["view"]


def on_view_change() -> None:
    view = views_by_name.get(st.session_state["q_view"])
    if view is not None:
        load_filters(view.filters)
        show_view_in_url(view.name)


st.title("Ticket queue")
# Only the open tab runs (and reads what it shows): switching tabs is a rerun, as in the admin
# console. The queue tab's widgets keep their values while the other tab is open (persist_state).
queue_tab, canned_tab = st.tabs(["Queue", "Canned responses"], key="q_tab", on_change="rerun")
ON_PAGE = "page"  # persist_state: kept while the other tab is open, dropped on a page switch

if queue_tab.open:
    with state.session() as s:
        departments, categories = filter_choices(s, user)
        staff = assignable_staff(s, user)
        views = saved_views.list_views(s, user)
    staff_names = {i: f"{n} ({d})" for i, n, d in staff}
    views_by_name = {v.name: v for v in views}
    views_by_key = {v.key: v for v in views if v.key}

    # A link to a built-in view (Home's tiles, a shared address) opens that view.
    asked = st.query_params.get("view")
    if asked in views_by_key and st.session_state.get("q_view_asked") != asked:
        st.session_state["q_view_asked"] = asked
        st.session_state["q_view_next"] = views_by_key[asked].name
        st.session_state["q_view_load"] = True
    # Saving or deleting a view picks the view to show on the next run (the selectbox is drawn by then).
    if (next_view := st.session_state.pop("q_view_next", None)) in views_by_name:
        st.session_state["q_view"] = next_view
        if st.session_state.pop("q_view_load", False):
            load_filters(views_by_name[next_view].filters)
    if "q_view" not in st.session_state or st.session_state["q_view"] not in views_by_name:
        st.session_state["q_view"] = views[0].name  # the role's default view
        load_filters(views[0].filters)

    with queue_tab:
        top = st.columns([3, 3, 2])
        top[0].selectbox("View", list(views_by_name), key="q_view", persist_state=ON_PAGE, on_change=on_view_change)
        top[1].multiselect(
            "Columns",
            OPTIONAL_COLUMNS,
            default=list(DEFAULT_COLUMNS),
            key="q_columns", persist_state=ON_PAGE,
            format_func=COLUMN_TITLES.__getitem__,
        )
        with top[2].popover("Save or delete view"):
            name = st.text_input("Save current filters as", key="q_view_name", max_chars=100)
            overwrite = st.checkbox("Replace a view with the same name", key="q_view_overwrite")
            if st.button("Save view", key="q_view_save"):
                try:
                    with state.unit_of_work() as s:
                        saved = saved_views.save_view(
                            s, user, name, current_filters(), overwrite=overwrite
                        )
                    st.session_state["q_view_next"] = saved.name
                    st.session_state["q_notice"] = f"Saved view '{saved.name}'."
                    st.rerun()
                except ValidationError as exc:
                    show_errors(exc)
            current = views_by_name[st.session_state["q_view"]]
            if not current.builtin and st.button(f"Delete view '{current.name}'", key="q_view_delete"):
                with state.unit_of_work() as s:
                    saved_views.delete_view(s, user, current.id)
                st.session_state["q_view_next"] = views[0].name
                st.session_state["q_view_load"] = True
                st.session_state["q_notice"] = f"Deleted view '{current.name}'."
                st.rerun()
        if notice := st.session_state.pop("q_notice", None):
            st.success(md_escape(notice))

        with st.expander("Filters"):
            c = st.columns(4)
            c[0].multiselect("Status", STATUS_ORDER, key="qf_statuses", persist_state=ON_PAGE)
            c[1].multiselect("Priority", PRIORITY_ORDER, key="qf_priorities", persist_state=ON_PAGE)
            for col, label, names, key in (
                (c[2], "Department", departments, "qf_department"),
                (c[3], "Category", categories, "qf_category"),
            ):
                col.selectbox(label, [None, *names], key=key, persist_state=ON_PAGE, format_func=lambda v: v or "Any")
            c = st.columns(4)
            assignee_choices: list[str | int] = [*ASSIGNEE_LABELS, *staff_names]
            if st.session_state.get("qf_assignee") not in assignee_choices:
                st.session_state["qf_assignee"] = "anyone"
            c[0].selectbox(
                "Assignee",
                assignee_choices,
                key="qf_assignee", persist_state=ON_PAGE,
                format_func=lambda v: ASSIGNEE_LABELS[v] if isinstance(v, str) else staff_names.get(v, "someone else"),
            )
            c[1].selectbox(
                "SLA",
                [None, *SLA_LABELS],
                key="qf_sla",
                persist_state=ON_PAGE,
                format_func=lambda v: SLA_LABELS.get(v, "Any") if v else "Any",
            )
            c[2].date_input("Created from", key="qf_from", persist_state=ON_PAGE)
            c[3].date_input("Created to", key="qf_to", persist_state=ON_PAGE)
            c = st.columns([3, 3, 2, 1, 1])
            c[0].text_input(
                "Search subject and description (or a ticket number)",
                key="qf_text",
                persist_state=ON_PAGE,
                max_chars=200,
            )
            c[1].multiselect(
                "State",
                list(STATE_LABELS),
                key="qf_states",
                persist_state=ON_PAGE,
                format_func=STATE_LABELS.__getitem__,
            )
            c[2].selectbox(
                "Sort by",
                COLUMNS,
                key="qf_sort",
                persist_state=ON_PAGE,
                format_func=lambda v: SORT_TITLES.get(v, v),
            )
            c[3].toggle("Descending", key="qf_desc", persist_state=ON_PAGE)
            c[4].selectbox("Rows", PAGE_SIZES, key="q_page_size", persist_state=ON_PAGE, index=1)

        filters = current_filters()
        signature = json.dumps(filters.to_dict(), sort_keys=True) + f"|{st.session_state['q_page_size']}"
        if st.session_state.get("q_signature") != signature:
            st.session_state["q_signature"] = signature
            st.session_state["q_page"] = 1
        # A full run is the user looking at the queue: the "new" badge counts from here.
        previous_look = st.session_state.get("q_seen_at")
        st.session_state["q_seen_at"] = dt.datetime.now(dt.UTC)
        st.session_state.setdefault("q_badge_since", st.session_state["q_seen_at"])
        if previous_look is not None:
            st.session_state["q_badge_since"] = previous_look


def table_key(grid: dict) -> str:
    mode = "multi" if st.session_state.get("q_multi") else "single"
    return f"q_table_{mode}_{grid['token']}"


def new_grid(signature: tuple, rows: list[QueueRow]) -> dict:
    """A grid with a new widget key (so no stale selection carries over)."""
    token = st.session_state.get("q_grid_token", 0) + 1
    st.session_state["q_grid_token"] = token
    grid = {"signature": signature, "rows": rows, "token": token}
    st.session_state["q_grid"] = grid
    return grid


def selected_positions(grid: dict) -> list[int]:
    event = st.session_state.get(table_key(grid))
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    return [i for i in rows if 0 <= i < len(grid["rows"])]


def show_results() -> None:
    results = st.session_state.get("q_results") or []
    if not results:
        return
    saved = sum(1 for outcome, _ in results if outcome in (Outcome.SAVED, Outcome.UNCHANGED))
    st.markdown(f"**{saved} of {len(results)} row(s) saved.**")
    for outcome, message in results:
        text = md_escape(message)
        if outcome in (Outcome.SAVED, Outcome.UNCHANGED):
            st.success(text, icon=":material/check:")
        elif outcome == Outcome.CONFLICT:
            st.warning(text, icon=":material/sync_problem:")
        else:
            st.error(text, icon=":material/block:")
    if st.button("Dismiss results", key="q_results_dismiss"):
        st.session_state.pop("q_results", None)
        st.rerun()


def run_edits(edits: list[RowEdit]) -> None:
    """Apply, keep the results, refresh the changed rows in place (same order, same key)."""
    results = apply_grid_edits(state.session, user, edits)
    st.session_state["q_results"] = [(r.outcome.value, r.message) for r in results]
    grid = st.session_state.get("q_grid")
    if grid is not None:
        with state.session() as s:
            fresh = rows_by_id(s, user, [e.ticket_id for e in edits])
        grid["rows"] = patch_rows(grid["rows"], fresh)
    st.rerun()


def _choice_label(value: object, current: object, names: dict | None = None) -> str:
    text = names.get(value, str(value)) if names is not None else str(value)
    return f"{text} (now)" if value == current else text


def decision_buttons(targets: list[tuple[int, int, str]], *, may_approve: bool, may_reject: bool, key: str) -> None:
    """Approve / reject New tickets (an admin's decision); a rejection needs a reason."""
    n = len(targets)
    what = "ticket" if n == 1 else f"{n} tickets"
    if may_approve and st.button(f"Approve {what}", key=f"q_approve_{key}", type="primary", icon=":material/check:"):
        run_edits(bulk_edits(targets, status="Open"))
    if may_reject:
        with st.popover(f"Reject {what}…", icon=":material/block:"):
            reason = st.text_area("Reason*", key=f"q_reject_reason_{key}", max_chars=2000,
                                  help="The requester is told this reason.")
            if st.button(f"Reject {what}", key=f"q_reject_{key}"):
                if not reason.strip():
                    st.error("Reason: a reason is required to reject a ticket")
                else:
                    run_edits(bulk_edits(targets, status="Rejected", note=reason))


def ticket_panel(row: QueueRow, c: triage.Choices) -> None:
    """One ticket: what it is, and the changes the core allows on it now."""
    st.markdown(f"**{md_escape(row.number)}** · {md_escape(row.subject)}")
    sla_text = SLA_LABELS.get(row.sla, "—") if row.sla else "—"
    due = row.next_due.astimezone(tz).strftime("%a %d %b %H:%M") if row.next_due else "—"
    facts = f"{row.requester} · {row.department} · {row.category} · {row.status}"
    st.caption(md_escape(f"{facts} · SLA: {sla_text}, next due {due}"))
    target = [(c.ticket_id, c.version, c.number)]
    decision_buttons(target, may_approve=c.may_approve, may_reject=c.may_reject, key=str(c.ticket_id))
    if c.statuses or c.assignees or c.priorities:
        with st.form(f"q_triage_{c.ticket_id}_{c.version}", border=False):
            status = st.selectbox(
                "Status", [c.status, *c.statuses], key=f"q_status_{c.ticket_id}",
                format_func=lambda v: _choice_label(v, c.status), disabled=not c.statuses,
            )
            names = dict(c.assignees)
            if c.assignee_id not in names:
                names[c.assignee_id] = row.assignee or "Unassigned"
            assignee = st.selectbox(
                "Assignee", [c.assignee_id, *(i for i, _ in c.assignees if i != c.assignee_id)],
                key=f"q_assignee_{c.ticket_id}", format_func=lambda v: _choice_label(v, c.assignee_id, names),
                disabled=not c.assignees,
            )
            priority = st.selectbox(
                "Priority", [c.priority, *(p for p in c.priorities if p != c.priority)],
                key=f"q_priority_{c.ticket_id}", format_func=lambda v: _choice_label(v, c.priority),
                disabled=not c.priorities,
            )
            if st.form_submit_button("Save", type="primary", key=f"q_save_{c.ticket_id}"):
                edit = RowEdit(
                    c.ticket_id,
                    c.version,
                    status=status if status != c.status else None,
                    priority=priority if priority != c.priority else None,
                    assignee_id=assignee if assignee != c.assignee_id else KEEP,
                    label=c.number,
                    assignee_name=names.get(assignee),
                )
                if edit.is_empty:
                    st.info("Nothing to save: choose a new status, assignee or priority first.")
                else:
                    run_edits([edit])
    elif not (c.may_approve or c.may_reject):
        st.caption("You may not change this ticket now.")
    st.page_link(page_file("ticket.py"), label="Open the ticket page", icon=":material/open_in_full:",
                 query_params={"id": str(c.ticket_id)})


def bulk_panel(items: list[triage.Choices]) -> None:
    """Several tickets: only what every one of them allows."""
    both = triage.common(items)
    st.markdown(f"**{len(items)} tickets selected**")
    targets = [(c.ticket_id, c.version, c.number) for c in items]
    decision_buttons(targets, may_approve=both.may_approve, may_reject=both.may_reject, key="bulk")
    if not (both.statuses or both.assignees or both.priorities):
        if not (both.may_approve or both.may_reject):
            st.caption("The selected tickets have no change in common; select fewer.")
        return
    keep = "__keep__"
    with st.form("q_bulk_form", border=False):
        status = st.selectbox("Status", [keep, *both.statuses], key="q_bulk_status",
                              format_func=lambda v: "Keep as is" if v == keep else v)
        names = dict(both.assignees)
        assignee = st.selectbox("Assignee", [keep, *names], key="q_bulk_assignee",
                                format_func=lambda v: "Keep as is" if v == keep else names[v])
        priority = st.selectbox("Priority", [keep, *both.priorities], key="q_bulk_priority",
                                format_func=lambda v: "Keep as is" if v == keep else v)
        if st.form_submit_button(f"Apply to {len(items)} tickets", type="primary", key="q_bulk_apply"):
            edits = bulk_edits(
                targets,
                status=None if status == keep else status,
                priority=None if priority == keep else priority,
                assignee_id=KEEP if assignee == keep else assignee,
                assignee_name=None if assignee == keep else names[assignee],
            )
            if edits and edits[0].is_empty:
                st.info("Nothing to apply: choose a status, assignee or priority first.")
            else:
                run_edits(edits)


def focus_ids(grid: dict) -> list[int]:
    """The tickets the panel shows: the selected rows; else a shared `?ticket=` link's."""
    chosen = [grid["rows"][i].id for i in selected_positions(grid)]
    had = st.session_state.get("q_had_selection", False)
    st.session_state["q_had_selection"] = bool(chosen)
    if chosen:
        if len(chosen) == 1:
            st.query_params["ticket"] = str(chosen[0])
        return chosen
    if had and "ticket" in st.query_params:  # the user cleared the selection
        del st.query_params["ticket"]
    try:
        return [int(st.query_params["ticket"])] if "ticket" in st.query_params else []
    except ValueError:
        return []


@st.fragment(run_every=REFRESH_SECONDS)
@state.survives_database_outage  # a refresh while the database restarts: a message, no trace
def live_grid(filters: QueueFilters, page_size: int, columns: tuple[str, ...]) -> None:
    """The grid and its side panel; re-queried every 30 s, re-ordered only when no row is selected."""
    page = int(st.session_state.get("q_page") or 1)
    with state.session() as s:
        try:
            result = query_queue(s, user, filters, page=page, page_size=page_size)
            if result.rows == [] and page > result.pages:
                st.session_state["q_page"] = page = result.pages
                result = query_queue(s, user, filters, page=page, page_size=page_size)
        except ValidationError as exc:
            show_errors(exc)
            return
        new_count = count_new_since(s, user, filters, st.session_state["q_badge_since"])

    grid_signature = (st.session_state["q_signature"], page)
    grid = st.session_state.get("q_grid")
    if grid is None or grid["signature"] != grid_signature:
        grid = new_grid(grid_signature, result.rows)
    stale = False
    if grid["rows"] != result.rows:
        # Same key: the scroll stays. With a selection, only while the rows keep their order
        # (a row's age and SLA state change with the clock on every run; its place does not).
        if not selected_positions(grid) or [r.id for r in grid["rows"]] == [r.id for r in result.rows]:
            grid["rows"] = result.rows
        else:
            stale = True

    head = st.columns([3, 2, 2])
    more = "+" if result.total_capped else ""
    first = (page - 1) * page_size + 1 if result.rows else 0
    last = first + len(result.rows) - 1 if result.rows else 0
    noun = "ticket" if result.total == 1 and not more else "tickets"
    head[0].markdown(f"**{result.total}{more}** {noun} · showing {first} to {last}")
    if new_count:
        head[1].badge(f"{new_count} new since your last look", icon=":material/fiber_new:", color="orange")
    head[2].toggle(
        "Select several",
        key="q_multi",
        persist_state=ON_PAGE,
        help="Select several tickets to change them together.",
    )

    left, right = st.columns([5, 2], gap="small")
    with left.container(key="q_grid_box"):
        st.dataframe(
            grid_frame(grid["rows"], columns, tz),
            key=table_key(grid),
            on_select="rerun",
            selection_mode="multi-row" if st.session_state.get("q_multi") else "single-row",
            hide_index=True,
            width="stretch",
            column_config={
                COLUMN_TITLES[c]: st.column_config.TextColumn(
                    COLUMN_TITLES[c], width=WIDTHS[c], pinned=c == "number"
                )
                for c in ("number", *columns)
            },
        )
        if result.pages > 1:
            st.pagination(result.pages, key="q_page", persist_state=ON_PAGE)
        if stale:  # under the grid: the notice appearing after a save does not push the rows down
            st.info("The queue changed since it was loaded; the selected rows stay where they are.")
            if st.button("Show the latest order", key="q_reload"):
                new_grid(grid_signature, result.rows)
                st.rerun(scope="fragment")
    with right.container(key="q_panel", border=True):
        ids = focus_ids(grid)
        with state.session() as s:
            allowed = triage.choices(s, user, ids)
            extra = rows_by_id(s, user, [i for i in ids if i in allowed])
        rows = {r.id: r for r in grid["rows"]} | extra
        items = [allowed[i] for i in ids if i in allowed]
        if not items:
            st.caption("Select a ticket to see it here and change its status, assignee or priority.")
        elif len(items) == 1:
            ticket_panel(rows[items[0].ticket_id], items[0])
        else:
            bulk_panel(items)
        show_results()

    engine = state.engine()

    def rows_for_export():
        with Session(engine) as s:
            return export_frame(export_rows(s, user, filters))

    e = st.columns(2)
    e[0].download_button(
        "Export view to CSV",
        data=lambda: exports.to_csv_bytes(rows_for_export()),
        file_name="queue.csv",
        mime="text/csv",
        key="q_export_csv",
    )
    e[1].download_button(
        "Export view to Excel",
        data=lambda: exports.to_excel_bytes(rows_for_export(), sheet_name="Queue"),
        file_name="queue.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="q_export_xlsx",
    )


if queue_tab.open:
    with queue_tab:
        live_grid(
            filters,
            int(st.session_state["q_page_size"]),
            tuple(c for c in OPTIONAL_COLUMNS if c in st.session_state.get("q_columns", DEFAULT_COLUMNS)),
        )


# --- canned responses --------------------------------------------------------------------

if canned_tab.open:
    with canned_tab:
        may_share = policy.allowed(user, Action.MANAGE_SHARED_CANNED)
        st.caption(
            "Placeholders: " + ", ".join(f"`{{{name}}}` ({meaning})" for name, meaning in canned.PLACEHOLDERS.items())
        )
        with state.session() as s:
            templates = canned.list_canned(s, user)
        for item in templates:
            editable = not item.shared or may_share
            with st.expander(("Shared · " if item.shared else "Mine · ") + item.title):
                st.text(item.body)
                if editable:
                    title = st.text_input("Title", value=item.title, key=f"cr_title_{item.id}", max_chars=100)
                    body = st.text_area("Text", value=item.body, key=f"cr_body_{item.id}")
                    cc = st.columns(2)
                    if cc[0].button("Save", key=f"cr_save_{item.id}"):
                        try:
                            with state.unit_of_work() as s:
                                canned.update_canned(s, user, item.id, title, body)
                            st.rerun()
                        except DomainError as exc:
                            st.error(md_escape(str(exc)))
                    if cc[1].button("Delete", key=f"cr_delete_{item.id}"):
                        with state.unit_of_work() as s:
                            canned.delete_canned(s, user, item.id)
                        st.rerun()
        with st.form("cr_new", clear_on_submit=True):
            st.subheader("New canned response")
            title = st.text_input("Title", max_chars=100, key="cr_new_title")
            body = st.text_area("Text", key="cr_new_body")
            shared = st.checkbox("Shared with all coordinators", key="cr_new_shared", disabled=not may_share)
            if st.form_submit_button("Add"):
                try:
                    with state.unit_of_work() as s:
                        canned.create_canned(s, user, title, body, shared=shared)
                    st.rerun()
                except DomainError as exc:
                    show_errors(exc)

        st.subheader("Fill in for a ticket")
        grid = st.session_state.get("q_grid")
        numbers = {r.number: r.id for r in grid["rows"]} if grid else {}
        if templates and numbers:
            cc = st.columns(2)
            pick = cc[0].selectbox("Canned response", templates, format_func=lambda c: c.title, key="cr_pick")
            number = cc[1].selectbox("Ticket (from the queue page shown)", list(numbers), key="cr_ticket")
            try:
                with state.session() as s:
                    text = canned.render_canned(s, user, pick.id, numbers[number])
                st.text_area("Ready to paste into the reply", value=text, key=f"cr_out_{pick.id}_{number}", height=160)
            except DomainError as exc:
                st.error(md_escape(str(exc)))
        else:
            st.caption("Add a canned response and load tickets in the queue to fill one in here.")
