# ruff: noqa: E501  (Markdown article bodies keep their natural line lengths)
"""Demo help-centre content: about thirty realistic articles, and an idempotent loader.

The articles answer what employees ask a help desk most (VPN, passwords, printers, leave,
expenses, asset loans, ...), so the help centre and the assistant have something real to
retrieve in the demo. `load_articles` is called by the demo generator; running it twice
adds nothing (articles are matched by title).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Employee, HelpArticle
from ..vocab import ArticleVisibility

E, C, A = ArticleVisibility.EMPLOYEE.value, ArticleVisibility.COORDINATOR.value, ArticleVisibility.ADMIN.value

ARTICLES: list[dict[str, Any]] = [
    {
        "title": "Connect to the company VPN from home",
        "category": "IT Support",
        "visibility": E,
        "body": """You need the VPN to reach internal systems (file shares, HR portal, finance tools) from outside the office.

## Steps
1. Install **GlobalProtect** from the Software Center (Windows) or Self Service (macOS).
2. Open it and enter the portal address `vpn.example.com`.
3. Sign in with your company e-mail and password, then approve the MFA prompt on your phone.
4. Wait until the icon shows **Connected**.

## If it does not connect
- Check that your home internet works without the VPN first.
- "Gateway not responding": switch networks (e.g. phone hotspot) and try again; some hotel and café Wi-Fi block VPNs.
- "Authentication failed": your password may have expired — see *Reset your password*.
- Still failing? File an **IT Support** ticket with sub-category *Internet/Network Connectivity Issue* and attach a screenshot of the error.
""",
    },
    {
        "title": "Reset your password",
        "category": "IT Support",
        "visibility": E,
        "body": """Passwords expire every 90 days. You can reset yours yourself.

1. Go to `https://password.example.com` from any browser.
2. Enter your company e-mail and complete the MFA check.
3. Choose a new password: at least 12 characters, not one of your last 5 passwords.
4. Sign out and back in on your laptop, and update the password on your phone's mail app.

**Locked out** after too many attempts? The lock lifts by itself after 15 minutes.
If you no longer have your MFA device, file an **IT Support** ticket (*Email/Account Access Issue*) — the service desk will verify your identity by phone before resetting anything. Never send your password by e-mail or chat.
""",
    },
    {
        "title": "Set up multi-factor authentication (MFA)",
        "category": "IT Support",
        "visibility": E,
        "body": """All accounts must use MFA.

1. Install **Microsoft Authenticator** on your phone.
2. Sign in at `https://mysignins.example.com` → *Security info* → *Add method* → *Authenticator app*.
3. Scan the QR code and approve the test notification.
4. Add a second method (phone number) as a backup.

**New phone?** Add the authenticator on the new phone *before* wiping the old one. If the old phone is lost, file an IT Support ticket (*Email/Account Access Issue*) to have your MFA methods reset.
""",
    },
    {
        "title": "Printer is not printing or shows offline",
        "category": "IT Support",
        "visibility": E,
        "body": """Most printer problems are solved in a few minutes.

1. Check the printer's display for paper jams, empty trays or low toner.
2. Make sure you are on the office network (the printers are not reachable over guest Wi-Fi).
3. On Windows: *Settings → Printers & scanners*, select the printer, *Open queue*, cancel stuck jobs, then print again.
4. Remove and re-add the printer: the floor printers are named `PRN-<floor>-<number>` (e.g. `PRN-2F-01`).

If the printer shows an error code or is physically damaged, file an **IT Support** ticket (*Printer/Scanner Setup or Issue*) with the printer name and the error code.
""",
    },
    {
        "title": "Add a network printer to your laptop",
        "category": "IT Support",
        "visibility": E,
        "body": """1. Connect to the office Wi-Fi `CORP` or a wired port.
2. Windows: *Settings → Bluetooth & devices → Printers & scanners → Add device*. macOS: *System Settings → Printers & Scanners → Add Printer*.
3. Pick the printer nearest to you (`PRN-1F-01`, `PRN-2F-01`, `PRN-3F-01`, branch offices `PRN-BN-01`, `PRN-BS-01`).
4. Print a test page.

Scanning to e-mail works from the printer's panel: *Scan → E-mail → Me*.
""",
    },
    {
        "title": "Connect to the office Wi-Fi",
        "category": "IT Support",
        "visibility": E,
        "body": """There are two networks:

