"""`rtconform simulate …`: the actors from the command line, dcmtk-style."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path

from rich.console import Console

from rtconform.actors.archive import (
    Archive,
    ArchiveConfig,
    check_ae_title,
    parse_move_destinations,
)
from rtconform.actors.node import (
    DEFAULT_TRANSFER_SYNTAXES,
    Peer,
    PeerUnreachable,
    Timeouts,
    identifier,
)
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.registry import REGISTRY, ActorEntry, simulators
from rtconform.actors.storage import DUPLICATE_POLICIES
from rtconform.actors.tls import TLSConfig, TLSError
from rtconform.usage import UsageError
from rtconform.usage import examples as _examples

ACTORS = simulators()  # simulate sub-command → registry entry, for the client actors


class SimulateError(Exception):
    """Environment problem (peer unreachable, port taken): exit 2."""


def _ae(text: str) -> str:
    try:
        return check_ae_title(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("DICOM TLS (PS3.15 BCP 195 non-downgrading)")
    g.add_argument("--tls-cert", metavar="PEM", help="own certificate (chain); turns TLS on")
    g.add_argument("--tls-key", metavar="PEM", help="its private key (default: in --tls-cert)")
    g.add_argument("--tls-ca", metavar="PEM", help="CA certificates to verify the peer with")
    g.add_argument("--tls-require-client-cert", action="store_true",
                   help="mutual authentication: refuse peers without a certificate")


def tls_config(args: argparse.Namespace) -> TLSConfig | None:
    """TLS as the options ask, checked now (a bad file is a usage error)."""
    if not (args.tls_cert or args.tls_ca):
        return None
    config = TLSConfig(cert=Path(args.tls_cert) if args.tls_cert else None,
                       key=Path(args.tls_key) if args.tls_key else None,
                       ca=Path(args.tls_ca) if args.tls_ca else None,
                       require_client_cert=args.tls_require_client_cert)
    try:
        config.client_context()
        if config.cert:
            config.server_context()
    except TLSError as exc:
        raise SimulateError(str(exc)) from exc
    return config


def run_archive(args: argparse.Namespace, console: Console) -> int:
    store = Path(args.store)
    recorder = AssociationRecorder(Path(args.log) if args.log else store / "associations.jsonl")
    if args.max_object_mb < 1:
        raise SimulateError("--max-object-mb must be 1 or more")
    tls = tls_config(args)
    if tls is not None and tls.cert is None:
        raise SimulateError("a TLS Archive needs --tls-cert")
    config = ArchiveConfig(
        ae_title=args.aet, host=args.host, port=args.port, store_dir=store, allow=args.allow or [],
        move_destinations=parse_move_destinations(args.move_dest or []),
        max_associations=args.max_associations, max_pending=args.max_pending,
        max_object_mb=args.max_object_mb,
        check_called_ae=not args.accept_any_called_ae,
        timeouts=Timeouts(acse=args.artim, network=args.idle),
        tls=tls,
        transfer_syntaxes=args.transfer_syntax or list(DEFAULT_TRANSFER_SYNTAXES),
        duplicate_policy=args.duplicates)
    archive = Archive(config, recorder)
    try:
        peer = archive.start()
    except OSError as exc:
        archive.store.close()
        raise SimulateError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"Archive {peer} storing in {store} ({archive.store.count()} objects held)"
                  f"{'; ' + tls.describe() if tls else ''}; log {recorder.path}; Ctrl-C stops",
                  highlight=False, markup=False)
    while not stop.wait(0.5):
        pass
    archive.stop()
    console.print("Archive stopped", highlight=False)
    return 0


def run_actor(args: argparse.Namespace, console: Console) -> int:
    # never the current folder by default: a run folder of its own under reports/
    out = Path(args.out) if args.out else Path("reports") / time.strftime(
        f"actor-{args.actor}-%Y%m%d-%H%M%S")
    console.print(f"log and received objects in {out}", highlight=False)
    recorder = AssociationRecorder(Path(args.log) if args.log else out / "associations.jsonl")
    entry = ACTORS[args.actor]
    actor = entry.start(recorder, out, ae_title=args.aet, method=args.method,
                        tls=tls_config(args))
    peer = Peer(args.aec, args.host, args.port)
    try:
        if args.method == "move" and args.action in ("retrieve", "run"):
            receiver = actor.start_receiver(out / "received", port=args.receive_port)
            console.print(f"receiving C-MOVE results as {receiver}", highlight=False)
        if args.action == "echo":
            result = actor.echo(peer)
            console.print(f"C-ECHO {peer}: status 0x{result.statuses[0]:04X}")
            return 0 if result.ok else 1
        if args.action == "send":
            result = actor.store(peer, [Path(f) for f in args.files])
            bad = [f"0x{s:04X}" for s in result.statuses if s != 0]
            console.print(f"C-STORE {len(result.statuses)} objects to {peer}: "
                          f"{len(result.statuses) - len(bad)} accepted"
                          + (f", refused: {bad}" if bad else ""), highlight=False)
            return 0 if result.ok else 1
        if args.action == "retrieve":
            query = identifier("STUDY", StudyInstanceUID=args.study) if not args.modality \
                else None
            datasets = actor.retrieve(peer, query) if query is not None else \
                actor.retrieve_modality(peer, args.study, args.modality)
            console.print(f"retrieved {len(datasets)} objects into {out / 'received'}")
            return 0
        result = entry.perform(actor, tuple(entry.run.split(",")), peer, args.study)
        console.print(result.summary(), highlight=False, markup=False)
        return result.exit_code
    except PeerUnreachable as exc:
        raise SimulateError(str(exc)) from exc
    finally:
        actor.stop_receiver()


def run_flow(args: argparse.Namespace, console: Console) -> int:
    from rtconform.actors.flow import reference_flow

    result = reference_flow(Path(args.out), args.method)
    console.print(f"TRO flow complete: Archive holds {result.archive_count} objects; the Dose "
                  f"Displayer's set has {result.displayed.errors} errors; log {result.log}",
                  highlight=False)
    return result.displayed.exit_code


def register(sub: argparse._SubParsersAction, formatter) -> None:
    p = sub.add_parser(
        "simulate", formatter_class=formatter, help="run an IHE-RO TRO actor simulator",
        description="Play an IHE-RO TRO actor against a real DICOM node; every association "
                    "is recorded as JSON lines.",
        epilog=_examples(
            "rtconform simulate archive --aet ARCHIVE --port 11112 --store /tmp/archive",
            "rtconform simulate contourer send --aec ARCHIVE 127.0.0.1 11112 /tmp/p/*.dcm",
            "rtconform simulate flow --out /tmp/flow"))
    actors = p.add_subparsers(dest="actor", metavar="ACTOR", required=True)

    for entry in REGISTRY.values():  # the registry says how each actor starts
        STARTERS[entry.cli](actors, entry, formatter)

    f = actors.add_parser("flow", formatter_class=formatter,
                          help="all five reference actors complete the TRO flow over loopback",
                          epilog=_examples("rtconform simulate flow --out /tmp/flow --method "
                                           "move"))
    f.add_argument("--out", required=True, metavar="DIR")
    f.add_argument("--method", choices=("get", "move"), default="get")
    f.set_defaults(simulate=run_flow)
    p.set_defaults(func=lambda args, console: _dispatch(args, console))


def _add_server(actors: argparse._SubParsersAction, entry: ActorEntry, formatter) -> None:
    """The Archive's command: a server with its limits, store and policies."""
    a = actors.add_parser(
        entry.command, formatter_class=formatter,
        help="Archive: Storage SCP + Query/Retrieve SCP (FIND, MOVE, GET) until Ctrl-C",
        epilog=_examples(
            "rtconform simulate archive --aet ARCHIVE --port 11112 --store /tmp/archive",
            "rtconform simulate archive --store /tmp/a --allow CONTOURER --move-dest "
            "PLANNER=127.0.0.1:11113 --duplicates reject",
            "rtconform simulate archive --store /tmp/a --port 2762 --tls-cert archive.pem "
            "--tls-key archive.key --tls-ca ca.pem",
            "rtconform simulate archive --store /tmp/a --max-object-mb 64"))
    a.add_argument("--aet", default="ARCHIVE", type=_ae, help="own AE title (default ARCHIVE)")
    a.add_argument("--host", default="127.0.0.1", help="address to listen on")
    a.add_argument("--port", type=int, default=11112, help="port (0: any free port)")
    a.add_argument("--store", required=True, metavar="DIR", help="persistent store folder")
    a.add_argument("--allow", action="append", metavar="AE", type=_ae,
                   help="accept only these calling AE titles (repeatable)")
    a.add_argument("--move-dest", action="append", metavar="AE=HOST:PORT",
                   help="C-MOVE destination (repeatable)")
    a.add_argument("--max-associations", type=int, default=10,
                   help="associations at once; the next gets A-ASSOCIATE-RJ (default 10)")
    a.add_argument("--max-pending", type=int, default=64,
                   help="connections still waiting for their A-ASSOCIATE-RQ, counted apart "
                        "from --max-associations; beyond it (or beyond a quarter of it from "
                        "one address) the oldest silent one is closed (64)")
    a.add_argument("--max-object-mb", type=int, default=512, metavar="MB",
                   help="a larger data set is refused while it arrives: 0xA700 and A-ABORT "
                        "(512); what is received goes to disk, not memory")
    a.add_argument("--artim", type=float, default=30.0, metavar="S",
                   help="PS3.8 ARTIM: seconds from connect to A-ASSOCIATE-RQ (30)")
    a.add_argument("--idle", type=float, default=60.0, metavar="S",
                   help="an association silent this long is aborted (60)")
    a.add_argument("--accept-any-called-ae", action="store_true",
                   help="answer whatever called AE title a peer uses (default: own only)")
    add_tls_options(a)
    a.add_argument("--transfer-syntax", action="append", metavar="UID",
                   help="accepted transfer syntax (repeatable; default Explicit, Implicit VR "
                        "Little Endian, Deflated)")
    a.add_argument("--duplicates", choices=DUPLICATE_POLICIES, default="keep",
                   help="policy for a SOP Instance UID already held")
    a.add_argument("--log", metavar="FILE", help="association log (default STORE/"
                                                  "associations.jsonl)")
    a.set_defaults(simulate=run_archive)


