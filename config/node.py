"""Node configuration: what one node's operator chooses (paths, addresses, limits, secrets).

A TOML file with one section per concern, then ``FEDOW_<SECTION>_<KEY>``
environment variables on top (what containers and systemd units set). Every
field has a default, a type and a check; an unknown section, key or variable
is an error too, since a typo silently ignored is a setting silently lost.
Relative paths are relative to the config file's folder. Secrets are
:class:`Secret` values, which never show in ``repr`` or logs.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from config.addresses import bind_problem, listen_problem, optional_bind_problem, optional_url_problem, peers_problem
from config.errors import ConfigError, Problem, raise_if_any

ENV_PREFIX = "FEDOW_"

Check = Callable[[Any], "str | None"]
"""A field check returns the reason a (well-typed) value is refused, or None."""


class Secret:
    """A string that prints as ``Secret(set)`` / ``Secret(unset)``; :meth:`reveal` gives it.

    Deliberately not a dataclass, so that :func:`dataclasses.asdict` of a
    configuration keeps it wrapped instead of spilling the value into a log.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret(set)" if self._value else "Secret(unset)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def reveal(self) -> str:
        return self._value


def _setting(default: Any, check: Check | None = None) -> Any:
    return field(default=default, metadata={"check": check})


def _positive(value: int) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else f"must be 0 or more, got {value}"


def _one_of(*allowed: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"
    return check


def _connect_account(value: str) -> str | None:
    if value and not re.fullmatch(r"acct_[A-Za-z0-9]{1,64}", value):
        return "must be empty or a Stripe Connect account id (acct_...)"
    return None


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Paris)"
    return None


def _name(value: str) -> str | None:
    if not 1 <= len(value) <= 64 or not value.isprintable():
        return "must be 1 to 64 printable characters"
    return None


@dataclass(frozen=True)
class NodeSection:
    """``[node]``: where the node keeps its data and finds the genesis."""

    data_dir: Path = _setting(Path("data"))
    genesis: Path = _setting(Path("genesis.json"))
    """The chain's genesis document, the same file on every node."""
    moniker: str = _setting("fedow-node", _name)


@dataclass(frozen=True)
class KeysSection:
    """``[keys]``: key files and whether this node validates."""

    node_key: Path = _setting(Path("node.key"))
    """Validator key and libp2p identity (hex seed file, mode 0600)."""
    place_key: Path | None = _setting(None)
    """Optional venue key the node signs POS requests with."""
    treasury_key: Path | None = _setting(None)
    """Optional treasury key: the node co-signs FED mints and burns after verifying them at Stripe
    itself (then ``[stripe] secret_key`` is needed)."""
    validator: bool = _setting(False)


@dataclass(frozen=True)
class P2PSection:
    """``[p2p]``: libp2p listen address, bootstrap peers, message limit."""

    listen: str = _setting("/ip4/127.0.0.1/tcp/26656", listen_problem)
    peers: tuple[str, ...] = _setting((), peers_problem)
    max_message_bytes: int = _setting(4 * 1024 * 1024, _positive)
    isolate_file: Path | None = _setting(None)
    """Tests only: while this file exists the node holds no libp2p connection at all (a network
    partition on one box, for the offline tests and benchmarks). None: never."""


@dataclass(frozen=True)
class ApiSection:
    """``[api]``: the POS HTTP API."""

    bind: str = _setting("127.0.0.1:8442", bind_problem)
    max_body_bytes: int = _setting(64 * 1024, _positive)
    public_reads: bool = _setting(False)
    """True: card and wallet balances, histories, listings, totals and reader events need no token."""
    tls_cert: Path | None = _setting(None)
    """PEM certificate (chain) for HTTPS on ``bind``; with ``tls_key``. None: plain HTTP."""
    tls_key: Path | None = _setting(None)
    """PEM private key of ``tls_cert`` (mode 0600 advised)."""
    timezone: str = _setting("UTC", _timezone)
    """IANA zone of the venue's days and hours (daily totals, the dashboard), e.g. Europe/Paris."""

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("bad_config", [Problem(
                "api.tls_cert" if self.tls_cert is None else "api.tls_key",
                "HTTPS needs both api.tls_cert and api.tls_key (or neither, for plain HTTP)")])