| Network | Who | How |
|---|---|---|
| `CORP` | company laptops and phones | sign in with your company e-mail and password |
| `GUEST` | visitors, personal devices | daily code at the reception desk |

If `CORP` keeps asking for your password, *forget* the network and join it again after a password change. Slow Wi-Fi in one area? Report it as an IT Support ticket (*Internet/Network Connectivity Issue*) with the floor and room so the network team can check the access point.
""",
    },
    {
        "title": "Request new software",
        "category": "IT Support",
        "visibility": E,
        "body": """Approved software (browsers, Office, Zoom, Slack, PDF tools, Python, VS Code) can be installed yourself from the **Software Center**.

For anything else:
1. File an **IT Support** ticket, sub-category *Software Installation/Update*.
2. Say which software and version, why you need it, and whether a licence is needed.
3. Paid licences need your manager's approval; attach it to the ticket.

Typical time: 2 business days for approved software, longer when a licence must be bought. Do not install software from the internet with an admin account — it is blocked and reported.
""",
    },
    {
        "title": "My laptop is slow",
        "category": "IT Support",
        "visibility": E,
        "body": """Try these before filing a ticket:

- Restart the laptop (not just close the lid) — updates often finish on restart.
- Close browser tabs you do not need; each can use hundreds of MB of memory.
- Check *Task Manager → Processes* for anything using lots of CPU or memory.
- Free disk space: keep at least 15% free; empty *Downloads* and the recycle bin.

If it stays slow, file an **IT Support** ticket (*System Performance Issue*) and mention when it started and what you were doing.
""",
    },
    {
        "title": "Suspicious e-mail or possible virus",
        "category": "IT Support",
        "visibility": E,
        "body": """**Do not** click links, open attachments or reply.

1. Use the *Report phishing* button in Outlook — it sends the message to the security team.
2. If you already clicked a link or entered your password: reset your password immediately (see *Reset your password*) and file an **IT Support** ticket (*Virus/Malware Check*) with priority **High**.
3. If your laptop shows pop-ups, encrypted files or unknown programs, disconnect it from the network (Wi-Fi off, cable out) and call the service desk.
""",
    },
    {
        "title": "Back up and restore your files",
        "category": "IT Support",
        "visibility": E,
        "body": """Files in **OneDrive** and team **SharePoint** sites are backed up automatically; files only on your laptop's disk are not.

- Keep work files in OneDrive (*Documents* and *Desktop* are synced by default).
- Deleted a file? Restore it from the OneDrive recycle bin (93 days) or *Version history*.
- Need an older copy from a shared drive? File an **IT Support** ticket (*Data Backup/Restore*) with the folder path and the date you need.
""",
    },
    {
        "title": "Set up e-mail on your phone",
        "category": "IT Support",
        "visibility": E,
        "body": """Use the **Outlook** app (the built-in mail apps are not supported).

1. Install Outlook from the App Store / Google Play.
2. Add your company e-mail account and approve the MFA prompt.
3. Accept the *Company Portal* prompt: it protects company data on your phone and can wipe only company data if the phone is lost.
""",
    },
    {
        "title": "Video calls: camera, microphone or screen sharing not working",
        "category": "IT Support",
        "visibility": E,
        "body": """1. Check that no other app (Zoom, Teams) is already using the camera.
2. In the meeting app's settings pick the right microphone and camera.
3. Windows: *Settings → Privacy & security → Camera / Microphone* — allow desktop apps.
4. macOS: allow *Screen Recording* for the app in *Privacy & Security*, then restart the app.

Meeting room equipment broken? File an IT Support ticket with the room name.
""",
    },
    {
        "title": "Borrow a laptop, projector or other company asset",
        "category": "Asset Check Out",
        "visibility": E,
        "body": """The Asset Department lends laptops, printers, projectors, mice and keyboards.

1. File an **Asset Check Out** ticket and choose the asset type as sub-category.
2. Give the asset name and serial number if you know which one you want (the label is under the device), the location where you will use it, and the **expected return date**.
3. You will get an e-mail when it is ready for pick-up at the Asset Desk (Main Office 1st Floor).

Loans longer than 30 days need your manager's approval. You are responsible for the asset until it is checked in.
""",
    },
    {
        "title": "Return a borrowed asset (check in)",
        "category": "Asset Check In",
        "visibility": E,
        "body": """1. File an **Asset Check In** ticket with the asset name, serial number and your location.
