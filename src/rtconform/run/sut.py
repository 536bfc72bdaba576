"""The system under test, described once in a YAML file:

    name: Vendor TPS 12.1
    actors: [Contourer, Geometric Planner]   # TRO actors it plays
    network:                                  # a DICOM node …
      ae_title: VENDOR
      host: 127.0.0.1
      port: 104
    # export_dir: /data/export               # … or a folder a file exporter wrote
    trigger: ./push-to.sh $RTCONFORM_ARCHIVE_HOST   # shell command run when the SUT must act
    interactive: false                        # or ask an operator, as at a connectathon
    timeout: 120                              # seconds to wait for the SUT to act
    harness:
      archive_ae: RTCONFORM                   # the harness Archive's AE title
      archive_port: 0                         # 0: a free port (tell your SUT the port)
    profile: tppc                             # the content profile its scenarios and objects
    beam_types: [vmat, static-electron]       # are judged by (default brto); for tppc, the
                                              # beam types it plans or takes (default all 14)
    tls:                                      # DICOM TLS with the SUT (optional)
      cert: harness.pem                       # the harness's certificate and key …
      key: harness.key
      ca: ca.pem                              # … and the CA that signed the SUT's

With no file, the harness's reference actors play every actor: the embedded
default, which must pass every scenario.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rtconform.actors.node import Peer
from rtconform.actors.registry import ACTORS, actor_of
from rtconform.actors.tls import TLSConfig, TLSError
from rtconform.ihe.tro import TRANSACTIONS
from rtconform.yaml_config import ConfigError, load_checked


class SutError(ValueError):
    """A SUT file that cannot be used, with where and why."""


@dataclass
class SutConfig:
    name: str = "rtconform reference actors (embedded default)"
    actors: tuple[str, ...] = ACTORS
    peer: Peer | None = None
    export_dir: Path | None = None
    trigger: str | None = None
    interactive: bool = False
    timeout: float = 120.0
    harness_ae: str = "RTCONFORM"  # every association the harness opens calls from it
    harness_port: int = 0
    receive_ae: str = "HARNESS"  # the harness's C-MOVE destination, known to a SUT Archive
    receive_port: int = 0
    statement: Path | None = None  # the SUT's conformance statement, for the table scenarios
    embedded: bool = True
    # embedded default only: make a reference actor misbehave, to see failures
    fault: str | None = None  # the reference producers emit this synthetic-patient fault
    archive_drops: str | None = None  # the reference Archive drops this attribute
    idle: tuple[str, ...] = ()  # transactions the reference actor silently does not perform
    lenient: bool = False  # the reference Contourer accepts a structure set without images
    tls: TLSConfig | None = None  # every association with the SUT over DICOM TLS
    parallel: int = 1  # scenarios at once against this SUT (its data are disjoint)
    profile: str | None = None  # the content profile of its run (rtconform run --profile)
    beam_types: tuple[str, ...] = ()  # the TPPC beam types it declares (empty: all)
    driver: dict | None = None  # a real tool driven by rtconform.suts (its trigger)

    def plays(self, actor: str) -> bool:
        return actor in self.actors

    @property
    def exports_files(self) -> bool:
        """A file-based exporter: what it 'sends' is the export folder."""
        return self.export_dir is not None and self.peer is None


def sut_schema() -> dict:
    return json.loads(resources.files("rtconform.run").joinpath("sut.schema.json").read_text())


def load_sut(path: Path) -> SutConfig:
    """The SUT file, checked against its schema (nested keys, types, ranges)
    before anything is built from it: every mistake located as file:line."""
    try:
        data = load_checked(Path(path), sut_schema())
    except ConfigError as exc:
        raise SutError(str(exc)) from exc
    actors = _actors(path, data.get("actors"))
    peer = _peer(path, data.get("network"), "network" in data)
    driver = data.get("driver")
    if driver and not data.get("trigger"):
        data["trigger"] = _driver_trigger(path, driver["tool"], peer is not None)
    _check_reachable_somehow(path, data, peer)
    harness = data.get("harness") or {}
    config = SutConfig(
        name=str(data.get("name") or path), actors=actors,
        peer=peer, export_dir=Path(data["export_dir"]) if data.get("export_dir") else None,
        trigger=data.get("trigger"), interactive=bool(data.get("interactive", False)),
        timeout=float(data.get("timeout", 120)),
        harness_ae=str(harness.get("archive_ae", "RTCONFORM")),
        harness_port=int(harness.get("archive_port", 0)),
        receive_ae=str(harness.get("receive_ae", "HARNESS")),
        receive_port=int(harness.get("receive_port", 0)),
        statement=_statement(path, data.get("statement")),
        embedded=data.get("embedded") is not None,
        tls=_tls(path, data.get("tls")), parallel=int(data.get("parallel", 1)),
        profile=data.get("profile"),
        beam_types=tuple(str(t) for t in data.get("beam_types") or ()), driver=driver)
    _check_profile(path, config)
    if config.embedded:
        _misbehaviour(path, config, data["embedded"] or {})
    return config


def _actors(path: Path, names: list | None) -> tuple[str, ...]:
    """The TRO actors the SUT plays: at least one, each a known one."""
    try:
        actors = tuple(actor_of(a) for a in names or [])
    except ValueError as exc:
        raise SutError(f"{path}: actors: {exc}") from exc
    if not actors:
        raise SutError(f"{path}: 'actors' must name at least one TRO actor")
    return actors


def _peer(path: Path, net: dict | None, given: bool) -> Peer | None:
    """The network block: the SUT as a DICOM node, all three of its keys given."""
    if not given:
        return None
    net = net or {}
    missing = [k for k in ("ae_title", "host", "port") if k not in net]
    if missing:
        raise SutError(f"{path}: network: missing {missing}")
    return Peer(str(net["ae_title"]), str(net["host"]), int(net["port"]))


def _check_reachable_somehow(path: Path, data: dict, peer: Peer | None) -> None:
    """The harness must have a way to make the SUT act or to see what it sent."""
    if peer is None and not data.get("export_dir") and data.get("embedded") is None \
            and not data.get("trigger") and not data.get("interactive"):
        raise SutError(f"{path}: give 'network' (ae_title, host, port), 'export_dir', "
                       "'trigger' or 'interactive', or 'embedded'")


def _statement(path: Path, statement: str | None) -> Path | None:
    """The SUT's conformance statement: a file beside the SUT file, or a
    shipped statement's name."""
    if not statement:
        return None
    from rtconform.statement.model import packaged_statements

    shipped = packaged_statements().get(str(statement).removesuffix(".yaml"))
    beside = (Path(path).parent / statement).resolve()
    found = beside if beside.is_file() or shipped is None else shipped
    if not found.is_file():
        raise SutError(f"{path}: statement {found} does not exist (nor is it a "
                       "shipped statement's name: rtconform statement list)")
    return found


