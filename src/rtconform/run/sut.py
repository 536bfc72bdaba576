"""The system under test, described once in a YAML file:

    name: Vendor TPS 12.1
    actors: [Contourer, Geometric Planner]   # TRO actors it plays
    network:                                  # a DICOM node …
      ae_title: VENDOR
      host: 127.0.0.1
      port: 104
    # export_dir: /data/export               # … or a folder a file exporter wrote
    trigger: ./push-to.sh                     # run by the harness when the SUT must act
    interactive: false                        # or ask an operator, as at a connectathon
    timeout: 120                              # seconds to wait for the SUT to act
    harness:
      archive_ae: RTCONFORM                   # the harness Archive's AE title
      archive_port: 0                         # 0: a free port (tell your SUT the port)

With no file, the harness's reference actors play every actor: the embedded
default, which must pass every scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rtconform.actors.node import Peer
from rtconform.run.transactions import ACTORS, actor_of


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
    harness_ae: str = "RTCONFORM"
    harness_port: int = 0
    embedded: bool = True
    extra: dict = field(default_factory=dict)

    def plays(self, actor: str) -> bool:
        return actor in self.actors


def load_sut(path: Path) -> SutConfig:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SutError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise SutError(f"{path}: expected a mapping")
    unknown = set(data) - {"name", "actors", "network", "export_dir", "trigger", "interactive",
                           "timeout", "harness"}
    if unknown:
        raise SutError(f"{path}: unknown keys {sorted(unknown)}")
    try:
        actors = tuple(actor_of(a) for a in data.get("actors") or [])
    except ValueError as exc:
        raise SutError(f"{path}: actors: {exc}") from exc
    if not actors:
        raise SutError(f"{path}: 'actors' must name at least one TRO actor")
    peer = None
    if "network" in data:
        net = data["network"] or {}
        missing = [k for k in ("ae_title", "host", "port") if k not in net]
        if missing:
            raise SutError(f"{path}: network: missing {missing}")
        peer = Peer(str(net["ae_title"]), str(net["host"]), int(net["port"]))
    export_dir = Path(data["export_dir"]) if data.get("export_dir") else None
    if peer is None and export_dir is None:
        raise SutError(f"{path}: give 'network' (ae_title, host, port) or 'export_dir'")
    harness = data.get("harness") or {}
    return SutConfig(
        name=str(data.get("name") or path), actors=actors, peer=peer, export_dir=export_dir,
        trigger=data.get("trigger"), interactive=bool(data.get("interactive", False)),
        timeout=float(data.get("timeout", 120)),
        harness_ae=str(harness.get("archive_ae", "RTCONFORM")),
        harness_port=int(harness.get("archive_port", 0)), embedded=False)
