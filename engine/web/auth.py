"""Accounts, sessions, CSRF tokens and login throttling (the only argon2 importer).

- Passwords are hashed with Argon2id (argon2-cffi, OWASP's parameters: 19 MiB, 2 passes, 1 lane); a
  hash made with other parameters is re-hashed at the next successful login.
- A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie; the store keeps its
  SHA-256 only.  Every login makes a new session (a token planted before login is never promoted:
  no session fixation), and logging in drops the sessions the browser carried.
- Every form carries the session's CSRF token; every state-changing request must send it back
  (form field `csrf` or header `X-CSRF-Token`).  The login form, which has no session yet, uses a
  double-submit token: a random value in a cookie and the same value in the form.
- Login throttling: after MAX_FAILURES failed logins for one user name, or MAX_IP_FAILURES from
  one address, within WINDOW, further attempts are refused until the window has passed, whether
  the password is right or not, and without saying whether the account exists.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, delete, func, select, update

from .store import ROLES, Store, login_attempts, now, offices, sessions, users

__all__ = ["User", "hash_password", "check_password", "add_user", "authenticate", "new_session", "session_user",
           "end_session", "acting_office", "act_in", "throttled", "ROLE_LABELS", "AuthError", "MAX_FAILURES", "WINDOW", "token_hash",
           "check_csrf", "PASSWORD_MIN"]

ROLE_LABELS = {"admin": "县级管理员", "clerk": "镇街办事员", "finance": "财务", "auditor": "审计", "city_admin": "市级管理员"}
MAX_FAILURES = 5                 # per user name
MAX_IP_FAILURES = 20             # per address (many names tried from one machine)
WINDOW = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(hours=8)   # a session unused this long is over (a working day)
SESSION_MAX = dt.timedelta(hours=12)   # and any session this long after its login, however busy
PASSWORD_MIN = 8

# Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~50 ms a check here, where
# argon2-cffi's default (64 MiB, 3 passes, 4 lanes) took 0.6 s on a busy 2-core machine and made a
# morning's logins queue for tens of seconds.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# At most two Argon2 checks at a time, so that a burst of logins (or someone trying passwords) queues
# instead of taking every core from the office's other work.
_checking = threading.BoundedSemaphore(2)
# a fixed hash verified for unknown user names, so a login takes as long whether the name exists or not
_DUMMY = _hasher.hash("wangge-no-such-user")


class AuthError(Exception):
    """A refused account change, with the message for the page (Chinese)."""


@dataclass(frozen=True)
class User:
    id: int
    office_id: int
    username: str
    display_name: str
    role: str
    town: str | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def as_dict(self) -> dict:
        return {"id": self.id, "office_id": self.office_id, "username": self.username,
                "display_name": self.display_name, "role": self.role, "town": self.town}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    with _checking:
        try:
            return _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row) -> User:
    return User(row["id"], row["office_id"], row["username"], row["display_name"], row["role"], row["town"])


def add_user(store: Store, *, office_id: int, username: str, password: str, role: str, display_name: str = "",
             town: str | None = None, by: dict | None = None) -> User:
    """A new account (audited).  A town clerk must have a town; the others have none."""
    problems = []
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        problems.append("用户名应为 1–64 个字符，不含空格")
    if role not in ROLES:
        problems.append("角色应为以下之一：" + "、".join(f"{k}（{v}）" for k, v in ROLE_LABELS.items()))
    if role == "clerk" and not (town or "").strip():
        problems.append("镇街办事员须指定所属镇街")
    if role != "clerk" and town:
        problems.append("只有镇街办事员有所属镇街")
    kind = (store.one(select(offices.c.kind).where(offices.c.id == office_id)) or {}).get("kind")
    if role == "city_admin" and kind != "city":
        problems.append("市级管理员只能建在市级单位（--kind city 的单位）")
    if role in ROLES and role != "city_admin" and kind == "city":
        problems.append(f"市级单位只有市级管理员；{ROLE_LABELS[role]}应建在所属县级单位")
    if len(password) < PASSWORD_MIN:
        problems.append(f"密码至少 {PASSWORD_MIN} 个字符")
    if store.one(select(users.c.id).where(users.c.username == username)):
        problems.append(f"用户名 {username} 已存在")
    if problems:
        raise AuthError("；".join(problems))
    values = dict(office_id=office_id, username=username, display_name=display_name.strip() or username, role=role,
                  town=(town or "").strip() or None, password_hash=hash_password(password), active=True,
                  created_at=now())
    with store.engine.begin() as c:
        uid = c.execute(users.insert().values(**values)).inserted_primary_key[0]
        shown = {k: v for k, v in values.items() if k != "password_hash"}
        store.audit(user=by, action="user.add", target=username, after=shown, office_id=office_id, conn=c)
    return User(uid, office_id, username, values["display_name"], role, values["town"])


def set_password(store: Store, user_id: int, password: str, *, by: dict | None = None) -> None:
    if len(password) < PASSWORD_MIN:
        raise AuthError(f"密码至少 {PASSWORD_MIN} 个字符")
    row = store.one(select(users).where(users.c.id == user_id))
    with store.engine.begin() as c:
        c.execute(update(users).where(users.c.id == user_id).values(password_hash=hash_password(password)))
        c.execute(delete(sessions).where(sessions.c.user_id == user_id))    # everyone logged in as them is out
        store.audit(user=by, action="user.password", target=row["username"], before={"password": "（已更改）"},
                    office_id=row["office_id"], conn=c)


def throttled(store: Store, username: str, ip: str) -> bool:
    since = (dt.datetime.now(dt.timezone.utc) - WINDOW).isoformat(timespec="seconds")
    with store.engine.connect() as c:
        by_user = c.execute(select(func.count()).select_from(login_attempts).where(and_(
            login_attempts.c.username == username, login_attempts.c.at >= since, login_attempts.c.ok.is_(False)))).scalar()
        by_ip = c.execute(select(func.count()).select_from(login_attempts).where(and_(
            login_attempts.c.ip == ip, login_attempts.c.at >= since, login_attempts.c.ok.is_(False)))).scalar()
    return by_user >= MAX_FAILURES or by_ip >= MAX_IP_FAILURES


def authenticate(store: Store, username: str, password: str, ip: str) -> User | None:
    """The user if the name and password are right and the account is active and not throttled.
    Every attempt is recorded (throttling reads them; the audit log has the outcome)."""
    username = username.strip()[:64]
    if throttled(store, username, ip):
        store.audit(user=None, action="login.throttled", target=username, ip=ip)
        raise AuthError(f"登录失败次数过多，请 {int(WINDOW.total_seconds() // 60)} 分钟后再试")
    row = store.one(select(users).where(users.c.username == username))
    ok = check_password(row["password_hash"] if row else _DUMMY, password) and row is not None and row["active"]
    with store.engine.begin() as c:
        c.execute(login_attempts.insert().values(username=username, ip=ip, at=now(), ok=bool(ok)))
        if ok and _hasher.check_needs_rehash(row["password_hash"]):
            c.execute(update(users).where(users.c.id == row["id"]).values(password_hash=hash_password(password)))
        store.audit(user=dict(row) if ok else None, action="login" if ok else "login.failed", target=username,
                    ip=ip, office_id=row["office_id"] if row else None, conn=c)
    return _user(row) if ok else None


def new_session(store: Store, user: User, ip: str, *, drop: str | None = None) -> tuple[str, str]:
    """A fresh session for `user` (token, csrf); the token the browser had before (`drop`) is ended."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    stamp = now()
    with store.engine.begin() as c:
        if drop:
            c.execute(delete(sessions).where(sessions.c.token_hash == token_hash(drop)))
        c.execute(sessions.insert().values(token_hash=token_hash(token), user_id=user.id, csrf=csrf, created_at=stamp,
                                           last_seen=stamp, ip=ip[:64]))
    return token, csrf


