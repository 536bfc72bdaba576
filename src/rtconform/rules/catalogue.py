"""Finding ids that no rule function raises: the standard engines', the
harness's own, the scenario steps', statement checks' and waivers'. They are
registered beside the rules so that `rtconform rules` lists every id the
program can emit, each with its primary source."""

from __future__ import annotations

from rtconform.findings import Severity
from rtconform.rules.registry import catalogue

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

DCIODVFY = "dicom3tools dciodvfy (David Clunie): DICOM PS3.3 IOD and module tables, PS3.5"
DV = "dicom-validator (pydicom project): DICOM PS3.3 IOD and module tables, from the DocBook"

catalogue("DCIODVFY-ERROR", E, "dciodvfy reports an error against the IOD", DCIODVFY, "engine")
catalogue("DCIODVFY-WARNING", W, "dciodvfy reports a warning against the IOD", DCIODVFY, "engine")
catalogue("ENGINE-FAILED", W, "A standard engine could not judge a file (crash, timeout)",
          "rtconform: an engine that did not run is said, never silent", "engine")
catalogue("ENGINE-REQUIRED", E, "An engine named by --require-engines ran on every file",
          "rtconform: a CI gate does not pass on a check that did not happen", "engine")
catalogue("DV-UNKNOWN-SOP-CLASS", I, "The SOP class is not in the loaded edition of the standard",
          DV, "engine")


def _dicom_validator_codes() -> None:
    """dicom-validator's error codes become DV-<CODE> (see engines/dicom_validator.py)."""
    from dicom_validator.validator.validation_result import ErrorCode

    for code in ErrorCode:
        if code.name == "NoError":
            continue
        severity = W if code.name == "TagUnexpected" else E
        catalogue(f"DV-{code.name.upper()}", severity,
                  f"dicom-validator: {code.name} (in a module of the IOD)", DV, "engine")


_dicom_validator_codes()


def _judged_engine_findings() -> None:
    """The engine findings rtconform judges itself (engines/judgement.py): an
    id each, info when the standard's condition is not met on the object."""
    from rtconform.engines.judgement import KNOWN

    for known in KNOWN:
        catalogue(known.id, I, f"{known.title}: judged by rtconform; info when the condition "
                  "is not met (--strict-engines: the engine's severity)", known.citation,
                  "engine")


_judged_engine_findings()

catalogue("RULE-FAILED", W, "A rule could not finish on strange input (the rest ran)",
          "rtconform: a rule that breaks is a finding, never a crash", "harness")
catalogue("GIVEN-UNREADABLE", W, "A file of the actor's input (--given) could not be read",
          "rtconform validate --given", "harness")
catalogue("ARCHIVE-STORAGE-LEVEL-2", E,
          "An Archive returns what it was given unchanged (file meta aside)",
          "IHE-RO TRO RO-1, RO-6 … RO-10; IHE-RO test tool CompareRule (BRTO-RO1-06 …); DICOM "
          "PS3.4 B.4.1 (storage level 2)", "scenario")
QR = "DICOM PS3.4 C.4.1 (C-FIND operation); IHE-RO TRO RO-1, RO-6 … RO-10 (the Archive's " \
     "Query/Retrieve SCP)"
catalogue("ARCHIVE-FIND-DUPLICATE", E, "A C-FIND answers each matching entity once at the "
          "requested Query/Retrieve Level", "DICOM PS3.4 C.4.1.3.1.1 (hierarchical search); " + QR,
          "scenario")
catalogue("ARCHIVE-FIND-LEVEL", E, "C-FIND responses are at the Query/Retrieve Level asked and "
          "carry no unique key of a level below", "DICOM PS3.4 C.4.1.1.3.2; " + QR, "scenario")
catalogue("ARCHIVE-FIND-UNIQUE-KEY", E, "Every C-FIND response carries the unique key of its "
          "level", "DICOM PS3.4 C.4.1.1.3.2, C.6.2.1; " + QR, "scenario")
catalogue("ARCHIVE-FIND-MATCH", E, "A C-FIND finds what was stored and only what matches its "
          "keys", "DICOM PS3.4 C.2.2.2 (attribute matching); " + QR, "scenario")
catalogue("SUT-CAPABILITY-MISSING", E, "The system under test accepts the presentation contexts "
          "its IHE-RO TRO role needs (e.g. an Archive: Study Root Query/Retrieve FIND)",
          "IHE-RO TRO 2007 (actors and transactions); DICOM PS3.7 D.3.3.2 (presentation "
          "context negotiation)", "scenario")
catalogue("VERIFY-SCP-REJECTED", E, "A SOP class the statement claims as SCP was rejected",
          "DICOM PS3.2 (the statement's SOP class table) vs the run's association log",
          "statement")
