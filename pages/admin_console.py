"""Admin console: departments, categories (with the submit-form field editor and a live
preview), SLA targets, business hours and holidays.

Thin page: every change goes through `smartsupport_core.admin_config` (policy-checked,
validated with field-named messages, audited); this page only collects input and shows the
result or the messages next to the form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import available_timezones

import pandas as pd
import streamlit as st

from portal import state
from portal.safe_text import apply_change, md_escape
from smartsupport_core import admin_config as ac
from smartsupport_core import policy
from smartsupport_core.errors import ValidationError, field_label
from smartsupport_core.policy import Action
from smartsupport_core.queue import PRIORITY_ORDER
from smartsupport_core.vocab import SlaClock

user = state.current_user()
if user is None or not policy.allowed(user, Action.MANAGE_CONFIG):
    st.error("You are not allowed to manage categories, departments and SLA.")
    st.stop()


def apply(change, done: str) -> bool:
    """Run `change(session)` in one transaction; show the outcome."""
    return apply_change(change, done, "ac_notice")


st.title("Admin console")
if notice := st.session_state.pop("ac_notice", None):
    st.success(md_escape(notice))

# Only the open tab runs (and reads what it shows): switching tabs is a rerun.
dept_tab, cat_tab, sla_tab = st.tabs(
    ["Departments", "Categories", "SLA and business hours"], key="ac_tab", on_change="rerun"
)
if dept_tab.open or cat_tab.open:
    with state.session() as s:
        departments = ac.list_departments(s, user)
        categories = ac.list_categories(s, user) if cat_tab.open else []

# --- departments -------------------------------------------------------------------------

if dept_tab.open:
    with dept_tab:
        st.dataframe(
            pd.DataFrame(
                {
                    "Department": [d.name for d in departments],
                    "Description": [d.description or "" for d in departments],
                    "Head e-mail": [d.head_email or "" for d in departments],
                    "Active": [bool(d.is_active) for d in departments],
                }
            ),
            hide_index=True,
        )
        left, right = st.columns(2)
        with left, st.form("ac_dept_new", clear_on_submit=False):
            st.subheader("Add a department")
            name = st.text_input("Name", key="ac_dept_new_name", max_chars=100)
            description = st.text_input("Description", key="ac_dept_new_description", max_chars=255)
            head_email = st.text_input("Head e-mail", key="ac_dept_new_head")
            if st.form_submit_button("Add department") and apply(
                lambda s: ac.create_department(
                    s, user, {"name": name, "description": description, "head_email": head_email}
                ),
                f"Added department {name.strip()}.",
            ):
                st.rerun()
        with right:
            st.subheader("Edit a department")
            by_id = {d.id: d for d in departments}
            dept_id = st.selectbox("Department", list(by_id), format_func=lambda i: by_id[i].name, key="ac_dept_pick")
            dept = by_id[dept_id]
            with st.form(f"ac_dept_edit_{dept.id}"):
                new_name = st.text_input("Name", value=dept.name, max_chars=100)
                new_description = st.text_input("Description", value=dept.description or "", max_chars=255)
                new_head = st.text_input("Head e-mail", value=dept.head_email or "")
                active = st.checkbox("Active", value=bool(dept.is_active))
                if st.form_submit_button("Save department") and apply(
                    lambda s: ac.update_department(
                        s,
                        user,
                        dept.id,
                        {"name": new_name, "description": new_description, "head_email": new_head, "is_active": active},
                    ),
                    f"Saved department {new_name.strip()}.",
                ):
                    st.rerun()

# --- categories --------------------------------------------------------------------------

FIELD_COLUMNS = ["name", "label", "type", "required", "options", "max_length", "not_past", "after", "required_if"]


def fields_frame(fields: list[Mapping[str, Any]]) -> pd.DataFrame:
    rows = ac.table_from_fields(fields)
    df = pd.DataFrame(rows, columns=FIELD_COLUMNS)
    df["max_length"] = pd.array([r["max_length"] for r in rows], dtype="Int64")
    for col in ("required", "not_past"):
        df[col] = df[col].astype(bool)
    for col in ("name", "label", "type", "options", "after", "required_if"):
        df[col] = df[col].astype(object)
    return df


def preview(fields: list[dict[str, Any]]) -> None:
    """The category's own fields as the submit form will show them (inputs disabled)."""
    if not fields:
        st.caption("This category has no fields of its own; the form shows subject, description and priority.")
    for f in fields:
        label = f["label"] + (" *" if f.get("required") else "")
        key = f"ac_pv_{f['name']}"
        kind = f["type"]
        if kind == "text":
            st.text_input(label, key=key, disabled=True, max_chars=f.get("max_length"))
        elif kind == "textarea":
            st.text_area(label, key=key, disabled=True, max_chars=f.get("max_length"))
        elif kind == "select":
            st.selectbox(label, f.get("options") or [], key=key, disabled=True)
        elif kind == "date":
            st.date_input(label, key=key, disabled=True, value=None)
            if f.get("not_past"):
                st.caption("Today or later.")
            if f.get("after"):
                st.caption(f"On or after {f['after']}.")
        elif kind == "number":
            st.number_input(label, key=key, disabled=True, value=None)
        elif kind == "cost_items":
            st.caption(label + " — rows of description, quantity and unit cost; the total is the requested budget.")
            st.dataframe(pd.DataFrame(columns=["description", "quantity", "unit_cost"]), hide_index=True)
        if f.get("required_if"):
            (other, value), *_ = f["required_if"].items()
            st.caption(f"Required when {other} is {value}.")


