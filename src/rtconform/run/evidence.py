"""A failed scenario explained in DICOM terms, for a reviewer who will not
open a log: what the scenario expected and observed, the associations it
made (AEs, accepted and rejected contexts, statuses with their PS3.4
meaning, reject and abort reasons), the rule ids with their tag paths, a
hint, and where the log lines are. The traceback stays behind --debug.

The same text goes to the console, JUnit `<failure message>`, cucumber,
summary.json and the report."""

from __future__ import annotations

import re
from collections import Counter

from rtconform.actors.node import status_text
from rtconform.actors.recorder import AssociationRecord
from rtconform.dicom.uids import uid_name

MAX_MESSAGE = 1500
SUCCESS = {"0x0000", "0xFF00", "0xFF01"}
TOKEN = re.compile(r"\b([A-Z][A-Z0-9]+(?:-[A-Z0-9]+)+)\b")


def rule_ids(message: str) -> list[str]:
    """The registered rule and finding ids a message names."""
    from rtconform.rules.profiles import all_rules
    from rtconform.rules.registry import RULES

    all_rules()
    return sorted({t for t in TOKEN.findall(message) if t in RULES})


def _service(command: str) -> str:
    return command.rsplit("-", 1)[0]


def describe(record: AssociationRecord) -> str:
    """One association in a line or three."""
    head = _head(record)
    if record.outcome == "rejected":
        why = ", ".join(str(v) for v in record.reject.values() if v)
        return f"{head}: rejected ({why})"
    lines = [f"{head}: {outcome_text(record)}" + (" over TLS" if record.tls else "")]
    lines += _contexts(record)
    if statuses := _statuses(record):
        lines.append("    " + statuses)
    return "\n".join(lines)


def _head(record: AssociationRecord) -> str:
    """Which association, whose, who called whom, and where."""
    head = (f"association {record.id} ({record.actor}, {record.direction}): "
            f"{record.calling_ae or '?'} → {record.called_ae or '?'}")
    peer = record.peer or {}
    if peer.get("address"):
        head += f" at {peer['address']}:{peer.get('port')}"
    return head


def _at_most_four(names: list[str]) -> str:
    return "; ".join(names[:4]) + (f" (+{len(names) - 4} more)" if len(names) > 4 else "")


def _contexts(record: AssociationRecord) -> list[str]:
    """The accepted and the refused presentation contexts, named."""
    accepted = [c for c in record.contexts if c.get("result") == "accepted"]
    refused = [c for c in record.contexts if c.get("result") != "accepted"]
    lines = []
    if accepted:
        names = sorted({f"{uid_name(c['abstract_syntax'])} / "
                        f"{uid_name(c.get('transfer_syntax') or '')}" for c in accepted})
        lines.append(f"    accepted: {_at_most_four(names)}")
    if refused:
        names = sorted({f"{uid_name(c['abstract_syntax'])} ({c.get('result')})"
                        for c in refused})
        lines.append(f"    not accepted: {_at_most_four(names)}")
    return lines


def _statuses(record: AssociationRecord) -> str:
    """Every response status with its PS3.4 meaning, counted."""
    statuses = Counter((d["command"], d["status"]) for d in record.dimse
                       if d.get("status") and d["command"].endswith("-RSP"))
    return "; ".join(
        f"{command} {status_text(int(status, 16), _service(command))}"
        + (f" ×{n}" if n > 1 else "") for (command, status), n in sorted(statuses.items()))


def outcome_text(record: AssociationRecord) -> str:
    """How an association ended, and for an abort who sent it and why."""
    if record.outcome != "aborted":
        return record.outcome
    abort = record.abort or {}
    local = "the harness" if record.direction == "outbound" else "the harness's receiver"
    if record.contexts and not any(c.get("result") == "accepted" for c in record.contexts):
        return f"aborted by {local}: the peer accepted no presentation context"
    if abort.get("by") == "local":
        return f"aborted by {local} (A-ABORT)"
    if abort.get("by") == "peer" and abort.get("pdu") == "A-ABORT":
        source = {0: "service-user", 2: "service-provider"}.get(abort.get("source"), "?")
        return f"aborted by the peer (A-ABORT, source: DICOM UL {source})"
    if abort.get("by") == "peer":
        return "aborted: the peer closed the connection (A-P-ABORT)"
    return "aborted"


def succeeded(records: list[AssociationRecord]) -> str:
    """What did work in a scenario, so a failure is never read as 'nothing
    happened': operations with a final Success status, by command."""
    done = Counter(d["command"].removesuffix("-RSP") for r in records for d in r.dimse
                   if d["command"].endswith("-RSP") and d.get("status") == "0x0000")
    if not done:
        return ""
    return "succeeded in this scenario: " + ", ".join(
        f"{command} ×{n}" for command, n in sorted(done.items())) + " (0x0000 Success)"


def _telling(records: list[AssociationRecord]) -> list[AssociationRecord]:
    """The associations that explain a failure: refused, aborted or with a
    failure status first; else the last ones."""
    bad = [r for r in records if r.outcome in ("rejected", "aborted", "open")
           or any(d.get("status") and d["status"] not in SUCCESS for d in r.dimse)]
    return (bad or records)[-3:]


def hint(message: str, records: list[AssociationRecord], harness_ae: str,
         receive_ae: str) -> str:
    if any(r.outcome == "rejected" for r in records):
        return (f"an association was rejected: check the AE titles each side knows (the "
                f"harness calls as {harness_ae} and receives C-MOVE results as {receive_ae})")
    if not records:
        return ("no association was made: is the SUT reachable, and did its trigger or "
                "operator act within the timeout?")
    if "SUT-CAPABILITY-MISSING" in message:
        return ("the SUT rejected the presentation context its IHE-RO role needs: configure "
                "that SOP class as SCP/SCU, or declare the actor it does not play")
    aborted = [r for r in records if r.outcome == "aborted"]
    if any((r.abort or {}).get("by") == "peer" for r in aborted):
        return "the SUT aborted an association: its log says why it gave up"
    if aborted:
        return "the harness aborted an association: the reason is above"
    if any(d.get("status") and d["status"] not in SUCCESS for r in records for d in r.dimse):
        return "the SUT answered with a failure status: its meaning is above"
    if rule_ids(message):
        return "`rtconform rules` gives each rule id's statement and source"
    return "the expected and observed values are above"


def failure_text(scenario, exc: BaseException) -> str:
    """The evidence of one failed scenario (see the module docstring)."""
    # pytest's rewritten assertion adds "assert <expression>": the message is enough
    message = re.split(r"\nassert ", str(exc), maxsplit=1)[0].strip() or type(exc).__name__
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + " …"
    records = scenario.own_associations()
    sut = scenario.ctx.sut
    lines = [f"{type(exc).__name__ if not isinstance(exc, AssertionError) else 'FAILED'}: "
             f"{message}"]
    telling = _telling(records)
    if telling:
        lines.append(f"evidence ({len(records)} association(s) in this scenario):")
        lines += [describe(r) for r in telling]
    else:
        lines.append("evidence: no association was made in this scenario")
    if done := succeeded(records):
        lines.append(done)
    rules = rule_ids(message)
    if rules:
        lines.append(f"rules: {', '.join(rules)}")
    lines.append(f"hint: {hint(message, records, sut.harness_ae, sut.receive_ae)}")
    if records:
        lines.append(f"log: {scenario.ctx.recorder.path.name}, associations "
                     f"{records[0].id}…{records[-1].id}")
    text = "\n".join(lines)
    return scenario.ctx.redactor(text)
