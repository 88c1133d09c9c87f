"""Operators, their passwords and sessions, CSRF tokens and the login rate limit.

Passwords are scrypt (hashlib, no new dependency) with a random salt per operator; a
session is a random token in an HttpOnly, SameSite=Strict cookie whose sha256 alone is
stored, with a CSRF token of its own that every POST form carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass

import asyncpg

ROLES = ("viewer", "operator")
SESSION_TTL_S = 12 * 3600
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~50 ms and 16 MiB per check


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex) of ``password`` with a fresh salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` value (constant-time compare)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Operator:
    """The logged-in person behind a request."""

    name: str
    role: str
    csrf: str

    @property
    def can_act(self) -> bool:
        return self.role == "operator"


async def add_operator(conn: asyncpg.Connection, name: str, password: str, role: str) -> None:
    """Create ``name`` (or reset its password and role)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if not name or len(password) < 8:
        raise ValueError("a name and a password of at least 8 characters are required")
    await conn.execute(
        "INSERT INTO console_operators (name, password_hash, role) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
        "role = EXCLUDED.role, disabled = false", name, hash_password(password), role)


async def login(conn: asyncpg.Connection, name: str, password: str) -> str | None:
    """A new session token for the right password, else None."""
    row = await conn.fetchrow("SELECT password_hash FROM console_operators "
                              "WHERE name = $1 AND NOT disabled", name)
    # A missing operator costs the same scrypt as a wrong password (no name probing).
    stored = row["password_hash"] if row else hash_password("x")
    if not check_password(password, stored) or row is None:
        return None
    token = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO console_sessions (token_hash, operator, csrf_token, expires_at) "
        "VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        _token_hash(token), name, secrets.token_urlsafe(32), float(SESSION_TTL_S))
    return token


async def session(conn: asyncpg.Connection, token: str) -> Operator | None:
    """The operator of a live session token."""
    row = await conn.fetchrow(
        "SELECT o.name, o.role, s.csrf_token FROM console_sessions s "
        "JOIN console_operators o ON o.name = s.operator "
        "WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT o.disabled",
        _token_hash(token))
    return Operator(row["name"], row["role"], row["csrf_token"]) if row else None


async def logout(conn: asyncpg.Connection, token: str) -> None:
    await conn.execute("DELETE FROM console_sessions WHERE token_hash = $1 OR expires_at < now()",
                       _token_hash(token))


def csrf_ok(op: Operator, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(op.csrf.encode(), given.encode())


class LoginLimiter:
    """At most ``attempts`` failed logins per ``window_s`` per client address and per name
    (in memory: the console is one process; a restart forgets, which only helps a user)."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0) -> None:
        self.attempts, self.window_s = attempts, window_s
        self.failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self.failures.setdefault(key, deque())
        while q and q[0] < now - self.window_s:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for k in keys:
            self._recent(k, now).append(now)
