"""Seed rows: departments, the original SmartSupport's ticket categories, SLA targets.

`required_fields` of a category is a list of field definitions, the one format that the
submit form renders, the core validates and the admin console edits:

    {"name": "asset_name",        # a core_ticket column of the spec, else kept in dynamic_data
     "label": "Asset name",
     "type": "text" | "textarea" | "select" | "date" | "number" | "cost_items",
     "required": true,
     "options": [...],             # for select
     "max_length": 100,            # for text
     "not_past": true,             # for date: today or later
     "after": "performance_start_date",          # for date: on/after another field
     "required_if": {"issue_type": "Other"}}     # required only when another field has a value

The category list is data: admins add more rows (HR Request, Facility Request, ...).
"""

from __future__ import annotations

from typing import Any

from .vocab import LOCATIONS, SEED_DEPARTMENTS, Priority

ASSET_TYPES = ["Laptop", "Printer", "Projector", "Mouse", "Keyboard"]
CHECK_IN_ISSUES = [
    "Not Functioning",
    "Missing Accessories",
    "Physical Damage",
    "Battery Issue",
    "Software Issue",
    "Screen/Display Issue",
    "Other",
]

_ASSET_COMMON: list[dict[str, Any]] = [
    {"name": "asset_name", "label": "Asset name", "type": "text", "required": True, "max_length": 100},
    {"name": "serial_number", "label": "Serial number", "type": "text", "required": True, "max_length": 50},
    {"name": "location", "label": "Location", "type": "select", "required": True, "options": list(LOCATIONS)},
]

SEED_CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "IT Support",
        "description": "Help with computers, accounts, software, network and printers.",
        "default_priority": Priority.MEDIUM.value,
        "assigned_department": "IT Department",
        "sub_categories": [
            "Technical Assistance",
            "Software Installation/Update",
            "Hardware Troubleshooting",
            "Email/Account Access Issue",
            "Internet/Network Connectivity Issue",
            "Printer/Scanner Setup or Issue",
            "System Performance Issue",
            "Virus/Malware Check",
            "IT Consultation Request",
            "Data Backup/Restore",
        ],
        "auto_assign": True,
        "required_fields": [
            {
                "name": "device_type",
                "label": "Device type",
                "type": "select",
                "required": True,
                "options": ["Laptop", "Printer", "Projector", "Monitor", "Other"],
            },
            {
                "name": "software_affected",
                "label": "Software affected",
                "type": "text",
                "required": False,
                "max_length": 100,
            },
            {
                "name": "preferred_schedule",
                "label": "Preferred schedule",
                "type": "date",
                "required": False,
                "not_past": True,
            },
        ],
    },
    {
        "name": "Asset Check Out",
        "description": "Borrow a company asset.",
        "default_priority": Priority.LOW.value,
        "assigned_department": "Asset Department",
        "sub_categories": list(ASSET_TYPES),
        "auto_assign": True,
        "required_fields": [
            *_ASSET_COMMON,
            {
                "name": "expected_return_date",
                "label": "Expected return date",
                "type": "date",
                "required": True,
                "not_past": True,
            },
            {"name": "purpose", "label": "Purpose", "type": "textarea", "required": False, "max_length": 500},
        ],
    },
    {
        "name": "Asset Check In",
        "description": "Return a company asset and report its condition.",
        "default_priority": Priority.LOW.value,
        "assigned_department": "Asset Department",
        "sub_categories": list(ASSET_TYPES),
        "auto_assign": True,
        "required_fields": [
            *_ASSET_COMMON,
            {
                "name": "issue_type",
                "label": "Condition issue",
                "type": "select",
                "required": True,
                "options": list(CHECK_IN_ISSUES),
            },
            {
                "name": "other_issue",
                "label": "Describe the issue",
                "type": "textarea",
                "required": False,
                "required_if": {"issue_type": "Other"},
                "max_length": 1000,
            },
        ],
    },
    {
        "name": "New Budget Proposal",
        "description": "Propose a budget for a performance period.",
        "default_priority": Priority.MEDIUM.value,
        "assigned_department": "Finance",
        "sub_categories": ["Capital Expenditure", "Operating Expense", "Project Budget", "Training and Events"],
        "auto_assign": False,
        "required_fields": [
            {"name": "performance_start_date", "label": "Performance period start", "type": "date", "required": True},
            {
                "name": "performance_end_date",
                "label": "Performance period end",
                "type": "date",
                "required": True,
                "after": "performance_start_date",
            },
            {"name": "cost_items", "label": "Cost items", "type": "cost_items", "required": True},
            {"name": "approved_by", "label": "Approved by", "type": "text", "required": True, "max_length": 100},
        ],
    },
    {
        "name": "Others",
        "description": "Anything that fits no other category.",
        "default_priority": Priority.MEDIUM.value,
        "assigned_department": "Operations",
        "sub_categories": [],
        "auto_assign": False,
        "required_fields": [],
    },
]

#: Issue 7's seeded SLA targets: (priority, response minutes, response clock,
#: resolution minutes, resolution clock). A business day is the calendar's working day.
BUSINESS_DAY_MINUTES = 8 * 60
SEED_SLA_TARGETS: list[tuple[str, int, str, int, str]] = [
    (Priority.CRITICAL.value, 60, "business", 4 * 60, "business"),
    (Priority.HIGH.value, 4 * 60, "business", 1 * BUSINESS_DAY_MINUTES, "business"),
    (Priority.MEDIUM.value, 1 * BUSINESS_DAY_MINUTES, "business", 3 * BUSINESS_DAY_MINUTES, "business"),
    (Priority.LOW.value, 2 * BUSINESS_DAY_MINUTES, "business", 5 * BUSINESS_DAY_MINUTES, "business"),
]

#: The business calendar's seed: Monday=0 .. Friday=4, 09:00-17:00.
SEED_CALENDAR = {"working_days": [0, 1, 2, 3, 4], "day_start": "09:00", "day_end": "17:00"}

__all__ = ["SEED_CALENDAR", "SEED_CATEGORIES", "SEED_DEPARTMENTS", "SEED_SLA_TARGETS"]
