"""A real IMAP server on loopback for the inbound-mail tests and `bench/email_inbound.py`:
Debian's Dovecot (`/usr/sbin/dovecot`, package `dovecot-imapd`) with its own configuration in
a temporary directory.

It listens on 127.0.0.1 on a free port with plain login allowed without TLS (loopback only),
users in a passwd-file (Dovecot re-reads it when it changes, so `add_user` works while it
runs), one Maildir per user, and runs in the foreground (`-F`) so `stop` ends it. As root,
Dovecot refuses to run its login processes or mail as uid 0: the mail processes then run
as the `dovecot` system user, which owns the mail directory. Messages are delivered with
IMAP APPEND, as a mail server would deliver them into the folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from imap_tools import MailBoxUnencrypted

from tests.smtp_sink import free_port

DOVECOT = "/usr/sbin/dovecot"


def _mail_owner() -> tuple[int, int]:
    """(uid, gid) the mail is stored as: ours, unless we are root (then the dovecot user's)."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    entry = pwd.getpwnam("dovecot")
    return entry.pw_uid, entry.pw_gid


def _config(root: Path, port: int, uid: int, gid: int) -> str:
    internal = "dovecot" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    login = "dovenull" if os.getuid() == 0 else internal
    return f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = smartsupport-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = {min(uid, 1)}
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """`with Dovecot() as server: server.add_user(...); server.append(...)`."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ss-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.users: dict[str, str] = {}

    def start(self) -> Dovecot:
        uid, gid = _mail_owner()
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        os.chown(self.root / "mail", uid, gid)
        (self.root / "users").write_text("")
        conf = self.root / "dovecot.conf"
        conf.write_text(_config(self.root, self.port, uid, gid))
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 20.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_user(self, user: str, password: str) -> None:
        self.users[user] = password
        lines = "".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items())
        path = self.root / "users"
        temp = path.with_suffix(".tmp")
        temp.write_text(lines)
        # Dovecot re-reads the file when its mtime changes; two writes within one second would
        # look alike, so each write gets its own mtime.
        self._mtime = max(getattr(self, "_mtime", 0), int(time.time())) + 1
        os.utime(temp, (self._mtime, self._mtime))
        os.replace(temp, path)
        deadline = time.monotonic() + 10
        while True:  # until Dovecot has read the new file
            try:
                self.client(user).logout()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def client(self, user: str) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.port).login(user, self.users[user])

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver one message into the user's folder (IMAP APPEND)."""
        with self.client(user) as box:
            result = box.client.append(folder, None, None, raw)
            assert result[0] == "OK", result

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, tuple[str, ...]]:
        """UID -> flags of every message in the folder."""
        with self.client(user) as box:
            box.folder.set(folder)
            return {int(m.uid): m.flags for m in box.fetch(mark_seen=False, headers_only=True)}