def _misbehaviour(path: Path, config: SutConfig, embedded: dict) -> None:
    """The embedded default's block: how a reference actor is made to
    misbehave (to see a failure), each named thing a known one."""
    from rtconform.phantom.faults import FAULTS

    config.fault = embedded.get("fault")
    config.archive_drops = embedded.get("archive_drops")
    config.idle = tuple(str(t) for t in embedded.get("idle") or ())
    config.lenient = bool(embedded.get("lenient", False))
    unknown_idle = [t for t in config.idle if t not in TRANSACTIONS]
    if unknown_idle:
        raise SutError(f"{path}: embedded.idle: unknown transactions {unknown_idle}")
    if config.fault and config.fault not in FAULTS:
        raise SutError(f"{path}: embedded.fault {config.fault!r} is not a known fault")


def _driver_trigger(path: Path, tool: str, has_network: bool) -> str | None:
    """The trigger of a tool driver: this Python runs rtconform.suts (the
    same interpreter as the harness, whatever PATH says). An Archive driver
    is a server: it is started by `rtconform matrix` or `python -m
    rtconform.suts serve`, which give it its network block."""
    import shlex
    import sys

    from rtconform.suts import drivers
    from rtconform.suts.archives import ARCHIVES

    if tool in ARCHIVES:
        if has_network:
            return None
        raise SutError(f"{path}: the Archive {tool} is a server started for a run: use "
                       f"`rtconform matrix {path}`, or `python -m rtconform.suts serve {path} "
                       f"running.yaml` and `rtconform run --sut running.yaml`")
    if tool not in drivers():
        raise SutError(f"{path}: driver.tool {tool!r} is not a known driver; known: "
                       f"{', '.join([*drivers(), *ARCHIVES])}")
    return f"{shlex.quote(sys.executable)} -m rtconform.suts {shlex.quote(tool)}"


def _check_profile(path: Path, config: SutConfig) -> None:
    """The profile and beam types the SUT file names exist."""
    if config.profile is not None:
        from rtconform.rules.profiles import profiles

        if config.profile not in profiles():
            raise SutError(f"{path}: profile {config.profile!r} is not an installed profile "
                           f"({', '.join(profiles())})")
    if config.beam_types:
        from rtconform.phantom.techniques import TECHNIQUES

        unknown = [t for t in config.beam_types if t not in TECHNIQUES]
        if unknown:
            raise SutError(f"{path}: beam_types: unknown {unknown}; known: "
                           f"{', '.join(TECHNIQUES)}")


def _tls(path: Path, data: dict | None) -> TLSConfig | None:
    """The tls: block, files relative to the SUT file, checked now."""
    if not data:
        return None
    files = {}
    for key in ("cert", "key", "ca"):
        if data.get(key):
            files[key] = (Path(path).parent / data[key]).resolve()
            if not files[key].is_file():
                raise SutError(f"{path}: tls.{key}: {files[key]} does not exist")
    config = TLSConfig(**files, require_client_cert=bool(data.get("require_client_cert")))
    try:
        config.client_context()
        if config.cert:
            config.server_context()
    except TLSError as exc:
        raise SutError(f"{path}: tls: {exc}") from exc
    return config
