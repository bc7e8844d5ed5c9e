"""Queue: the coordinator's grid of tickets — filter, edit inline, bulk-change, export.

Thin page: filters become a `QueueFilters`, the database filters/sorts/pages
(`queue.query_queue`), edits are applied row by row by `queue_edits.apply_grid_edits` and
its per-row results are shown. The editor's input frame is built once per view/page/refresh
and kept in session state; the live refresh (every 30 s) never replaces it while the user
has unsaved edits.
"""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st
from sqlalchemy.orm import Session

from portal import state
from portal.queue_grid import (
    EDITABLE,
    GRID_COLUMNS,
    assignee_options,
    edits_from_grid,
    export_frame,
    input_frame,
    staff_label,
)
from portal.safe_text import md_escape, show_errors
from smartsupport_core import canned, exports, policy, saved_views
from smartsupport_core.errors import DomainError, ValidationError
from smartsupport_core.policy import Action
from smartsupport_core.queue import (
    COLUMNS,
    PAGE_SIZES,
    PRIORITY_ORDER,
    SLA_LABELS,
    STATUS_ORDER,
    QueueFilters,
    assignable_staff,
    count_new_since,
    export_rows,
    filter_choices,
    query_queue,
)
from smartsupport_core.queue_edits import KEEP, Outcome, apply_grid_edits, bulk_edits

REFRESH_SECONDS = 30
COLUMN_TITLES = {
    "number": "Ticket",
    "subject": "Subject",
    "requester": "Requester",
    "department": "Department",
    "category": "Category",
    "priority": "Priority",
    "status": "Status",
    "assignee": "Assignee",
    "age": "Age",
    "sla": "SLA",
    "version": "Version",
}

user = state.current_user()
if user is None or not policy.allowed(user, Action.USE_QUEUE):
    st.error("You are not allowed to work the ticket queue.")
    st.stop()

with state.session() as s:
    departments, categories = filter_choices(s, user)
    staff = assignable_staff(s, user)
    views = saved_views.list_views(s, user)
options = assignee_options(staff)
labels_by_id = {i: staff_label(i, n, d) for i, n, d in staff}
staff_names = {i: f"{n} ({d})" for i, n, d in staff}
views_by_name = {v.name: v for v in views}

# --- filters and saved views -------------------------------------------------------------

