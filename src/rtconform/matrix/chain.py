"""One producer → Archive → consumer chain, with the evidence that decides it.

A production: the harness gives the Archive the stimulus (under UIDs of the
chain's own, so chains never touch each other's data), the producer makes
its object from it and stores it there, and the harness takes back what the
Archive now holds, comparing it with what the producer wrote (the driver
keeps a copy: RTCONFORM_KEEP_DIR). A consumption: the consumer performs its
transactions against the same Archive and study; the object the Archive
returned is judged by the consumer's profile and its conformance statement's
import constraints.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import traceback
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from rtconform.actors.actor import RetrieveFailed, TROActor
from rtconform.actors.node import ContextsRejected, Peer, PeerUnreachable, ServiceUser, identifier
from rtconform.actors.recorder import AssociationRecorder
from rtconform.dicom.compare import differences
from rtconform.dicom.uids import DEFAULT_UID_ROOT
from rtconform.ihe.tro import DOSE_DISPLAYER, GEOMETRIC_PLANNER
from rtconform.matrix.plan import CONSUMES, Kind, Participant
from rtconform.phantom.sets import SampleSet
from rtconform.phantom.variants import UidScope
from rtconform.suts.driver import uid_file_name

HARNESS_AE = "RTCONFORM"
SEEDS = {  # a Kind's seed phrase → files of the synthetic patient
    "CT series and plan dose": lambda n: n.startswith("CT_") or n == "RD_plan.dcm",
    "CT series, structure set and geometric plan":
        lambda n: n.startswith("CT_") or n in ("RS_structure_set.dcm", "RP_geometric.dcm"),
}


@dataclass
class ArchiveHandle:
    participant: Participant
    peer: Peer
    version: str = ""

    @property
    def slug(self) -> str:
        return self.participant.slug


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower())


def production_key(producer: Participant, archive: ArchiveHandle, kind: Kind) -> str:
    return f"{producer.slug}|{archive.slug}|{kind.name}"


def consumption_key(production: str, consumer: Participant, actor: str) -> str:
    return f"{production}|{consumer.slug}|{actor}"


def _write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    ds.save_as(tmp, enforce_file_format=True)
    os.replace(tmp, path)
    return path


def _trigger(participant: Participant, actor: str, transactions: str, archive: Peer,
             study: str, keep: Path | None) -> dict:
    """Make a SUT act by its trigger, as `rtconform run` does (the same
    RTCONFORM_* variables), plus where a driver keeps what its tool wrote."""
    env = {**os.environ, "RTCONFORM_TRANSACTION": transactions, "RTCONFORM_ACTOR": actor,
           "RTCONFORM_ARCHIVE_AE": archive.ae_title, "RTCONFORM_ARCHIVE_HOST": archive.host,
           "RTCONFORM_ARCHIVE_PORT": str(archive.port), "RTCONFORM_STUDY_UID": study}
    if keep is not None:
        env["RTCONFORM_KEEP_DIR"] = str(keep)
    timeout = participant.config.timeout
    try:
        proc = subprocess.run(participant.config.trigger, shell=True, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"accepted": False, "exit_code": None,
                "why": f"did not finish within {timeout:g} s"}
    log = {}
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                log = json.loads(line)
            break
    why = log.get("refused") or (proc.stderr.strip().splitlines() or [""])[-1]
    return {"accepted": proc.returncode == 0, "exit_code": proc.returncode,
            "why": "" if proc.returncode == 0 else why[-600:], "log": log,
            "output": (proc.stdout + proc.stderr)[-1500:]}


class Chains:
    """Runs productions and consumptions for one matrix run."""

    def __init__(self, out: Path, seed: str, samples: dict[str, SampleSet]) -> None:
        self.out = Path(out)
        self.seed = seed
        self.samples = samples  # the stimulus sets, built once (not thread-safe to build)

    def folder(self, key: str) -> Path:
        return self.out / "chains" / _safe(key.replace("|", "--"))

    # -- production --------------------------------------------------------------------
    def produce(self, producer: Participant, archive: ArchiveHandle, kind: Kind) -> dict:
        key = production_key(producer, archive, kind)
        folder = self.folder(key)
        if folder.exists():  # a half-done chain from an interrupted run starts again
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        record = {"key": key, "producer": producer.slug, "archive": archive.slug,
                  "kind": kind.name, "folder": str(folder)}
        try:
            record.update(self._produce(producer, archive, kind, folder))
        except Exception as exc:  # recorded as the chain's evidence, never a crash
            record.update({"ok": False, "why": f"{type(exc).__name__}: {exc}",
                           "trace": traceback.format_exc()[-1500:]})
        return record

    def _produce(self, producer: Participant, archive: ArchiveHandle, kind: Kind,
                 folder: Path) -> dict:
        sample = self.samples[producer.stimulus]
        scope = UidScope(DEFAULT_UID_ROOT, f"{self.seed}/{folder.name}")
        scope.learn(sample.datasets.values())
        chosen = [scope.copy(ds) for name, ds in sample.datasets.items() if SEEDS[kind.seed](name)]
        given = [_write(ds, folder / "given" / f"{ds.SOPInstanceUID}.dcm") for ds in chosen]
        recorder = AssociationRecorder(folder / "associations.jsonl")
        seeded = ServiceUser(HARNESS_AE, recorder, "Image Source").store(archive.peer, given)
        if not seeded.ok:
            return {"ok": False, "why": f"the Archive did not take the stimulus: "
                                        f"{seeded.describe('C-STORE')}"}
        study = str(chosen[0].StudyInstanceUID)
        keep = folder / "produced"
        if producer.config.embedded:
            outcome = self._embedded_produce(producer, kind, archive.peer, study, keep,
                                             {k: scope.mapping.get(v, v)
                                              for k, v in sample.uids.items()}, folder)
        else:
            outcome = _trigger(producer, kind.producer, kind.transactions, archive.peer, study,
                               keep)
        seeded = {str(ds.SOPInstanceUID) for ds in chosen}
        made = self._archive_copies(archive.peer, study, kind, seeded, folder, recorder)
        originals, modality_of = {}, {}
        for path in sorted(keep.glob("*")) if keep.is_dir() else []:
            try:
                ds = pydicom.dcmread(path)
            except Exception as exc:  # what the tool wrote is not readable DICOM
                outcome.setdefault("unreadable", []).append(f"{path.name}: {exc}")
                continue
            originals[str(ds.SOPInstanceUID)] = path
            modality_of[str(ds.SOPInstanceUID)] = str(ds.get("Modality", ""))
        objects = []
        for modality, paths in made.items():
            for path in paths:
                back = pydicom.dcmread(path)
                uid = str(back.SOPInstanceUID)
                entry = {"modality": modality, "sop_instance_uid": uid, "path": str(path),
                         "changed": []}
                if uid in originals:
                    entry["original"] = str(originals[uid])
                    entry["changed"] = [str(d) for d in
                                        differences(pydicom.dcmread(originals[uid]), back,
                                                    limit=5)]
                objects.append(entry)
        lost = [{"modality": modality_of[uid], "sop_instance_uid": uid} for uid in
                sorted(set(originals) - {o["sop_instance_uid"] for o in objects})]
        ok = bool(objects)
        why = "" if ok else (outcome.get("why") or "the producer stored nothing the Archive "
                             "returns")
        return {"ok": ok, "why": why, "outcome": outcome, "study": study,
                "given": [str(p) for p in given], "objects": objects,
                "not_returned": lost}

    def _embedded_produce(self, producer: Participant, kind: Kind, peer: Peer, study: str,
                          keep: Path, given_uids: dict, folder: Path) -> dict:
        from rtconform.actors.registry import REGISTRY
        from rtconform.phantom.faults import inject

        recorder = AssociationRecorder(folder / "producer-associations.jsonl")
        ref = REGISTRY[kind.producer].start(recorder, folder / "producer", method="get")
        store_all = ref.store_all
        fault = producer.config.fault

        def keeping_store(archive, datasets):
            if fault:
                inject(datasets, fault, given=given_uids)
            for ds in datasets:
                _write(ds, keep / uid_file_name(ds.SOPInstanceUID))
            return store_all(archive, datasets)

        ref.store_all = keeping_store
        try:
            ref.run(peer, study)
            return {"accepted": True}
        except (RetrieveFailed, PeerUnreachable, ContextsRejected, ValueError) as exc:
            return {"accepted": False, "why": f"{type(exc).__name__}: {exc}"}
        finally:
            ref.stop_receiver()

    def _archive_copies(self, peer: Peer, study: str, kind: Kind, seeded: set[str],
                        folder: Path, recorder: AssociationRecorder) -> dict[str, list[Path]]:
        """What the Archive now holds of the producer's kind, taken back by
        C-GET (the instances the harness did not seed: a planner may put its
        dosimetric plan in the geometric plan's series)."""
        user = TROActor(recorder, folder / "harness", ae_title=HARNESS_AE, method="get")
        out: dict[str, list[Path]] = {}
        for modality in kind.modalities:
            try:
                series = user.series(peer, study, modality)
            except RetrieveFailed:
                series = []
            for uid in series:
                for ds in user.retrieve(peer, identifier("SERIES", StudyInstanceUID=study,
                                                         SeriesInstanceUID=uid)):
                    if str(ds.SOPInstanceUID) in seeded:
                        continue
                    target = folder / "archive-copy" / modality.lower() / \
                        uid_file_name(ds.get("SOPInstanceUID", ""))
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(ds.filename, target)
                    out.setdefault(modality, []).append(target)
        return out

    # -- consumption -------------------------------------------------------------------
    def consume(self, production: dict, consumer: Participant, actor: str, kind: Kind,
                archive: ArchiveHandle) -> dict:
        key = consumption_key(production["key"], consumer, actor)
        record = {"key": key, "production": production["key"], "consumer": consumer.slug,
                  "actor": actor}
        if not production.get("ok"):
            record["outcome"] = {"accepted": None, "why": "nothing to consume"}
            return record
        transactions = CONSUMES[kind.name][actor]
        folder = Path(production["folder"]) / _safe(f"to-{consumer.slug}-{actor}")
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        try:
            if consumer.config.embedded:
                outcome = self._embedded_consume(actor, archive.peer, production["study"],
                                                 folder)
            else:
                outcome = _trigger(consumer, actor, transactions, archive.peer,
                                   production["study"], None)
        except Exception as exc:  # recorded, never a crash of the matrix
            outcome = {"accepted": False, "why": f"{type(exc).__name__}: {exc}"}
        record["outcome"] = {"transactions": transactions, **outcome}
        return record

    def _embedded_consume(self, actor: str, peer: Peer, study: str, folder: Path) -> dict:
        from rtconform.actors.registry import REGISTRY

        recorder = AssociationRecorder(folder / "associations.jsonl")
        ref = REGISTRY[actor].start(recorder, folder / "consumer", method="get")
        try:
            if actor == GEOMETRIC_PLANNER:  # plans on it (stores nothing: chains stay read-only)
                ref.retrieve_modality(peer, study, "CT")
                (ss, *_) = ref.retrieve_modality(peer, study, "RTSTRUCT")
                plan = ref.plan(ss)
                return {"accepted": True, "log": {"beams": len(plan.BeamSequence)}}
            if actor == DOSE_DISPLAYER:
                counts = {m: len(ref.retrieve_modality(peer, study, m))
                          for m in ("CT", "RTSTRUCT", "RTPLAN", "RTDOSE")
                          if m != "RTPLAN" or ref.series(peer, study, "RTPLAN")}
                return {"accepted": True, "log": {"retrieved": counts}}
            raise ValueError(f"the reference {actor} does not consume in the matrix")
        except (RetrieveFailed, PeerUnreachable, ContextsRejected, AttributeError,
                KeyError, IndexError) as exc:
            return {"accepted": False, "why": f"{type(exc).__name__}: {exc}"}
        finally:
            ref.stop_receiver()
