"""``gridgis users …``: accounts, their passwords and API tokens. Every change is written
to the audit log as the operating-system user who ran the command (``cli:NAME``).

Secrets are printed once and never again: only their hashes are stored."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from gridgis.gis.access.roles import ROLES

from .console import err, out

if TYPE_CHECKING:
    import sqlalchemy as sa

    from gridgis.gis.access.accounts import User

app = typer.Typer(help="Accounts: who signs in, with which roles and scope; passwords and "
                  "API tokens.", no_args_is_help=True)

RoleName = enum.Enum("RoleName", {name: name for name in ROLES}, type=str)  # type: ignore[misc]
NameArg = Annotated[str, typer.Argument(help="the user's sign-in name")]
ROLE_HELP = "a role (repeat for several)"
SCOPE_HELP = ("grid, community, subdistrict or district codes the user is limited to "
              "(repeat, or separate with commas); grid workers and patrol leaders need one")
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="read the password from the first line of stdin instead of "
    "generating one")]


def os_user() -> str:
    """The operating-system account running this process."""
    import os

    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid{os.geteuid()}" if hasattr(os, "geteuid") else "unknown"


def cli_actor() -> str:
    """Who the audit log names for a command: ``cli:`` and the OS user."""
    return f"cli:{os_user()}"


def _codes(values: list[str] | None) -> list[str] | None:
    """Codes given as repeated options, comma-separated, or both."""
    if values is None:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def _read_password() -> str:
    import sys

    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        from gridgis.gis.errors import InvalidInput

        raise InvalidInput("--password-stdin: stdin holds no password (give it on the first "
                           "line)", field="--password-stdin")
    return line


def _record(conn: sa.Connection, action: str, user: User, *, before: dict | None = None,
            after: dict | None = None, detail: str | None = None) -> None:
    from gridgis.gis.access import audit

    audit.record(conn, None, audit.Entry(action, "users", record_ids=[user.id], before=before,
                                         after=after, detail=detail),
                 user_name=cli_actor())


def _account(user: User) -> dict:
    """What the audit log keeps of an account (no hashes, no secrets)."""
    return {"name": user.name, "display_name": user.display_name, "roles": list(user.roles),
            "scope": list(user.scope), "disabled": user.disabled}


def _show_password(name: str, password: str) -> None:
    out.print(f"password for {escape(name)}: {password}", highlight=False)
    out.print("it is shown this once and not stored (only its hash is); "
              f"`gridgis users passwd {escape(name)}` sets a new one", highlight=False)


@app.command()
def add(
    name: NameArg,
    role: Annotated[list[RoleName], typer.Option(help=ROLE_HELP)],
    scope: Annotated[list[str] | None, typer.Option(help=SCOPE_HELP)] = None,
    display_name: Annotated[str | None, typer.Option(help="a name to show")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user.

    Without --password-stdin a random password is generated and printed once."""
    from gridgis.gis.access.accounts import add_user, generate_password
    from gridgis.gis.db import open_database

    generated = not password_stdin
    password = generate_password() if generated else _read_password()
    with open_database() as db, db.engine.begin() as conn:
        user = add_user(conn, name, [r.value for r in role], _codes(scope) or [],
                        password=password, display_name=display_name)
        _record(conn, "user_added", user, after=_account(user))
    out.print(f"added {escape(user.name)}: {', '.join(user.roles)}"
              + (f"; scope {', '.join(user.scope)}" if user.scope else "; whole district"),
              highlight=False)
    if generated:
        _show_password(user.name, password)


@app.command("list")
def list_users() -> None:
    """List the users: roles, scope, whether disabled or locked (no secrets)."""
    from datetime import UTC, datetime

    from rich.table import Table

    from gridgis.gis.access.accounts import list_users as all_users
    from gridgis.gis.db import open_database

    with open_database() as db, db.engine.connect() as conn:
        users = all_users(conn)
    now = datetime.now(UTC)
    table = Table("name", "display name", "roles", "scope", "disabled", "locked",
                  "created (UTC)")
    for u in users:
        locked = u.locked_until is not None and u.locked_until > now
        table.add_row(escape(u.name), escape(u.display_name or ""), ", ".join(u.roles),
                      escape(", ".join(u.scope)) or "whole district",
                      "yes" if u.disabled else "",
                      f"until {u.locked_until:%H:%M}" if locked else "",
                      f"{u.created_at:%Y-%m-%d %H:%M}")
    out.print(table)
    if not users:
        out.print("no users yet: `gridgis users add NAME --role admin`")


def _set_disabled(name: str, disabled: bool) -> None:
    from gridgis.gis.access.accounts import get_user, set_disabled
    from gridgis.gis.db import open_database

    with open_database() as db, db.engine.begin() as conn:
        before = get_user(conn, name)
        set_disabled(conn, name, disabled)
        after = get_user(conn, name)
        _record(conn, "user_disabled" if disabled else "user_enabled", after,
                before={"disabled": before.disabled}, after={"disabled": after.disabled})