def _add_client(actors: argparse._SubParsersAction, entry: ActorEntry, formatter) -> None:
    """A client actor's command: echo, send, retrieve, or its whole act (run)."""
    name = entry.command
    s = actors.add_parser(
        name, formatter_class=formatter,
        help=f"{entry.name}: echo, send, retrieve or run ({' '.join(entry.run.split(','))})",
        epilog=_examples(
            f"rtconform simulate {name} echo --aec ARCHIVE 127.0.0.1 11112",
            f"rtconform simulate {name} send --aec ARCHIVE 127.0.0.1 11112 file.dcm",
            f"rtconform simulate {name} retrieve --aec ARCHIVE 127.0.0.1 11112 "
            "--study 1.2.3 --modality CT --method move --receive-port 11113 --out /tmp/r",
            f"rtconform simulate {name} run --aec ARCHIVE 127.0.0.1 11112 --study 1.2.3 "
            "--out /tmp/r"))
    s.add_argument("action", choices=("echo", "send", "retrieve", "run"))
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("files", nargs="*", help="files to send")
    s.add_argument("--aet", default=entry.default_ae, type=_ae,
                   help=f"own AE title ({entry.default_ae})")
    s.add_argument("--aec", default="ARCHIVE", type=_ae, help="called AE title (ARCHIVE)")
    s.add_argument("--study", help="Study Instance UID to retrieve or work on")
    s.add_argument("--modality", help="retrieve only series of this modality")
    s.add_argument("--method", choices=("get", "move"), default="get")
    s.add_argument("--receive-port", type=int, default=0,
                   help="port of the C-MOVE receiver (0: any free port)")
    s.add_argument("--out", metavar="DIR",
                   help="log and received objects (default reports/actor-<actor>-<time>)")
    s.add_argument("--log", metavar="FILE")
    add_tls_options(s)
    s.set_defaults(simulate=run_actor)


STARTERS = {"server": _add_server, "client": _add_client}


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    if args.actor in ACTORS and args.action in ("retrieve", "run") and not args.study:
        raise UsageError(f"{args.action} needs --study UID")
    if args.actor in ACTORS and args.action == "send" and not args.files:
        raise UsageError("send needs files")
    try:
        return args.simulate(args, console)
    except SimulateError as exc:
        raise UsageError(str(exc)) from exc