if cat_tab.open:
    with cat_tab:
        st.dataframe(
            pd.DataFrame(
                {
                    "Category": [c.name for c in categories],
                    "Department": [c.assigned_department for c in categories],
                    "Default priority": [c.default_priority or "" for c in categories],
                    "Sub-categories": [len(c.sub_categories or []) for c in categories],
                    "Fields": [len(c.required_fields or []) for c in categories],
                    "Auto-assign": [bool(c.auto_assign) for c in categories],
                    "Active": [bool(c.is_active) for c in categories],
                }
            ),
            hide_index=True,
        )
        cats = {c.id: c for c in categories}
        cat_id = st.selectbox(
            "Category to edit",
            [0, *cats],
            format_func=lambda i: "(new category)" if i == 0 else cats[i].name,
            key="ac_cat_pick",
        )
        cat = cats.get(cat_id)
        active_departments = [d.name for d in departments if d.is_active]
        dept_choices = active_departments + (
            [cat.assigned_department] if cat and cat.assigned_department not in active_departments else []
        )
        k = f"ac_cat_{cat_id}"
        c1, c2 = st.columns(2)
        cat_name = c1.text_input("Name", value=cat.name if cat else "", key=f"{k}_name", max_chars=100)
        cat_dept = c2.selectbox(
            "Department that handles it",
            dept_choices,
            index=dept_choices.index(cat.assigned_department) if cat else 0,
            key=f"{k}_dept",
        )
        cat_description = st.text_input(
            "Description", value=(cat.description or "") if cat else "", key=f"{k}_description", max_chars=255
        )
        c1, c2, c3 = st.columns(3)
        prio_default = (cat.default_priority if cat else None) or "Medium"
        cat_priority = c1.selectbox(
            "Default priority", list(PRIORITY_ORDER), index=list(PRIORITY_ORDER).index(prio_default), key=f"{k}_prio"
        )
        cat_auto = c2.checkbox(
            "Auto-assign on approval", value=bool(cat.auto_assign) if cat else False, key=f"{k}_auto"
        )
        cat_active = c3.checkbox("Active", value=bool(cat.is_active) if cat else True, key=f"{k}_active")
        cat_subs = st.text_area(
            "Sub-categories (one per line)", value="\n".join(cat.sub_categories or []) if cat else "", key=f"{k}_subs"
        )
        st.markdown("**Fields of the submit form** (add, edit or delete rows)")
        frame_key = f"{k}_fields_frame"
        if frame_key not in st.session_state:  # stable input frame for the editor
            st.session_state[frame_key] = fields_frame(list(cat.required_fields or []) if cat else [])
        edited_fields = st.data_editor(
            st.session_state[frame_key],
            key=f"{k}_fields",
            num_rows="dynamic",
            hide_index=True,
            column_config={
                "name": st.column_config.TextColumn("Name", help="lower_case_with_underscores", required=True),
                "label": st.column_config.TextColumn("Label", required=True),
                "type": st.column_config.SelectboxColumn("Type", options=list(ac.FIELD_TYPES), required=True),
                "required": st.column_config.CheckboxColumn("Required", default=False),
                "options": st.column_config.TextColumn("Options (a, b, c)"),
                "max_length": st.column_config.NumberColumn("Max length", min_value=1, max_value=10000, step=1),
                "not_past": st.column_config.CheckboxColumn("Not in the past", default=False),
                "after": st.column_config.TextColumn("On/after date field"),
                "required_if": st.column_config.TextColumn("Required if (field=value)"),
            },
        )
        field_defs = ac.fields_from_table(edited_fields.to_dict("records"))
        clean_fields, field_errors = ac.validate_required_fields(field_defs)
        with st.expander("Live preview of the submit form", expanded=True):
            if field_errors:
                for field, message in field_errors.items():
                    st.warning(f"{field}: {md_escape(message)}")
            preview([f for f in clean_fields if f.get("name") and f.get("type") in ac.FIELD_TYPES])
        data = {
            "name": cat_name,
            "description": cat_description,
            "default_priority": cat_priority,
            "assigned_department": cat_dept,
            "sub_categories": [line for line in cat_subs.splitlines() if line.strip()],
            "auto_assign": cat_auto,
            "is_active": cat_active,
            "required_fields": field_defs,
        }
        if st.button("Create category" if cat is None else "Save category", key=f"{k}_save", type="primary"):
            if cat is None:
                ok = apply(lambda s: ac.create_category(s, user, data), f"Added category {cat_name.strip()}.")
            else:
                ok = apply(lambda s: ac.update_category(s, user, cat.id, data), f"Saved category {cat_name.strip()}.")
            if ok:
                st.session_state.pop(frame_key, None)
                st.session_state.pop(f"{k}_fields", None)
                st.rerun()