def session_user(store: Store, token: str | None) -> tuple[User, str] | None:
    """(user, csrf) of a live session, or None.  A session idle for SESSION_IDLE, or older than
    SESSION_MAX since its login (a stolen cookie kept alive by use still ends), is ended."""
    if not token or len(token) > 100:
        return None
    h = token_hash(token)
    with store.engine.connect() as c:
        row = c.execute(select(sessions.c.csrf, sessions.c.last_seen, sessions.c.created_at.label("session_start"), users).join(users, users.c.id == sessions.c.user_id)
                        .where(sessions.c.token_hash == h)).mappings().first()
    if row is None or not row["active"]:
        return None
    seen = dt.datetime.fromisoformat(row["last_seen"])
    current = dt.datetime.now(dt.timezone.utc)
    if current - seen > SESSION_IDLE or current - dt.datetime.fromisoformat(row["session_start"]) > SESSION_MAX:
        store.run(delete(sessions).where(sessions.c.token_hash == h))
        return None
    if current - seen > dt.timedelta(minutes=1):      # one write a minute at most, not one per request
        store.run(update(sessions).where(sessions.c.token_hash == h).values(last_seen=now()))
    return _user(row), row["csrf"]


def acting_office(store: Store, token: str | None) -> int | None:
    """The county a city administrator's session acts in (None: not chosen yet)."""
    if not token or len(token) > 100:
        return None
    row = store.one(select(sessions.c.acting_office_id).where(sessions.c.token_hash == token_hash(token)))
    return row["acting_office_id"] if row else None


def act_in(store: Store, token: str, office_id: int | None) -> None:
    """Set the county the session acts in (kept server-side: the cookie carries only the token)."""
    store.run(update(sessions).where(sessions.c.token_hash == token_hash(token)).values(acting_office_id=office_id))


def end_session(store: Store, token: str | None) -> None:
    if token:
        store.run(delete(sessions).where(sessions.c.token_hash == token_hash(token)))


def check_csrf(expected: str | None, sent: str | None) -> bool:
    return bool(expected) and bool(sent) and hmac.compare_digest(str(expected), str(sent))