@dataclass(frozen=True)
class MetricsSection:
    """``[metrics]``: the Prometheus endpoint."""

    bind: str = _setting("127.0.0.1:9442", optional_bind_problem)
    """Prometheus endpoint; empty disables it."""


@dataclass(frozen=True)
class LogSection:
    """``[log]``: structlog renderer and level."""

    format: str = _setting("auto", _one_of("auto", "json", "console"))
    level: str = _setting("info", _one_of("debug", "info", "warning", "error", "critical"))


@dataclass(frozen=True)
class MempoolSection:
    """``[mempool]``: bounds of the pending-transaction pool."""

    max_txs: int = _setting(10_000, _positive)
    max_bytes: int = _setting(32 * 1024 * 1024, _positive)


READER_INTERVAL_RANGE_MS = (10, 60_000)
"""Bounds of ``[reader]`` poll_interval_ms and max_backoff_ms (those of ``hardware.ReaderConfig``)."""


def _reader_interval(value: int) -> str | None:
    low, high = READER_INTERVAL_RANGE_MS
    return None if low <= value <= high else f"must be between {low} and {high} ms, got {value}"


@dataclass(frozen=True)
class ReaderSection:
    """``[reader]``: the PC/SC NFC card readers the node watches (``hardware.ReaderService``)."""

    enabled: bool = _setting(False)
    name_filter: str = _setting("")
    """Watch the readers whose name contains this text, case ignored (empty: every reader)."""
    poll_interval_ms: int = _setting(250, _reader_interval)
    """Longest single wait on pcscd (a stop is noticed within it) and first reconnection delay."""
    max_backoff_ms: int = _setting(5_000, _reader_interval)
    """Cap of the doubling delay between reconnections while pcscd is unreachable."""

    def __post_init__(self) -> None:
        # The one rule across two fields; each field alone was checked by its own check.
        if self.max_backoff_ms < self.poll_interval_ms:
            raise ConfigError("bad_config", [Problem(
                "reader.max_backoff_ms", f"must not be below reader.poll_interval_ms ({self.poll_interval_ms}), "
                                         f"got {self.max_backoff_ms}")])


@dataclass(frozen=True)
class StripeSection:
    """``[stripe]``: the Stripe bridge for euro refills."""

    secret_key: Secret = _setting(Secret())
    webhook_secret: Secret = _setting(Secret())
    api_base: str = _setting("", optional_url_problem)
    """Empty: Stripe's own API; a URL: a local stub (tests, devnets)."""
    success_url: str = _setting("", optional_url_problem)
    cancel_url: str = _setting("", optional_url_problem)
    payout_account: str = _setting("", _connect_account)
    """The place's Stripe Connect account (``acct_...``) that payouts go to; empty: no payouts."""


@dataclass(frozen=True)
class OfflineSection:
    """``[offline]``: the node's tills keep selling while it is cut off from the network, within the
    risk the venue chose (docs/offline.md). Amounts in FED cents; the total is also capped by the
    place's offline bond on chain."""

    enabled: bool = _setting(False)
    stalled_after_ms: int = _setting(180_000, _positive)
    """Offline when no new height came for this long (the chain makes one at least every
    ``heartbeat_ms``)."""
    no_quorum_after_ms: int = _setting(3_000, _not_negative)
    """Offline when the peers have held less than 2/3 of the voting power for this long (a grace for
    a connection being replaced or a peer restarting: 0 cuts off at the first observation)."""
    max_sale: int = _setting(5_000, _positive)
    """Largest single offline sale."""
    max_per_card: int = _setting(10_000, _positive)
    """Most this venue sells offline to one card (its paying wallet) until those sales are on chain."""
    max_exposure: int = _setting(200_000, _positive)
    """Most this venue sells offline in all until those sales are on chain (also at most its bond)."""


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
    offline: OfflineSection = field(default_factory=OfflineSection)


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
        shown = type(value).__name__ if kind is Secret else repr(value)  # never echo a secret
        raise ValueError(f"must be a string, got {shown}")
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
