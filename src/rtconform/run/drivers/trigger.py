"""A SUT made to act by a shell command from its SUT file (`trigger:`), run
with the transaction, the actor and the harness Archive's address in
`$RTCONFORM_*`; its exit code is its verdict on its input."""

from __future__ import annotations

import os
import subprocess

from rtconform.actors.node import Peer
from rtconform.actors.result import ActorResult
from rtconform.run.drivers.base import SutDriver
from rtconform.run.scenario import Scenario, SutDidNotAct


def environment(scenario: Scenario, actor: str, transactions: tuple[str, ...],
                archive: Peer) -> dict[str, str]:
    """What a trigger command or an operator is told: who acts, in what, where."""
    return {"RTCONFORM_TRANSACTION": ",".join(transactions), "RTCONFORM_ACTOR": actor,
            "RTCONFORM_ARCHIVE_AE": archive.ae_title, "RTCONFORM_ARCHIVE_HOST": archive.host,
            "RTCONFORM_ARCHIVE_PORT": str(archive.port),
            "RTCONFORM_STUDY_UID": scenario.study_uid}


class TriggerDriver(SutDriver):
    kind = "trigger"

    def perform(self, scenario: Scenario, actor: str, transactions: tuple[str, ...],
                archive: Peer) -> ActorResult:
        sut = self.sut
        env = {**os.environ, **environment(scenario, actor, transactions, archive)}
        try:  # a shell command from the user's own SUT file: $RTCONFORM_* expand
            proc = subprocess.run(sut.trigger, shell=True, env=env, capture_output=True,
                                  text=True, timeout=sut.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SutDidNotAct(f"trigger {sut.trigger!r} did not finish within "
                               f"{sut.timeout:g} s") from exc
        return ActorResult(how={"trigger": sut.trigger, "exit_code": proc.returncode,
                                "output": (proc.stdout + proc.stderr)[-2000:]})