# --- SLA targets, business hours, holidays -----------------------------------------------


def sla_clock_inputs(minutes_col, clock_col, target, name: str, label: str, *, step: int, key_letter: str) -> dict:
    """One clock of a priority's SLA target (minutes and which clock counts them), as the
    `update_sla_target` keyword arguments `<name>_minutes` and `<name>_clock`."""
    clocks = [c.value for c in SlaClock]
    key = f"ac_sla_{target.priority}_{key_letter}"
    return {
        f"{name}_minutes": minutes_col.number_input(
            f"{label} (min)", min_value=1, step=step, value=getattr(target, f"{name}_minutes"), key=f"{key}m"
        ),
        f"{name}_clock": clock_col.selectbox(
            f"{name.capitalize()} clock", clocks, index=clocks.index(getattr(target, f"{name}_clock")), key=f"{key}c"
        ),
    }


if sla_tab.open:
    with state.session() as s:
        targets = ac.list_sla_targets(s, user)
        calendar = ac.get_calendar(s, user)
        holidays = ac.list_holidays(s, user)
    with sla_tab:
        with st.form("ac_sla"):
            st.subheader("SLA targets per priority")
            st.caption("Minutes of business time (working hours below) or calendar time.")
            values: dict[str, dict[str, Any]] = {}
            for t in targets:
                c = st.columns([1, 2, 2, 2, 2])
                c[0].markdown(f"**{t.priority}**")
                values[t.priority] = {
                    **sla_clock_inputs(c[1], c[2], t, "response", "First response", step=15, key_letter="r"),
                    **sla_clock_inputs(c[3], c[4], t, "resolution", "Resolution", step=60, key_letter="s"),
                }
            if st.form_submit_button("Save SLA targets"):

                def save_targets(s) -> None:
                    errors: dict[str, str] = {}
                    for priority, v in values.items():
                        try:
                            with s.begin_nested():
                                ac.update_sla_target(s, user, priority, **v)
                        except ValidationError as exc:
                            errors.update({f"{priority} {field_label(k).lower()}": m for k, m in exc.errors.items()})
                    if errors:
                        raise ValidationError(errors)

                if apply(save_targets, "Saved the SLA targets."):
                    st.rerun()

        with st.form("ac_calendar"):
            st.subheader("Business hours")
            zones = sorted(available_timezones())
            c = st.columns(3)
            tz = c[0].selectbox(
                "Time zone",
                zones,
                index=zones.index(calendar.timezone) if calendar.timezone in zones else zones.index("UTC"),
            )
            start = c[1].time_input("Day starts", value=calendar.day_start, step=dt.timedelta(minutes=15))
            end = c[2].time_input("Day ends", value=calendar.day_end, step=dt.timedelta(minutes=15))
            days = st.multiselect(
                "Working days",
                list(range(7)),
                default=list(calendar.working_days),
                format_func=lambda d: ac.WEEKDAYS[d],
            )
            if st.form_submit_button("Save business hours") and apply(
                lambda s: ac.update_calendar(s, user, timezone=tz, working_days=days, day_start=start, day_end=end),
                "Saved the business hours.",
            ):
                st.rerun()

        st.subheader("Holidays")
        if holidays:
            st.dataframe(
                pd.DataFrame({"Day": [h.day for h in holidays], "Name": [h.name for h in holidays]}), hide_index=True
            )
        else:
            st.caption("No holidays yet.")
        c = st.columns(2)
        with c[0], st.form("ac_holiday_new"):
            day = st.date_input("Day", value=None, key="ac_holiday_day")
            hname = st.text_input("Name", key="ac_holiday_name", max_chars=100)
            if st.form_submit_button("Add holiday") and apply(
                lambda s: ac.add_holiday(s, user, day, hname), f"Added holiday {hname.strip()}."
            ):
                st.rerun()
        if holidays:
            with c[1], st.form("ac_holiday_delete"):
                hs = {h.id: h for h in holidays}
                pick = st.selectbox("Holiday", list(hs), format_func=lambda i: f"{hs[i].day} {hs[i].name}")
                if st.form_submit_button("Delete holiday") and apply(
                    lambda s: ac.delete_holiday(s, user, pick), "Deleted the holiday."
                ):
                    st.rerun()