@app.command()
def disable(name: NameArg) -> None:
    """Disable a user: they cannot sign in, and their sessions and tokens stop working."""
    _set_disabled(name, True)
    out.print(f"disabled {escape(name)}; their sessions and tokens are revoked",
              highlight=False)


@app.command()
def enable(name: NameArg) -> None:
    """Enable a disabled user again (their old tokens stay revoked)."""
    _set_disabled(name, False)
    out.print(f"enabled {escape(name)}", highlight=False)


@app.command()
def passwd(name: NameArg, password_stdin: PasswordStdin = False) -> None:
    """Set a new password.

    A random one is printed once, unless --password-stdin. The user's browser sessions
    end, and a lock after wrong passwords is lifted."""
    from gridgis.gis.access.accounts import generate_password, get_user, set_password
    from gridgis.gis.db import open_database

    generated = not password_stdin
    password = generate_password() if generated else _read_password()
    with open_database() as db, db.engine.begin() as conn:
        set_password(conn, name, password)
        _record(conn, "password_set", get_user(conn, name),
                detail="random password" if generated else "password from stdin")
    out.print(f"new password set for {escape(name)}; their browser sessions ended",
              highlight=False)
    if generated:
        _show_password(name, password)


@app.command("set")
def set_(
    name: NameArg,
    role: Annotated[list[RoleName] | None, typer.Option(
        help="the user's roles, replacing theirs (repeat for several)")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        help=SCOPE_HELP + "; replaces theirs, --scope '' clears it")] = None,
) -> None:
    """Change a user's roles or scope."""
    from gridgis.gis.access.accounts import get_user, update_user
    from gridgis.gis.db import open_database
    from gridgis.gis.errors import InvalidInput

    if role is None and scope is None:
        raise InvalidInput("nothing to change: give --role or --scope", field="--role")
    with open_database() as db, db.engine.begin() as conn:
        before = get_user(conn, name)
        user = update_user(conn, name, roles=None if role is None else [r.value for r in role],
                           scope=_codes(scope))
        _record(conn, "user_changed", user, before=_account(before), after=_account(user))
    out.print(f"{escape(user.name)}: {', '.join(user.roles)}"
              + (f"; scope {', '.join(user.scope)}" if user.scope else "; whole district"),
              highlight=False)


@app.command()
def token(
    name: NameArg,
    days: Annotated[int, typer.Option(help="days until the new token expires")] = 90,
    label: Annotated[str | None, typer.Option(help="what the new token is for")] = None,
    list_: Annotated[bool, typer.Option("--list", help="list the user's tokens")] = False,
    revoke: Annotated[int | None, typer.Option(help="revoke the token with this id")] = None,
) -> None:
    """Create an API token, list the user's tokens (--list) or revoke one (--revoke ID).

    A new token is printed once, alone on stdout (TOKEN=$(gridgis users token NAME));
    clients send it as 'Authorization: Bearer TOKEN'."""
    from gridgis.gis.access.accounts import create_token, get_user, list_tokens, revoke_token
    from gridgis.gis.db import open_database
    from gridgis.gis.errors import InvalidInput

    if list_ and revoke is not None:
        raise InvalidInput("give --list or --revoke ID, not both", field="--revoke")
    if list_:
        with open_database() as db, db.engine.connect() as conn:
            tokens = list_tokens(conn, name)
        _print_tokens(name, tokens)
        return
    with open_database() as db, db.engine.begin() as conn:
        user = get_user(conn, name)
        if revoke is not None:
            revoke_token(conn, name, revoke)
            _record(conn, "token_revoked", user, detail=f"token {revoke}")
        else:
            token_id, secret = create_token(conn, name, label=label, days=days)
            _record(conn, "token_created", user,
                    detail=f"token {token_id}, {days} days"
                    + (f", label {label!r}" if label else ""))
    if revoke is not None:
        out.print(f"revoked token {revoke} of {escape(name)}", highlight=False)
        return
    # The token alone on stdout, so that scripts can capture it; what it is, on stderr.
    err.print(f"token {token_id} for {escape(name)}, valid {days} days; shown this once "
              "(only its hash is stored). Send it as `Authorization: Bearer TOKEN`.",
              highlight=False)
    print(secret)


def _print_tokens(name: str, tokens: list[dict]) -> None:
    from rich.table import Table

    def when(value) -> str:
        return "" if value is None else f"{value:%Y-%m-%d %H:%M}"

    table = Table("id", "label", "created (UTC)", "expires (UTC)", "last used (UTC)",
                  "valid")
    for t in tokens:
        state = "yes" if t["valid"] else ("revoked" if t["revoked_at"] else "expired")
        table.add_row(str(t["id"]), escape(t["label"] or ""), when(t["created_at"]),
                      when(t["expires_at"]), when(t["last_used_at"]), state)
    out.print(table)
    if not tokens:
        out.print(f"{escape(name)} has no tokens: `gridgis users token {escape(name)}` "
                  "creates one", highlight=False)
