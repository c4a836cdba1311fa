"""Loading the Bybit API key and secret, the Docker-secrets way, for the bot and the simulator.

Order: ``/run/secrets/bybit_api_key`` (and ``..._secret``), else the files named by
``BYBIT_API_KEY_FILE`` / ``BYBIT_API_SECRET_FILE``, else (with a loud warning, for local use only)
the plain env vars ``BYBIT_API_KEY`` / ``BYBIT_API_SECRET``. Values are wrapped in
:class:`Secret`, whose ``repr``/``str`` never show the value, so they cannot leak through logs,
exceptions or f-strings by accident.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex  # stdlib (absolute import), not this module

from bot.common.redact import register_secret

logger = logging.getLogger(__name__)

SECRETS_DIR = Path("/run/secrets")


class SecretError(Exception):
    """A secret is missing or unreadable; the message names the source, never the value."""


class Secret:
    """A string that refuses to print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        # Every loaded secret is masked by value in all redacted output (bot.common.redact).
        register_secret(value)

    def reveal(self) -> str:
        """The value, for signing only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: Secret
    api_secret: Secret
    source: str  # where they came from: "/run/secrets", "files", "env"


def _read(path: Path) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"cannot read secret file {path}: {exc.strerror}") from None
    if not value:
        raise SecretError(f"secret file {path} is empty")
    return value


def _one(name: str, env: dict[str, str] | os._Environ[str]) -> tuple[str, str] | None:
    docker = SECRETS_DIR / f"bybit_api_{name}"
    if docker.is_file():
        return _read(docker), str(SECRETS_DIR)
    file_var = f"BYBIT_API_{name.upper()}_FILE"
    if env.get(file_var):
        return _read(Path(env[file_var])), "files"
    plain = env.get(f"BYBIT_API_{name.upper()}")
    if plain:
        logger.warning(
            "BYBIT_API_%s is set as a plain environment variable: use %s or /run/secrets instead",
            name.upper(),
            file_var,
        )
        return plain, "env"
    return None


def load_credentials(env: dict[str, str] | None = None) -> Credentials | None:
    """Credentials from the sources above, or ``None`` when none is configured at all."""
    environ = os.environ if env is None else env
    key = _one("key", environ)
    secret = _one("secret", environ)
    if key is None and secret is None:
        return None
    if key is None or secret is None:
        missing = "key" if key is None else "secret"
        raise SecretError(
            f"bybit API {missing} not found: put it in /run/secrets/bybit_api_{missing} "
            f"or name a file with BYBIT_API_{missing.upper()}_FILE"
        )
    return Credentials(Secret(key[0]), Secret(secret[0]), source=key[1])


# --- a credentials directory shared by the simulator and the bot of one soak run ------------

CREDENTIALS_DIR_ENV = "MMBOT_CREDENTIALS_DIR"
KEY_FILE_NAME = "bybit_api_key"
SECRET_FILE_NAME = "bybit_api_secret"  # noqa: S105 (a file name, not a secret)


def load_credentials_dir(directory: Path) -> Credentials:
    """Credentials from ``DIR/bybit_api_key`` and ``DIR/bybit_api_secret`` (the run's own)."""
    return Credentials(
        Secret(_read(directory / KEY_FILE_NAME)),
        Secret(_read(directory / SECRET_FILE_NAME)),
        source="dir",
    )


def ensure_credentials_dir(directory: Path) -> Credentials:
    """Load the run's credentials from ``directory``, creating random ones (0600) if absent.

    The simulator calls this before writing its ready file, so a bot started afterwards with
    the same directory finds the same pair. Files are created with ``O_EXCL`` and mode 0600
    from the start (never world-readable, not even briefly).
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, value in (
        (KEY_FILE_NAME, token_hex(9)),
        (SECRET_FILE_NAME, token_hex(18)),
    ):
        path = directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
    return load_credentials_dir(directory)
