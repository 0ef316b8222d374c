"""Who is acting: signing in with a password (with lockout), `--as EMAIL`, and the bootstrap actor.

The console's login screen calls `SignIn.authenticate`; the CLI's `--as` calls `SignIn.actor`. Every
use case then reloads the actor's memberships with `refresh_actor`, so a role changed or an account
disabled after sign-in counts at once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pulsewatch.domain.accounts import AccountError, Actor, PermissionDenied, normalize_email
from pulsewatch.domain.lockout import AuthenticationFailed, LockedOut, LockoutPolicy, LoginAttempt
from pulsewatch.errors import NotFoundError

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.services.ports import AccountsStore, PasswordHasher

BOOTSTRAP = "bootstrap"
"""The system actor's name while nobody can sign in yet (see `SignIn.bootstrap_actor`)."""


class SignIn:
    """Sign-in and identity over an `AccountsStore` and a `PasswordHasher`.

    Args:
        store: where accounts and sign-in attempts live.
        hasher: checks passwords (argon2id in production).
        lockout: how many failures lock an account, and for how long.
    """

    def __init__(
        self, store: AccountsStore, hasher: PasswordHasher, lockout: LockoutPolicy | None = None
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._lockout = lockout or LockoutPolicy()
        self._dummy_hash: str | None = None

    def sign_in_required(self) -> bool:
        """True once some enabled user has a password: the console then asks who you are."""
        return self._store.any_user_can_sign_in()

    def authenticate(self, email: str, password: str, now: datetime) -> Actor:
        """Sign in with email and password.

        A locked account is refused before its password is checked; the failure that reaches the
        limit already reports the lock. Unknown emails cost the same hashing time as known ones.

        Returns:
            The signed-in actor with their memberships.

        Raises:
            LockedOut: too many recent failures; the message says until when (UTC).
            AuthenticationFailed: wrong email or password, or a disabled account.
        """
        try:
            email = normalize_email(email)
        except AccountError:
            raise AuthenticationFailed() from None
        since = self._lockout.history_since(now)
        attempts = self._store.login_attempts(email, since)
        until = self._lockout.locked_until(attempts, now)
        if until is not None:
            raise LockedOut(email, until, now)
        user = self._store.get_user(email)
        if user is not None and user.password_hash is not None:
            ok = self._hasher.verify(user.password_hash, password)
        else:
            self._hasher.verify(self._dummy(), password)  # same cost: no telling which emails exist
            ok = False
        attempt = LoginAttempt(email, now, ok)
        self._store.record_login_attempt(attempt, keep_since=since)
        if not ok or user is None or user.password_hash is None:
            until = self._lockout.locked_until([*attempts, attempt], now)
            if until is not None:
                raise LockedOut(email, until, now)
            raise AuthenticationFailed()
        if user.disabled:
            raise AuthenticationFailed(f"the account {email} is disabled; ask an administrator")
        if self._hasher.needs_rehash(user.password_hash):
            self._store.save_user(replace(user, password_hash=self._hasher.hash(password)))
        return Actor(email, tuple(self._store.memberships_of(email)))

    def actor(self, email: str) -> Actor:
        """The actor for a named user, without a password: `--as EMAIL` on the command line.

        Raises:
            NotFoundError: no such user.
            PermissionDenied: the user is disabled.
        """
        email = normalize_email(email)
        user = self._store.get_user(email)
        if user is None:
            raise NotFoundError(f"no user {email}")
        if user.disabled:
            raise PermissionDenied(f"{email} is disabled and may not act", permission=None, role=None)
        return Actor(email, tuple(self._store.memberships_of(email)))

    def bootstrap_actor(self) -> Actor:
        """The system actor for administration before anyone can sign in (the first owner's setup).

        Raises:
            PermissionDenied: someone can sign in already, so an acting user must be named.
        """
        if self._store.any_user_can_sign_in():
            raise PermissionDenied(
                "users can sign in: name who is acting (--as EMAIL); changes without one are only "
                "allowed until the first password is set",
                permission=None,
                role=None,
            )
        return Actor.for_system(BOOTSTRAP)


    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not the password of anyone")
        return self._dummy_hash


def refresh_actor(store: AccountsStore, actor: Actor) -> Actor:
    """The actor with the memberships held now, so a role changed since sign-in counts at once.

    Raises:
        PermissionDenied: the user was disabled (or removed) since.
    """
    if actor.system:
        return actor
    user = store.get_user(actor.name)
    if user is None or user.disabled:
        raise PermissionDenied(f"{actor.name} is disabled and may not act", permission=None, role=None)
    return Actor(user.email, tuple(store.memberships_of(user.email)))