catalogue("VERIFY-UNCLAIMED-SOP-CLASS", W, "A SOP class was used that the statement does not "
          "claim", "DICOM PS3.2 vs the run's association log", "statement")
catalogue("VERIFY-TRANSFER-SYNTAX", W, "A transfer syntax was used that the statement does not "
          "claim for that SOP class", "DICOM PS3.2 vs the run's association log", "statement")
catalogue("VERIFY-IMPLEMENTATION-UID", W, "The implementation class UID differs from the "
          "statement's", "DICOM PS3.2 (implementation identifying information)", "statement")
catalogue("VERIFY-EXPORT-VALUE", E, "An exported value is outside the statement's claimed values",
          "DICOM PS3.2 (IOD contents annex) vs the objects of the run", "statement")
catalogue("IMPORT-DISABLED", W, "The receiving product does not import this object by default",
          "the receiver's conformance statement (e.g. Brainlab RT Elements Table 4-21 note 3)",
          "statement")
catalogue("IMPORT-CONSTRAINT", E, "A file breaks an import constraint of the receiver's "
          "statement (a constraint without an id of its own; statements name theirs, e.g. "
          "BL-SS-OFFSET-ZERO)", "the receiver's conformance statement", "statement")
catalogue("VERIFY-UNREADABLE", W, "A received object could not be read, so not checked against "
          "the statement", "DICOM PS3.10 (file format)", "statement")
catalogue("IMPORT-UNREADABLE", W, "A file could not be read, so not checked against the "
          "receiver's import constraints", "DICOM PS3.10 (file format)", "statement")
catalogue("WAIVER-EXPIRED", W, "A waiver is past its expiry date", "rtconform waivers file",
          "waiver")
catalogue("WAIVER-UNUSED", W, "A waiver matched no finding", "rtconform waivers file", "waiver")

DIFF = "rtconform diff-export (re-export regression)"
catalogue("EXPORT-CONTENT-SAME-UID", E, "An object's content changed under the same SOP "
          "Instance UID", "DICOM PS3.3 C.12.1.1.1 (a SOP Instance UID names one content)",
          "diff-export")
catalogue("EXPORT-APPROVED-UIDS", E, "An APPROVED plan's study was re-exported with other "
          "Study, Series or SOP Instance UIDs", "DICOM PS3.3 C.8.8.16 (Approval Status); " + DIFF,
          "diff-export")
catalogue("EXPORT-OBJECT-MISSING", E, "An object of the old export is not in the new one", DIFF,
          "diff-export")
catalogue("EXPORT-OBJECT-ADDED", I, "An object is new in the new export", DIFF, "diff-export")
catalogue("EXPORT-NEW-UID-SAME-CONTENT", I, "Unchanged content under a new SOP Instance UID",
          DIFF, "diff-export")

LAYOUT = "rtconform export layout (validate --layout)"
catalogue("LAYOUT-PATIENT-FOLDER", E, "A DICOM object is in the patient folder its Patient's Name "
          "and ID give", LAYOUT, "layout")
catalogue("LAYOUT-DICOM-EXPECTED", E, "A folder where the layout expects DICOM holds only DICOM",
          LAYOUT, "layout")
catalogue("LAYOUT-PLAN-FOLDER", W, "Plan objects (RTPLAN, RTDOSE, RTRECORD) are in a plan "
          "folder", LAYOUT, "layout")
catalogue("LAYOUT-DICOM-PLACE", W, "DICOM objects are in the layout's DICOM folders", LAYOUT,
          "layout")
catalogue("LAYOUT-ORPHAN", W, "No DICOM object lies outside every patient folder", LAYOUT,
          "layout")
catalogue("LAYOUT-EMPTY-FOLDER", W, "No folder of the export is empty", LAYOUT, "layout")
catalogue("LAYOUT-UNSAFE-NAME", W, "File and folder names are safe on common file systems "
          "(no <>:\"\\|?*, trailing dot or space, reserved name, path over 260 characters)",
          LAYOUT, "layout")

RECONCILE = "rtconform reconcile (every exported instance received, unchanged)"
catalogue("RECONCILE-MISSING", E, "An instance of the export tree was never received", RECONCILE,
          "reconcile")
catalogue("RECONCILE-DIFFERS", E, "A received data set differs from the exported file",
          RECONCILE, "reconcile")
catalogue("RECONCILE-EXTRA", W, "A received instance is not in the export tree", RECONCILE,
          "reconcile")

catalogue("MATRIX-UID-REUSED", E, "A producer gives each object it makes a SOP Instance UID of "
          "its own (rtconform matrix: across the chains' studies)",
          "DICOM PS3.5 9.1 (a UID identifies one object); IHE-RO test tool BRTO-RO2-50 (new "
          "SOP Instance UID)", "matrix")
