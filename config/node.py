"""Node configuration: what one node's operator chooses (paths, addresses, limits, secrets).

A TOML file with one section per concern, then ``FEDOW_<SECTION>_<KEY>``
environment variables on top (what containers and systemd units set). Every
field has a default, a type and a check; an unknown section, key or variable
is an error too, since a typo silently ignored is a setting silently lost.
Relative paths are relative to the config file's folder. Secrets are
:class:`Secret` values, which never show in ``repr`` or logs.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping, get_type_hints

import tomli_w

from config.errors import ConfigError, Problem, raise_if_any

ENV_PREFIX = "FEDOW_"

Check = Callable[[Any], "str | None"]
"""A field check returns the reason a (well-typed) value is refused, or None."""


@dataclass(frozen=True)
class Secret:
    """A string that prints as ``Secret(set)`` / ``Secret(unset)``; :meth:`reveal` gives it."""

    value: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return "Secret(set)" if self.value else "Secret(unset)"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self.value)

    def reveal(self) -> str:
        return self.value


def _setting(default: Any, check: Check | None = None) -> Any:
    return field(default=default, metadata={"check": check})


def _positive(value: int) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


def _one_of(*allowed: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"
    return check


def _name(value: str) -> str | None:
    if not 1 <= len(value) <= 64 or not value.isprintable():
        return "must be 1 to 64 printable characters"
    return None


_HOSTNAME_RE = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_MULTIADDR_RE = re.compile(r"/(ip4|ip6|dns|dns4|dns6)/([^/]+)/tcp/([0-9]{1,5})(?:/p2p/([^/]+))?")
_BASE58_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,128}")


def _host_problem(kind: str, host: str) -> str | None:
    try:
        if kind == "ip4":
            ipaddress.IPv4Address(host)
        elif kind == "ip6":
            ipaddress.IPv6Address(host)
        elif not _HOSTNAME_RE.fullmatch(host):
            return f"{host!r} is not a host name"
    except ValueError:
        return f"{host!r} is not an {kind} address"
    return None


def _port_problem(port: str, lowest: int) -> str | None:
    return None if lowest <= int(port) <= 65535 else f"port {port} is outside {lowest}-65535"


def _multiaddr_problem(text: str, peer: bool) -> str | None:
    match = _MULTIADDR_RE.fullmatch(text)
    form = "/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>" + ("/p2p/<peer id>" if peer else "")
    if match is None or bool(match.group(4)) != peer:
        return f"{text!r} is not a multiaddr of the form {form}"
    kind, host, port, peer_id = match.groups()
    if peer_id is not None and not _BASE58_RE.fullmatch(peer_id):
        return f"{peer_id!r} is not a base58 libp2p peer id"
    return _host_problem(kind, host) or _port_problem(port, 1 if peer else 0)


def _listen(value: str) -> str | None:
    return _multiaddr_problem(value, peer=False)


def _peers(value: tuple[str, ...]) -> str | None:
    return next(filter(None, (_multiaddr_problem(peer, peer=True) for peer in value)), None)


def _bind(value: str) -> str | None:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        return f"{value!r} is not of the form host:port"
    if host.startswith("[") and host.endswith("]"):
        return _host_problem("ip6", host[1:-1]) or _port_problem(port, 1)
    kind = "ip4" if host.replace(".", "").isdigit() else "dns"
    return _host_problem(kind, host) or _port_problem(port, 1)


def _optional_bind(value: str) -> str | None:
    return _bind(value) if value else None


def _optional_url(value: str) -> str | None:
    if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        return f"{value!r} is not an http(s) URL"
    return None


@dataclass(frozen=True)
class NodeSection:
    data_dir: Path = _setting(Path("data"))
    genesis: Path = _setting(Path("genesis.json"))
    """The chain's genesis document, the same file on every node."""
    moniker: str = _setting("fedow-node", _name)


