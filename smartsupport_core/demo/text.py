"""Words for the demo data: people's names, assets, and ticket/comment templates.

WHY a module of its own: the generator (`demo.tickets`) stays about *timing and state*,
while this file is only vocabulary. Templates are per category and sub-category so the
queue, the search and the assistant have text that reads like a real help desk; `{...}`
placeholders are filled from the ticket's own fields, so a subject never contradicts the
asset name or device type stored beside it. Categories an admin adds later (not known
here) get the generic templates at the bottom, built from the category's name.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Maria",
    "Jose",
    "Ana",
    "Juan",
    "Carmela",
    "Miguel",
    "Isabel",
    "Rafael",
    "Patricia",
    "Andres",
    "Liza",
    "Paolo",
    "Kristine",
    "Mark",
    "Jasmine",
    "Carlo",
    "Angelica",
    "Ramon",
    "Bea",
    "Enrique",
    "Grace",
    "Daniel",
    "Sofia",
    "Gabriel",
    "Nicole",
    "Joshua",
    "Camille",
    "Francis",
    "Trisha",
    "Vincent",
    "Aileen",
    "Marco",
    "Joy",
    "Adrian",
    "Rowena",
    "Kevin",
    "Cristina",
    "Leo",
    "Hazel",
    "Dennis",
    "Emily",
    "James",
    "Olivia",
    "Noah",
    "Hannah",
    "Ethan",
    "Chloe",
    "Samuel",
    "Mia",
    "Lucas",
    "Priya",
    "Arjun",
    "Mei",
    "Kenji",
    "Aisha",
    "Omar",
    "Lena",
    "Tomas",
    "Ingrid",
    "Felix",
)

LAST_NAMES = (
    "Santos",
    "Reyes",
    "Cruz",
    "Bautista",
    "Ocampo",
    "Garcia",
    "Mendoza",
    "Torres",
    "Tomas",
    "Aquino",
    "Villanueva",
    "Ramos",
    "Castillo",
    "Flores",
    "Dela Cruz",
    "Gonzales",
    "Navarro",
    "Salazar",
    "Lim",
    "Tan",
    "Chua",
    "Sy",
    "Uy",
    "Go",
    "Rivera",
    "Domingo",
    "Pascual",
    "Soriano",
    "Manalo",
    "Mercado",
    "Smith",
    "Johnson",
    "Brown",
    "Lee",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Patel",
    "Sharma",
    "Nakamura",
    "Sato",
    "Khan",
    "Haddad",
    "Novak",
    "Berg",
    "Costa",
    "Fischer",
)

#: Per asset sub-category: (model name, serial-number prefix).
ASSET_MODELS: dict[str, tuple[tuple[str, str], ...]] = {
    "Laptop": (
        ("Dell Latitude 5440", "DL54"),
        ("Lenovo ThinkPad T14 Gen 4", "LT14"),
        ("HP EliteBook 840 G10", "HE84"),
        ("Apple MacBook Air M2", "MBA2"),
        ("ASUS ExpertBook B5", "AXB5"),
    ),
    "Printer": (
        ("HP LaserJet Pro M404dn", "HPM4"),
        ("Brother HL-L2350DW", "BRL2"),
        ("Epson EcoTank L3250", "EPL3"),
        ("Canon imageCLASS MF264dw", "CMF2"),
    ),
    "Projector": (
        ("Epson EB-X49", "EBX4"),
        ("BenQ MW560", "BQ56"),
        ("ViewSonic PA503W", "VSP5"),
        ("Optoma HD146X", "OHD1"),
    ),
    "Mouse": (
        ("Logitech M185 Wireless Mouse", "LM18"),
        ("Microsoft Bluetooth Mouse", "MSBT"),
        ("Logitech MX Master 3S", "LMX3"),
    ),
    "Keyboard": (
        ("Logitech K120 Keyboard", "LK12"),
        ("Microsoft Wired Keyboard 600", "MK60"),
        ("Logitech MX Keys", "LMXK"),
    ),
}

SOFTWARE = (
    "Microsoft Outlook",
    "Microsoft Excel",
    "Microsoft Teams",
    "Google Chrome",
    "Zoom",
    "Adobe Acrobat Reader",
    "SAP Business One",
    "QuickBooks",
    "VPN client",
    "Windows 11",
    "OneDrive",
    "Slack",
    "AnyDesk",
    "Power BI",
)

#: IT Support: per sub-category, (subject templates, description templates). Placeholders:
#: {device}, {software}, {location}, {floor_device}.
IT_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Technical Assistance": (
        (
            "Need help setting up {software} on my {device}",
            "Help connecting {device} to the meeting room display",
            "Cannot find shared drive on my {device}",
            "Assistance with dual monitor setup",
        ),
        (
            "Good day. I need some help with {software} on my {device}; I am not sure how to configure it for our "
            "team's shared mailbox. Could someone walk me through it?",
            "I have a client presentation this week and cannot get my {device} to show on the screen in {location}. "
            "The display stays on 'No signal'.",
            "Since the last update I can no longer see the department's shared drive. Colleagues on the same floor "
            "still can.",
        ),
    ),
    "Software Installation/Update": (
        (
            "Please install {software} on my {device}",
            "{software} update keeps failing",
            "Request for {software} licence and installation",
            "{software} needs to be updated to the latest version",
        ),
        (
            "Our team now uses {software} for reports. Please install it on my {device}; I do not have admin rights.",
            "Every time {software} tries to update it stops at 80% with an error and rolls back. I have restarted "
            "twice.",
            "My manager approved a {software} licence for me. Kindly install it when convenient; I am usually at my "
            "desk in {location}.",
        ),
    ),
    "Hardware Troubleshooting": (
        (
            "{device} will not power on",
            "{device} overheating and shutting down",
            "Broken hinge on my {device}",
            "{device} makes a grinding noise",
            "Keyboard keys not working on my {device}",
        ),
        (
            "My {device} does not turn on this morning. The charging light blinks orange and nothing else happens.",
            "The {device} gets very hot after about 30 minutes and then shuts down by itself. It is on a desk, not "
            "on a pillow.",
            "Several keys (E, R and the space bar) stopped responding on my {device}. An external keyboard works.",
        ),
    ),
    "Email/Account Access Issue": (
        (
            "Locked out of my email account",
            "Cannot log in to {software}",
            "Password reset not arriving",
            "MFA prompt keeps failing",
            "Mailbox full, cannot send email",
        ),
        (
            "I entered my password wrong a few times and now my account is locked. I need access for payroll "
            "approvals today.",
            "The password reset email never arrives, not even in the junk folder. I tried three times.",
            "Outlook says my mailbox is full and refuses to send. I already emptied Deleted Items.",
        ),
    ),
    "Internet/Network Connectivity Issue": (
        (
            "No internet connection at {location}",
            "Wi-Fi keeps dropping in {location}",
            "VPN disconnects every few minutes",
            "Very slow network on my {device}",
        ),
        (
            "Since this morning nobody around my desk in {location} can reach the internet. The cable icon shows a "
            "red cross.",
            "The office Wi-Fi drops every ten minutes or so; calls on Teams freeze and reconnect.",
            "When working from home the VPN disconnects every few minutes, so I keep losing unsaved work.",
        ),
    ),
    "Printer/Scanner Setup or Issue": (
        (
            "Printer in {location} jams every job",
            "Cannot add the {location} printer",
            "Scanner sends blank pages",
            "Printer prints faded text",
        ),
        (
            "The shared printer in {location} jams on nearly every print job. We have removed the paper and "
            "restarted it.",
            "I moved desks and now cannot add the printer in {location} to my {device}; it is not in the list.",
            "Scanning to email produces blank PDF pages although the originals are fine.",
        ),
    ),
    "System Performance Issue": (
        (
            "{device} is extremely slow",
            "{software} freezes for minutes",
            "High CPU usage on my {device}",
            "{device} takes 15 minutes to boot",
        ),
        (
            "My {device} has become very slow over the past week. Opening {software} takes several minutes.",
            "{software} freezes for a minute or two whenever I open a larger file. Task Manager shows 100% disk.",
            "Start-up now takes around 15 minutes and the fan is always loud.",
        ),
    ),
    "Virus/Malware Check": (
        (
            "Suspicious pop-ups on my {device}",
            "I clicked a phishing link",
            "Antivirus warning on my {device}",
            "Browser redirects to strange sites",
        ),
        (
            "I clicked a link in an email that looked like a delivery notice before noticing it was fake. Please "
            "check my {device}.",
            "Antivirus shows a threat detected and quarantined, but the pop-ups keep coming back.",
            "Chrome opens advertising pages by itself and the home page has changed.",
        ),
    ),
    "IT Consultation Request": (
        (
            "Advice on laptops for new hires",
            "Consultation: moving our team files to OneDrive",
            "Which software for project tracking?",
            "Setting up a shared calendar for the team",
        ),
        (
            "We are hiring three people next month. Could IT advise which laptop model to request and how long "
            "setup takes?",
            "Our team would like to move our shared folders to OneDrive. We would appreciate a short consultation "
            "on permissions.",
            "We need a simple tool to track small projects; please suggest something that fits our licences.",
        ),
    ),
    "Data Backup/Restore": (
        (
            "Restore deleted folder from shared drive",
            "Recover previous version of a spreadsheet",
            "Backup my {device} before repair",
            "Lost files after {software} sync",
        ),
        (
            "I accidentally deleted the folder 'Q3 Reports' from the shared drive yesterday afternoon. Can it be "
            "restored?",
            "An Excel file was overwritten this morning. I need the version from last Friday.",
            "My {device} is going in for repair; please back up my documents first.",
        ),
    ),
}

IT_GENERIC_SUBJECTS = ("IT help needed with my {device}", "Problem with {software}")

CHECKOUT_SUBJECTS = (
    "Borrow a {sub} for {purpose_short}",
    "{sub} check out request: {asset}",
    "Request to borrow {asset}",
    "Need a {sub} for {purpose_short}",
)
CHECKOUT_PURPOSES = (
    ("the client workshop", "Needed for the client workshop; we will present the quarterly results."),
    ("a business trip", "I am travelling to the Cebu branch and need a spare device for the trip."),
    ("training", "For the onboarding training sessions of new hires this month."),
    ("a temporary replacement", "My own unit is under repair; I need a temporary replacement until it is back."),
    ("the town hall", "For the company town hall presentation in the main conference room."),
    ("an off-site event", "For the off-site team planning event."),
)
CHECKIN_SUBJECTS = (
    "Returning {asset}",
    "{sub} check in: {asset}",
    "Check in of borrowed {sub}",
    "Return {sub} ({issue})",
)
CHECKIN_DESCRIPTIONS = (
    "I am returning the {asset} (serial {serial}) I borrowed. Condition note: {issue}.",
    "Returning the borrowed {sub} today at {location}. Please note: {issue}.",
    "The {asset} is back at {location}. Reporting the following condition: {issue}.",
)
OTHER_ISSUES = (
    "The carrying case zipper is broken.",
    "One of the rubber feet came off.",
    "The charger cable is frayed.",
    "A sticker residue remains on the lid.",
    "The remote control is missing its battery cover.",
)

BUDGET_SUBJECTS = {
    "Capital Expenditure": ("Capex proposal: {thing}", "Budget for new {thing}", "Purchase of {thing}"),
    "Operating Expense": ("Opex budget: {thing}", "Monthly budget for {thing}", "Operating budget for {thing}"),
    "Project Budget": ("Project budget: {thing}", "Budget proposal for the {thing} project"),
    "Training and Events": ("Training budget: {thing}", "Event budget: {thing}", "Budget for {thing}"),
}
BUDGET_THINGS = {
    "Capital Expenditure": ("meeting room displays", "warehouse shelving", "replacement laptops", "office chairs"),
    "Operating Expense": ("cloud storage", "courier services", "office supplies", "software subscriptions"),
    "Project Budget": ("CRM roll-out", "branch office renovation", "customer portal redesign", "ERP upgrade"),
    "Training and Events": ("leadership training", "team building", "Excel training", "sales kick-off"),
}
#: (description, unit cost range in PHP)
COST_ITEMS = {
    "Capital Expenditure": (
        ("55-inch display", 28000, 45000),
        ("Laptop", 45000, 85000),
        ("Ergonomic chair", 6500, 14000),
        ("Steel shelving unit", 9000, 18000),
        ("Installation", 3000, 12000),
    ),
    "Operating Expense": (
        ("Subscription (per user, per month)", 350, 1800),
        ("Courier deliveries", 180, 450),
        ("Printer paper (ream)", 220, 290),
        ("Toner cartridge", 2800, 6500),
    ),
    "Project Budget": (
        ("Consultant days", 12000, 25000),
        ("Software licences", 4000, 15000),
        ("Hardware", 20000, 60000),
        ("Contingency", 10000, 40000),
    ),
    "Training and Events": (
        ("Venue rental", 15000, 60000),
        ("Trainer fee", 20000, 50000),
        ("Catering (per person)", 450, 950),
        ("Materials", 150, 600),
    ),
}
BUDGET_DESCRIPTIONS = (
    "Proposal for {thing} for the period {start} to {end}. The cost items are listed; total {total}.",
    "Requesting budget approval for {thing}. This supports our department's targets for the period {start} to {end}.",
    "We propose to spend {total} on {thing} between {start} and {end}. Quotes are available on request.",
)

OTHERS_SUBJECTS = (
    "Air conditioning not working in {location}",
    "Request for a new desk chair",
    "Parking slot request",
    "Leaking faucet in the {location} pantry",
    "Request for office keys",
    "Lights flickering in {location}",
    "ID badge not working",
    "Request to move desks",
    "Pest control needed in {location}",
    "Water dispenser empty in {location}",
)
OTHERS_DESCRIPTIONS = (
    "Please check this as soon as possible; it affects several colleagues in {location}.",
    "This has been going on for a few days now. Thank you for looking into it.",
    "Kindly advise on the process, or handle it directly if possible. I am at {location}.",
    "It started this morning. Let me know if you need more details.",
)

GENERIC_SUBJECTS = ("{category}: {sub}", "{sub} request", "Request regarding {sub}", "Question about {sub}")
GENERIC_DESCRIPTIONS = (
    "I would like to submit a {category} request ({sub}). Details: please contact me for anything missing.",
    "Good day. This is a {category} request about {sub}. Thank you in advance.",
)

CLOSINGS = ("", " Thank you.", " Thanks in advance.", " Appreciate the help.", " Thank you very much!")

# --- comments -------------------------------------------------------------------------

STAFF_FIRST_REPLY = (
    "Hi {name}, thanks for reaching out. I have picked this up and will get back to you shortly.",
    "Hello {name}, we received your request and are looking into it now.",
    "Hi {name}, I am on it. Could you confirm you are available at your desk this afternoon?",
    "Good day {name}, thank you for the details. Checking this now.",
)
STAFF_HOLD_REQUEST = (
    "Hi {name}, could you send us a screenshot of the error message? I will put the ticket on hold until then.",
    "We are waiting for the supplier to confirm availability; putting this on hold for now.",
    "Could you confirm the exact serial number on the sticker underneath? Holding the ticket until you reply.",
    "We need your manager's approval for this; please forward it when you have it.",
)
REQUESTER_HOLD_REPLY = (
    "Here you go, I attached the screenshot in my email to you. Thanks!",
    "My manager has approved it, see the forwarded message.",
    "The serial number is correct as submitted. Thank you.",
    "Sorry for the delay, I was on leave. The information is now complete.",
)
INTERNAL_NOTES = (
    "Checked the logs: same error as last month's ticket on this floor.",
    "Escalated to the vendor under our support contract.",
    "Spare unit available in the storeroom if the repair takes long.",
    "Requester's manager is aware. Low risk.",
    "Need to update the knowledge-base article once this is solved.",
    "Waiting for the weekly maintenance window to apply the fix.",
    "Replaced the cable; monitoring for a day before resolving.",
)
STAFF_RESOLUTION = {
    "IT Support": (
        "Fixed: reinstalled the driver and applied the latest updates. Please let us know if it happens again.",
        "Your account has been unlocked and the password reset. Please sign in and change it.",
        "The software is now installed and licensed on your machine.",
        "Replaced the faulty part; the device has been tested and works normally.",
        "Network port reconfigured; connectivity restored for the whole row.",
    ),
    "Asset Check Out": (
        "Asset released to you. Please return it by the expected return date.",
        "Approved and handed over at the front desk; the accessories are in the bag.",
    ),
    "Asset Check In": (
        "Asset received and inspected; the condition note is recorded in the inventory.",
        "Returned asset checked in. Sent for repair as reported.",
    ),
    "New Budget Proposal": (
        "Budget proposal reviewed and approved by Finance for the stated period.",
        "Approved with the listed cost items. The cost centre has been updated.",
    ),
}
STAFF_RESOLUTION_GENERIC = (
    "Done. Please let us know if anything else is needed.",
    "This has been taken care of. Thank you for your patience.",
    "Resolved as requested.",
)
REQUESTER_THANKS = (
    "Thank you, it works now!",
    "Great, thanks for the quick help.",
    "Confirmed, all good on my side.",
    "Thanks a lot!",
)
REQUESTER_REOPEN = (
    "Sorry, the problem came back this morning.",
    "It worked for a day but the same error is back.",
    "The issue is not fully solved; the second unit has the same problem.",
)
REJECTION_REASONS = (
    "Duplicate of an earlier ticket; please follow that one.",
    "This request is outside the scope of the help desk. Please contact your manager.",
    "Missing approval from the department head. Please resubmit with approval.",
    "Not enough information to act on. Please resubmit with details.",
)
WITHDRAW_NOTES = (
    "No longer needed.",
    "Solved it myself, thanks.",
    "Submitted by mistake.",
    "Will raise it again later.",
)
RATING_COMMENTS = {
    5: ("Excellent, very fast!", "Great support, thank you.", "Very helpful and friendly."),
    4: ("Good, thanks.", "Solved well, a bit slow to start.", "Happy with the result."),
    3: ("OK but took a while.", "Fine.", "Solved, but I had to follow up."),
    2: ("Took too long.", "Had to explain the problem twice."),
    1: ("Very slow response.", "Not really solved."),
}
IT_GENERIC_DESCRIPTIONS = (
    "I need help with my {device}: {software} is not working as expected.",
    "Please assist; my {device} has a problem with {software}.",
)
