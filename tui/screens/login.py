"""The login screen: shown before anything else when the database has accounts.

Email and password; the password check (argon2id, deliberately slow) runs in a thread worker. A
wrong password or email says so without telling which; a locked account says until when. On
success the screen dismisses with the signed-in Actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label

from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.accounts import Actor
    from tui.services import SignInDesk


class SignInAnswered(Message):
    """The password check finished: `actor` on success, else `error`."""

    def __init__(self, actor: Actor | None, error: PulseWatchError | None = None) -> None:
        super().__init__()
        self.actor = actor
        self.error = error


class LoginScreen(Screen["Actor"]):
    """Ask for email and password; dismiss with the Actor once they are right.

    Args:
        signin: checks the password (SignIn in production).
        clock: the console's clock (lockouts are measured from it).
    """

    HELP_SCOPE = "Sign in"
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical {
        width: 60; height: auto; padding: 1 2; border: tall $accent; background: $panel;
    }
    LoginScreen #login-title { text-style: bold; margin-bottom: 1; }
    LoginScreen Input { margin-bottom: 1; }
    LoginScreen #login-error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "app.quit", "Quit", show=False, priority=True, id="pw.login-quit"),
    ]

    def __init__(self, signin: SignInDesk, clock: Callable[[], datetime]) -> None:
        super().__init__(id="login")
        self._signin = signin
        self._clock = clock

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Sign in to PulseWatch", id="login-title")
            yield Input(placeholder="email", id="login-email")
            yield Input(placeholder="password", password=True, id="login-password")
            yield Label("", id="login-error", markup=False)
            yield Label("enter: sign in · ctrl+c: quit", id="login-hint")

    def on_mount(self) -> None:
        self.query_one("#login-email", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        email = self.query_one("#login-email", Input).value.strip()
        password = self.query_one("#login-password", Input).value
        if event.input.id == "login-email" and not password:
            self.query_one("#login-password", Input).focus()
            return
        if not email or not password:
            self._say("Type your email and your password.")
            return
        self._say("Checking…")
        self._authenticate(email, password, self._clock())

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign-in")
    def _authenticate(self, email: str, password: str, now: datetime) -> None:
        try:
            actor = self._signin.authenticate(email, password, now)
        except PulseWatchError as error:  # wrong password, locked out, disabled: the person's to fix
            self.post_message(SignInAnswered(None, error))
            return
        self.post_message(SignInAnswered(actor))

    def on_sign_in_answered(self, message: SignInAnswered) -> None:
        if message.actor is not None:
            self.dismiss(message.actor)
            return
        error = message.error
        self._say(f"{error.title}: {error.message}" if error else "Sign-in failed.")
        password = self.query_one("#login-password", Input)
        password.value = ""
        password.focus()

    def _say(self, text: str) -> None:
        self.query_one("#login-error", Label).update(text)

    @property
    def error_text(self) -> str:
        """What the screen says under the inputs (for tests and screen readers)."""
        return str(self.query_one("#login-error", Label).content)