@dataclass(frozen=True)
class KeysSection:
    node_key: Path = _setting(Path("node.key"))
    """Validator key and libp2p identity (hex seed file, mode 0600)."""
    place_key: Path | None = _setting(None)
    """Optional venue key the node signs POS requests with."""
    validator: bool = _setting(False)


@dataclass(frozen=True)
class P2PSection:
    listen: str = _setting("/ip4/127.0.0.1/tcp/26656", _listen)
    peers: tuple[str, ...] = _setting((), _peers)
    max_message_bytes: int = _setting(4 * 1024 * 1024, _positive)


@dataclass(frozen=True)
class ApiSection:
    bind: str = _setting("127.0.0.1:8442", _bind)
    max_body_bytes: int = _setting(64 * 1024, _positive)


@dataclass(frozen=True)
class MetricsSection:
    bind: str = _setting("127.0.0.1:9442", _optional_bind)
    """Prometheus endpoint; empty disables it."""


@dataclass(frozen=True)
class LogSection:
    format: str = _setting("auto", _one_of("auto", "json", "console"))
    level: str = _setting("info", _one_of("debug", "info", "warning", "error", "critical"))


@dataclass(frozen=True)
class MempoolSection:
    max_txs: int = _setting(10_000, _positive)
    max_bytes: int = _setting(32 * 1024 * 1024, _positive)


@dataclass(frozen=True)
class ReaderSection:
    enabled: bool = _setting(False)
    name_filter: str = _setting("")
    """Use the first PC/SC reader whose name contains this text (empty: the first reader)."""


@dataclass(frozen=True)
class StripeSection:
    secret_key: Secret = _setting(Secret())
    webhook_secret: Secret = _setting(Secret())
    api_base: str = _setting("", _optional_url)
    """Empty: Stripe's own API; a URL: a local stub (tests, devnets)."""
    success_url: str = _setting("", _optional_url)
    cancel_url: str = _setting("", _optional_url)


@dataclass(frozen=True)
class NodeConfig:
    """The whole node configuration; each attribute is a TOML section of the same name."""

    node: NodeSection = field(default_factory=NodeSection)
    keys: KeysSection = field(default_factory=KeysSection)
    p2p: P2PSection = field(default_factory=P2PSection)
    api: ApiSection = field(default_factory=ApiSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    log: LogSection = field(default_factory=LogSection)
    mempool: MempoolSection = field(default_factory=MempoolSection)
    reader: ReaderSection = field(default_factory=ReaderSection)
    stripe: StripeSection = field(default_factory=StripeSection)


def _sections() -> dict[str, type]:
    return {f.name: f.default_factory for f in fields(NodeConfig)}  # type: ignore[misc]


@dataclass(frozen=True)
class _Raw:
    """A value as read (TOML-typed) and where it came from, for error messages."""

    value: Any
    source: str


def load_node_config(path: Path | str | None, env: Mapping[str, str] = os.environ) -> NodeConfig:
    """Read ``path`` (None: defaults only), apply ``FEDOW_*`` overrides from ``env``, validate.

    Raises :class:`~config.errors.ConfigError` (``bad_config``) listing every
    problem, each naming the file or variable, the field and the reason.
    """
    if path is None:
        return parse_node_config("", base=Path.cwd(), env=env)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("bad_config", [Problem(str(path), f"cannot read the configuration: {exc}")]) from None
    return parse_node_config(text, base=path.absolute().parent, env=env, source=str(path))


def parse_node_config(text: str, *, base: Path, env: Mapping[str, str] = os.environ,
                      source: str = "config") -> NodeConfig:
    """:func:`load_node_config` for TOML ``text``; relative paths are resolved against ``base``."""
    problems: list[Problem] = []
    raw: dict[str, dict[str, _Raw]] = {name: {} for name in _sections()}
    _read_toml(text, source, raw, problems)
    _read_env(env, raw, problems)
    config = NodeConfig(**{name: _build_section(name, cls, raw[name], base, problems)
                           for name, cls in _sections().items()})
    raise_if_any("bad_config", problems)
    return config


def _read_toml(text: str, source: str, raw: dict[str, dict[str, _Raw]], problems: list[Problem]) -> None:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(source, f"not valid TOML: {exc}"))
        return
    for section, table in document.items():
        if section not in raw:
            problems.append(Problem(f"{source}: [{section}]", f"unknown section (known: {', '.join(raw)})"))
        elif not isinstance(table, dict):
            problems.append(Problem(f"{source}: {section}", "must be a [section] table"))
        else:
            raw[section].update({key: _Raw(value, source) for key, value in table.items()})