2. Report its condition honestly: choose *Not Functioning*, *Missing Accessories*, *Physical Damage*, *Battery Issue*, *Software Issue*, *Screen/Display Issue* or *Other* (and describe it).
3. Bring the asset with its charger and accessories to the Asset Desk.

Damage reported on return is not held against you; damage found later and not reported may be.
""",
    },
    {
        "title": "Lost or stolen laptop or phone",
        "category": "Asset Check In",
        "visibility": E,
        "body": """Act quickly — the device may hold company data.

1. Call the service desk right away so the device can be locked and wiped remotely.
2. Change your password from another device.
3. File an **IT Support** ticket with priority **Critical**: the asset's serial number, where and when it was lost.
4. If stolen, report it to the police and attach the police report to the ticket.
""",
    },
    {
        "title": "Request leave (vacation, sick, emergency)",
        "category": "Human Resources",
        "visibility": E,
        "body": """Leave is requested in the HR portal, not by ticket.

1. Open *HR Portal → Leave → New request*.
2. Pick the leave type: Vacation (file at least 5 business days ahead), Sick (file on your return; a medical certificate is needed for 3 or more consecutive days), Emergency (file within 2 days of returning).
3. Your manager approves it; you get an e-mail either way.

Check your balance under *Leave → Balances*. If a balance looks wrong, file an **Others** ticket addressed to Human Resources with the dates concerned.
""",
    },
    {
        "title": "Parental leave and other special leave",
        "category": "Human Resources",
        "visibility": E,
        "body": """Maternity (105 days), paternity (7 days), solo-parent (7 days) and special leave for women (up to 2 months) follow the law.

Tell HR at least 30 days before the expected date when you can, and file the request in the HR portal with the supporting documents. HR will confirm your benefits and the payroll arrangements. Questions: file an **Others** ticket for Human Resources.
""",
    },
    {
        "title": "Submit an expense claim",
        "category": "Finance",
        "visibility": E,
        "body": """Claim business expenses within **30 days** of spending.

1. *Finance Portal → Expenses → New claim*.
2. Add one line per receipt: date, amount (PHP), purpose; attach a clear photo or PDF of each official receipt.
3. Meals with clients: list the attendees. Travel: attach the approved travel request.
4. Submit: your manager approves, then Finance pays it with the next payroll.

Claims without official receipts are returned. Lost a receipt? Attach a signed explanation and your manager's approval.
""",
    },
    {
        "title": "When will my expense claim be paid?",
        "category": "Finance",
        "visibility": E,
        "body": """Approved claims are paid with the payroll after approval: claims approved by the 10th are paid on the 15th, those approved by the 25th on the 30th.

Track the status in *Finance Portal → Expenses*. *Returned* means something is missing — read the comment, fix it and resubmit. If a claim has been *Approved* for more than two payrolls without payment, file an **Others** ticket for Finance with the claim number.
""",
    },
    {
        "title": "Propose a new budget",
        "category": "New Budget Proposal",
        "visibility": E,
        "body": """Use the **New Budget Proposal** ticket.

