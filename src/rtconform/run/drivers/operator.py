"""A SUT made to act by a person, as at a connectathon (`--interactive`):
the harness says what to do and waits for Enter, or 'refused'."""

from __future__ import annotations

import select
import sys

from rtconform.actors.node import Peer
from rtconform.actors.result import ActorResult
from rtconform.run.drivers.base import SutDriver
from rtconform.run.scenario import Scenario, SutDidNotAct


class OperatorDriver(SutDriver):
    kind = "operator"

    def perform(self, scenario: Scenario, actor: str, transactions: tuple[str, ...],
                archive: Peer) -> ActorResult:
        timeout = self.sut.timeout
        print(f"\n>>> {actor} under test: perform {','.join(transactions)} now against "
              f"{archive} (study {scenario.study_uid}); press Enter when done, or type "
              f"'refused' if it refused its input (timeout {timeout:g} s)", flush=True)
        ready, _, _ = select.select([sys.stdin], [], [], timeout)
        if not ready:
            raise SutDidNotAct(f"no operator answer within {timeout:g} s")
        answer = sys.stdin.readline().strip().lower()
        return ActorResult(how={"operator": "refused" if answer.startswith("refuse") else "done"})
