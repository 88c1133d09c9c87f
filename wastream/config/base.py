"""What every option group shares: the base class, reading one from an environment
mapping, and turning a bad value into one line that names the variable.

A group is a frozen pydantic-settings model whose fields each carry their environment
variable (``alias``), a default, constraints and a one-line ``description``; the
description, the default and :func:`accepts` are what ``wastream config --markdown``
prints, so the README cannot say something the code does not do.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, Union, get_args, get_origin

import annotated_types as at
from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)


class ConfigError(ValueError):
    """A setting is malformed; the message has one line per bad variable, each naming it."""


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source over an explicit mapping, so that tests
    (and subprocess harnesses) pass their env dicts instead of patching the process's."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping = env
        super().__init__(settings_cls, case_sensitive=True, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # An empty value means "unset", as it did when every reader wrote `env.get(x) or d`.
        return {k: v for k, v in self._mapping.items() if v != ""}


class Group(BaseSettings):
    """An option group: one per service or concern (``section`` names it in
    ``wastream config``; ``title`` heads its README table).

    Build one with :meth:`from_env`; a component's own group is read through
    ``Settings.group(cls)`` (see ``wastream.config.components``)."""

    model_config = SettingsConfigDict(
        case_sensitive=True, frozen=True, extra="ignore", validate_by_name=True,
        validate_by_alias=True)

    section: ClassVar[str]
    title: ClassVar[str]

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # ``Group(...)`` takes only its arguments: the process environment is read in one
        # place, ``Settings.from_env``, never behind a constructor's back.
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """The group's values from ``env`` (variables it does not name are ignored).
        Raises :class:`ConfigError` naming each bad variable."""
        try:
            return cls.model_validate(_MappingSource(cls, env)())
        except ValidationError as exc:
            raise ConfigError("\n".join(problems(cls, exc, env))) from None
        except SettingsError as exc:  # a value pydantic-settings could not even decode
            raise ConfigError(f"[{cls.section}] {exc}") from None

    @classmethod
    def env_fields(cls) -> Iterator[tuple[str, str, FieldInfo]]:
        """(variable, attribute, field) of every setting, in declaration order."""
        for name, info in cls.model_fields.items():
            yield env_name(name, info), name, info


def env_name(name: str, info: FieldInfo) -> str:
    return info.alias or name


def problems(cls: type[Group], exc: ValidationError, env: Mapping[str, str]) -> list[str]:
    """One line per bad variable: ``NAME: must be <what it accepts>, got '<raw>'``."""
    by_var = {var: info for var, _, info in cls.env_fields()}
    lines: dict[str, str] = {}
    for err in exc.errors():
        var = str(err["loc"][0]) if err["loc"] else ""
        info = by_var.get(var)
        if info is None:  # not a field's error (none today): say what pydantic said
            lines.setdefault(var, f"[{cls.section}] {err['msg']}")
            continue
        lines.setdefault(var, f"{var}: must be {accepts(info)}, got {env.get(var, '')!r}")
    return list(lines.values())


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


_KINDS: dict[Any, str] = {
    int: "an integer", float: "a number", bool: "a boolean (1/0, true/false)",
    str: "a string", SecretStr: "a string", Path: "a path",
}


def accepts(info: FieldInfo) -> str:
    """What a variable accepts, in words: ``an integer >= 1``, ``one of wait, buffered``;
    a field may say it itself (``json_schema_extra={"accepts": ...}``)."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "accepts" in extra:
        return str(extra["accepts"])
    annotation = _unwrap_optional(info.annotation)
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    kind = _KINDS.get(annotation, "a value")
    lo = hi = ""
    for m in info.metadata:
        if isinstance(m, at.Ge):
            lo = f">= {m.ge}"
        elif isinstance(m, at.Gt):
            lo = f"> {m.gt}"
        elif isinstance(m, at.Le):
            hi = f"<= {m.le}"
        elif isinstance(m, at.Lt):
            hi = f"< {m.lt}"
    if lo.startswith(">=") and hi.startswith("<="):
        return f"{kind} from {lo[3:]} to {hi[3:]}"
    return " ".join(p for p in (kind, lo, hi) if p)


def shown_default(info: FieldInfo) -> str:
    """The default as the README shows it, in Markdown (a field may say it in words:
    ``shown_default``)."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    value = as_env(info.default)
    return f"`{value}`" if value else "unset"


def as_env(value: Any) -> str:
    """A value written the way its variable is set."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list | frozenset):
        return ",".join(as_env(v) for v in value)
    return str(value)


def doc(accepts: str | None = None, shown_default: str | None = None) -> dict[str, Any]:
    """``json_schema_extra`` for a field whose accepted values or default need words."""
    out: dict[str, Any] = {}
    if accepts is not None:
        out["accepts"] = accepts
    if shown_default is not None:
        out["shown_default"] = shown_default
    return out