FILTER_KEYS = {
    "statuses": "qf_statuses",
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
    v.update(statuses=tuple(v["statuses"]), priorities=tuple(v["priorities"]), text=v["text"] or "")
    v["descending"] = bool(v["descending"])
    return QueueFilters(**v)


def on_view_change() -> None:
    view = views_by_name.get(st.session_state["q_view"])
    if view is not None:
        load_filters(view.filters)


# Saving or deleting a view picks the view to show on the next run (the selectbox is drawn by then).
if (next_view := st.session_state.pop("q_view_next", None)) in views_by_name:
    st.session_state["q_view"] = next_view
    if st.session_state.pop("q_view_load", False):
        load_filters(views_by_name[next_view].filters)
if "q_view" not in st.session_state or st.session_state["q_view"] not in views_by_name:
    st.session_state["q_view"] = views[0].name
    load_filters(views[0].filters)

st.title("Ticket queue")
queue_tab, canned_tab = st.tabs(["Queue", "Canned responses"])

with queue_tab:
    top = st.columns([3, 2])
    top[0].selectbox("View", list(views_by_name), key="q_view", on_change=on_view_change)
    with top[1].popover("Save or delete view"):
        name = st.text_input("Save current filters as", key="q_view_name", max_chars=100)
        overwrite = st.checkbox("Replace a view with the same name", key="q_view_overwrite")
        if st.button("Save view", key="q_view_save"):
            try:
                with state.session() as s:
                    saved = saved_views.save_view(
                        s, user, name, current_filters(), overwrite=overwrite
                    )
                    s.commit()
                st.session_state["q_view_next"] = saved.name
                st.session_state["q_notice"] = f"Saved view '{saved.name}'."
                st.rerun()
            except ValidationError as exc:
                show_errors(exc)
        current = views_by_name[st.session_state["q_view"]]
        if not current.builtin and st.button(f"Delete view '{current.name}'", key="q_view_delete"):
            with state.session() as s:
                saved_views.delete_view(s, user, current.id)
                s.commit()
            st.session_state["q_view_next"] = views[0].name
            st.session_state["q_view_load"] = True
            st.session_state["q_notice"] = f"Deleted view '{current.name}'."
            st.rerun()
    if notice := st.session_state.pop("q_notice", None):
        st.success(md_escape(notice))

    with st.expander("Filters", expanded=True):
        c = st.columns(4)
        c[0].multiselect("Status", STATUS_ORDER, key="qf_statuses")
        c[1].multiselect("Priority", PRIORITY_ORDER, key="qf_priorities")
        c[2].selectbox("Department", [None, *departments], key="qf_department", format_func=lambda v: v or "Any")
        c[3].selectbox("Category", [None, *categories], key="qf_category", format_func=lambda v: v or "Any")
        c = st.columns(4)
        assignee_choices: list[str | int] = ["me", "unassigned", "anyone", *staff_names]
        if st.session_state.get("qf_assignee") not in assignee_choices:
            st.session_state["qf_assignee"] = "anyone"
        c[0].selectbox(
            "Assignee",
            assignee_choices,
            key="qf_assignee",
            format_func=lambda v: (
                {"me": "Me", "unassigned": "Unassigned", "anyone": "Anyone"}.get(v)
                if isinstance(v, str)
                else staff_names.get(v, f"#{v}")
            ),
        )
        c[1].selectbox(
            "SLA", [None, *SLA_LABELS], key="qf_sla", format_func=lambda v: SLA_LABELS.get(v, "Any") if v else "Any"
        )
        c[2].date_input("Created from", key="qf_from")
        c[3].date_input("Created to", key="qf_to")
        c = st.columns([4, 2, 1, 1])
        c[0].text_input("Search subject and description (or a ticket number)", key="qf_text", max_chars=200)
        c[1].selectbox("Sort by", COLUMNS, key="qf_sort", format_func=lambda v: COLUMN_TITLES[v])
        c[2].toggle("Descending", key="qf_desc")
        c[3].selectbox("Rows", PAGE_SIZES, key="q_page_size", index=1)

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


def drop_grid() -> None:
    grid = st.session_state.pop("q_grid", None)
    if grid is not None:
        st.session_state.pop(grid["key"], None)


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


def run_edits(edits) -> None:
    results = apply_grid_edits(state.session, user, edits)
    st.session_state["q_results"] = [(r.outcome.value, r.message) for r in results]
    drop_grid()
    st.rerun()


@st.fragment(run_every=REFRESH_SECONDS)
@state.survives_database_outage  # a refresh while the database restarts: a message, no trace
def live_grid(filters: QueueFilters, page_size: int) -> None:
    """The grid, its save and bulk actions; re-queried every 30 s unless edits are pending."""
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

    fresh = input_frame(result.rows, labels_by_id)
    grid = st.session_state.get("q_grid")
    pending = bool(grid and (st.session_state.get(grid["key"]) or {}).get("edited_rows"))
    grid_signature = (st.session_state["q_signature"], page)
    if grid is None or grid["signature"] != grid_signature:
        drop_grid()
        grid = None
    if grid is None or (not pending and not fresh.equals(grid["df"])):
        token = st.session_state.get("q_grid_token", 0) + 1
        st.session_state["q_grid_token"] = token
        grid = {"signature": grid_signature, "df": fresh, "key": f"q_editor_{token}"}
        st.session_state["q_grid"] = grid
    stale = pending and not fresh.equals(grid["df"])

    head = st.columns([3, 2])
    more = "+" if result.total_capped else ""
    first = (page - 1) * page_size + 1 if result.rows else 0
    last = first + len(result.rows) - 1 if result.rows else 0
    head[0].markdown(f"**{result.total}{more}** tickets · showing {first} to {last}")
    if new_count:
        head[1].badge(f"{new_count} new since your last look", icon=":material/fiber_new:", color="orange")
    if stale:
        st.info("The queue changed since it was loaded. Save or discard your edits to see the latest rows.")

    status_opts = list(STATUS_ORDER)
    edited = st.data_editor(
        grid["df"],
        key=grid["key"],
        hide_index=True,
        num_rows="fixed",
        column_order=list(GRID_COLUMNS),
        disabled=[c for c in GRID_COLUMNS if c not in EDITABLE],
        column_config={
            "open": st.column_config.LinkColumn("", display_text="Open", width="small", pinned=True),
            "number": st.column_config.TextColumn("Ticket", pinned=True),
            "subject": st.column_config.TextColumn("Subject", width="large"),
            "requester": st.column_config.TextColumn("Requester"),
            "department": st.column_config.TextColumn("Department"),
            "category": st.column_config.TextColumn("Category"),
            "priority": st.column_config.SelectboxColumn("Priority", options=list(PRIORITY_ORDER), required=True),
            "status": st.column_config.SelectboxColumn("Status", options=status_opts, required=True),
            "assignee": st.column_config.SelectboxColumn("Assignee", options=list(options), required=True),
            "age": st.column_config.TextColumn("Age"),
            "sla": st.column_config.TextColumn("SLA"),
            "due": st.column_config.DatetimeColumn("Next due", format="YYYY-MM-DD HH:mm"),
            "version": st.column_config.NumberColumn("Version"),
        },
    )
    edits = edits_from_grid(grid["df"], edited, options)
    c = st.columns([1, 1, 3])
    if c[0].button(f"Save {len(edits)} change(s)", key="q_save", type="primary", disabled=not edits):
        run_edits(edits)
    if c[1].button("Discard edits", key="q_discard", disabled=not edits):
        drop_grid()
        st.rerun()
    show_results()

    if result.pages > 1:
        st.pagination(result.pages, key="q_page")

    with st.expander("Bulk actions on selected tickets"):
        rows_by_number = {
            str(row["number"]): (int(tid), int(row["version"]), str(row["number"]))
            for tid, row in grid["df"].iterrows()
        }
        if "q_bulk" in st.session_state:
            st.session_state["q_bulk"] = [n for n in st.session_state["q_bulk"] if n in rows_by_number]
        chosen = st.multiselect("Selected tickets", list(rows_by_number), key="q_bulk")
        st.button(
            "Select all on this page",
            key="q_bulk_all",
            on_click=lambda: st.session_state.update(q_bulk=list(rows_by_number)),
        )
        selected = [rows_by_number[n] for n in chosen]
        b = st.columns(3)
        to_assignee = b[0].selectbox("Assign to", list(options), key="q_bulk_assignee")
        if b[0].button("Assign", key="q_bulk_assign", disabled=not selected):
            run_edits(bulk_edits(selected, assignee_id=options[to_assignee]))
        to_priority = b[1].selectbox("Priority", PRIORITY_ORDER, key="q_bulk_priority")
        if b[1].button("Set priority", key="q_bulk_set_priority", disabled=not selected):
            run_edits(bulk_edits(selected, priority=to_priority))
        to_status = b[2].selectbox("Status", status_opts, key="q_bulk_status")
        if b[2].button("Change status", key="q_bulk_set_status", disabled=not selected):
            run_edits(bulk_edits(selected, status=to_status, assignee_id=KEEP))

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


with queue_tab:
    live_grid(filters, int(st.session_state["q_page_size"]))


# --- canned responses --------------------------------------------------------------------

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
                        with state.session() as s:
                            canned.update_canned(s, user, item.id, title, body)
                            s.commit()
                        st.rerun()
                    except DomainError as exc:
                        st.error(md_escape(str(exc)))
                if cc[1].button("Delete", key=f"cr_delete_{item.id}"):
                    with state.session() as s:
                        canned.delete_canned(s, user, item.id)
                        s.commit()
                    st.rerun()
    with st.form("cr_new", clear_on_submit=True):
        st.subheader("New canned response")
        title = st.text_input("Title", max_chars=100, key="cr_new_title")
        body = st.text_area("Text", key="cr_new_body")
        shared = st.checkbox("Shared with all coordinators", key="cr_new_shared", disabled=not may_share)
        if st.form_submit_button("Add"):
            try:
                with state.session() as s:
                    canned.create_canned(s, user, title, body, shared=shared)
                    s.commit()
                st.rerun()
            except DomainError as exc:
                show_errors(exc)

    st.subheader("Fill in for a ticket")
    grid = st.session_state.get("q_grid")
    numbers = {str(r["number"]): int(tid) for tid, r in grid["df"].iterrows()} if grid else {}
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