def _read_env(env: Mapping[str, str], raw: dict[str, dict[str, _Raw]], problems: list[Problem]) -> None:
    hints = {name: get_type_hints(cls) for name, cls in _sections().items()}
    for variable in sorted(name for name in env if name.startswith(ENV_PREFIX)):
        section, _, key = variable[len(ENV_PREFIX):].lower().partition("_")
        if key not in hints.get(section, {}):
            problems.append(Problem(variable, "unknown setting: FEDOW_<SECTION>_<KEY> must name a "
                                              "key of docs/configuration.md"))
            continue
        try:
            value = _from_env_text(env[variable], hints[section][key])
        except ValueError as exc:
            problems.append(Problem(f"{variable}: {section}.{key}", str(exc)))
            continue
        raw[section][key] = _Raw(value, variable)


def _from_env_text(text: str, kind: Any) -> Any:
    """Turn an environment string into the TOML value it stands for."""
    if kind is int:
        if not re.fullmatch(r"-?[0-9]+", text.strip()):
            raise ValueError(f"{text!r} is not an integer")
        return int(text)
    if kind is bool:
        flags = {"true": True, "1": True, "false": False, "0": False}
        if (flag := flags.get(text.strip().lower())) is None:
            raise ValueError(f"{text!r} is not a boolean (true, false, 1 or 0)")
        return flag
    if kind == tuple[str, ...]:
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def _build_section(name: str, cls: type, raw: dict[str, _Raw], base: Path,
                   problems: list[Problem]) -> Any:
    hints = get_type_hints(cls)
    for key in sorted(set(raw) - set(hints)):
        problems.append(Problem(f"{raw[key].source}: {name}.{key}", "unknown key"))
    values = {}
    for spec in fields(cls):
        if spec.name not in raw:
            if isinstance(spec.default, Path):
                values[spec.name] = base / spec.default
            continue
        entry = raw[spec.name]
        where = f"{entry.source}: {name}.{spec.name}"
        try:
            value = _typed(entry.value, hints[spec.name], base)
        except ValueError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        check: Check | None = spec.metadata["check"]
        reason = check(value) if check is not None and value is not None else None
        if reason:
            problems.append(Problem(where, reason))
        else:
            values[spec.name] = value
    return cls(**values)


def _typed(value: Any, kind: Any, base: Path) -> Any:
    """Check a TOML value against the field type and convert it (paths resolved against ``base``)."""
    if kind is bool or kind is int:
        if type(value) is not kind:
            raise ValueError(f"must be {'true or false' if kind is bool else 'an integer'}, got {value!r}")
        return value
    if kind == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"must be a list of strings, got {value!r}")
        return tuple(value)
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    if kind is Secret:
        return Secret(value)
    if kind is Path or kind == (Path | None):
        if not value:
            if kind is Path:
                raise ValueError("must be a path, got an empty string")
            return None
        return base / value
    return value


def dump_node_config(config: NodeConfig) -> str:
    """TOML text of ``config`` (secrets revealed: this is the file the operator keeps, mode 0600)."""
    def plain(value: Any) -> Any:
        if isinstance(value, Secret):
            return value.reveal()
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, tuple):
            return list(value)
        return "" if value is None else value

    document = {section: {spec.name: plain(getattr(getattr(config, section), spec.name))
                          for spec in fields(getattr(config, section))}
                for section in _sections()}
    return "# fedow-node configuration: every key is described in docs/configuration.md\n" + tomli_w.dumps(document)