- **Performance period**: the start and end dates the budget covers (e.g. a quarter or a project's duration).
- **Cost items**: one line per item with description, quantity and unit cost; the requested budget is their total, in PHP.
- **Approved by**: the manager who endorses the proposal.
- Choose the budget type as sub-category: *Capital Expenditure*, *Operating Expense*, *Project Budget*, *Training and Events*.

Finance reviews proposals weekly. Attach quotations for items above PHP 50,000.
""",
    },
    {
        "title": "Company travel: booking and travel requests",
        "category": "Finance",
        "visibility": E,
        "body": """1. Get your manager's approval with a **travel request** in the Finance Portal before booking.
2. Book flights and hotels through the travel desk (travel@example.com) so the company rates apply.
3. Per-diem allowances are paid with your expense claim after the trip; keep all receipts.
""",
    },
    {
        "title": "Your first week: onboarding checklist",
        "category": "Getting Started",
        "visibility": E,
        "body": """Welcome! In your first week:

- [ ] Sign in to your laptop and change the temporary password.
- [ ] Set up MFA (see *Set up multi-factor authentication*).
- [ ] Install the Outlook app on your phone.
- [ ] Complete the security awareness training in the Learning Portal.
- [ ] Check your personal details and bank account in the HR Portal.
- [ ] Register in SmartSupport — your account is approved by an administrator.

Questions about anything? Ask the assistant first, or file a ticket.
""",
    },
    {
        "title": "How SmartSupport tickets work",
        "category": "Getting Started",
        "visibility": E,
        "body": """1. **Submit** a ticket: pick the category that fits (IT Support, Asset Check Out, Asset Check In, New Budget Proposal, Others) and describe the problem.
2. It shows as **Pending** while it is reviewed, then **In Progress** when someone works on it.
3. **On Hold** means the team is waiting — often for your reply. Answer in the ticket's comments.
4. **Resolved**: check the solution. If the problem is back, reopen it; otherwise it is closed automatically after a few days.

You can withdraw your own ticket any time before it is resolved. You get an e-mail at every step.
""",
    },
    {
        "title": "Choosing the right ticket priority",
        "category": "Getting Started",
        "visibility": E,
        "body": """- **Critical**: many people cannot work, or a security incident (lost laptop, virus).
- **High**: you cannot work and there is no workaround.
- **Medium**: you can work, but something important is impaired.
- **Low**: requests and questions that can wait (asset loans, information).

The team may adjust the priority after review; response and resolution targets depend on it.
""",
    },
    {
        "title": "Request building access or a replacement ID badge",
        "category": "Facilities",
        "visibility": E,
        "body": """Lost or broken badge: file an **Others** ticket for Operations with your company ID; a temporary badge is available at reception the same day. Access to restricted rooms (server room, archive) needs your manager's approval in the ticket.
""",
    },
    {
        "title": "Report a facilities problem (air-conditioning, lights, leaks)",
        "category": "Facilities",
        "visibility": E,
        "body": """File an **Others** ticket for Operations with the exact location (floor, room) and what is wrong. Urgent safety problems (water leak, electrical smell, blocked fire exit): call reception first, then file the ticket.
""",
    },
    {
        "title": "Working from home: equipment and security",
        "category": "Getting Started",
        "visibility": E,
        "body": """- Use the VPN for internal systems (see *Connect to the company VPN from home*).
- Lock your screen when you step away (Windows + L / Ctrl + Cmd + Q).
- Need a monitor, keyboard or headset at home? File an **Asset Check Out** ticket with location *Remote/Home Office*.
- Do not print confidential documents at home.
""",
    },
    {
        "title": "Coordinator guide: triaging new tickets",
        "category": "Coordinator Guides",
        "visibility": C,
        "body": """Every morning and after lunch:

1. Open the queue filtered on **Open** and unassigned tickets of your department.
2. Check the category and priority; raise the priority of anything blocking many people or security-related.
3. Assign it to yourself or a colleague with the right skills; the requester is told automatically.
4. First public reply within the response target: acknowledge, ask for what is missing (serial number, screenshots).
5. Use **internal notes** for anything the requester must not see — they are never shown to employees or used by the assistant.
""",
    },
    {
        "title": "Coordinator guide: writing a good resolution",
        "category": "Coordinator Guides",
        "visibility": C,
        "body": """The last public reply becomes the resolution other employees learn from (the assistant quotes resolutions without names). So:

- Say what the cause was and what fixed it, in plain words.
- Do not paste passwords, personal data or other people's names.
- If the fix is something people can do themselves, link or suggest a help article — or write one.
""",
    },
    {
        "title": "Admin guide: approving accounts and new tickets",
        "category": "Admin Guides",
        "visibility": A,
        "body": """- **Accounts**: check the company ID against the HR list before approving; reject with a reason the person can act on.
- **New tickets**: approve tickets that are complete and in the right category; reject with a reason (the requester sees it) when they belong elsewhere, e.g. leave requests go to the HR portal.
- Suspend accounts of people who left the company the same day HR informs you.
""",
    },
]


def load_articles(session: Session, author: Employee | None = None) -> int:
    """Insert the demo articles that are not there yet (by title); returns how many were added.

    Idempotent, and flushes without committing so it joins the demo loader's transaction.
    """
    existing = set(session.scalars(select(HelpArticle.title)))
    added = 0
    for item in ARTICLES:
        if item["title"] in existing:
            continue
        session.add(
            HelpArticle(
                title=item["title"],
                body=item["body"].strip(),
                category=item["category"],
                visibility=item["visibility"],
                is_published=True,
                created_by_id=author.id if author is not None else None,
            )
        )
        added += 1
    session.flush()
    return added
