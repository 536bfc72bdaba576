"""pynetdicom's reactor threads wait for their work instead of polling
(rtconform.actors.reactor): an idle association costs a few loops a second,
not a thousand, and still answers (its speed: benchmarks/store_bench.py)."""

from __future__ import annotations

import collections
import threading
import time

import pytest
from pynetdicom import AE
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dul import DULServiceProvider
from pynetdicom.sop_class import Verification

from rtconform.actors import reactor
from rtconform.actors.association import Timeouts, make_ae


@pytest.fixture
def loops(monkeypatch):
    """How often each thread ran its reactor loop: the DUL checks its socket
    once a loop, the Association reactor its DIMSE queue."""
    counts: collections.Counter = collections.Counter()
    transport_event = DULServiceProvider._is_transport_event
    get_msg = DIMSEServiceProvider.get_msg

    def counted_transport_event(self):
        counts[("DUL", threading.current_thread().name)] += 1
        return transport_event(self)

    def counted_get_msg(self, block=False):
        if not block:
            counts[("reactor", threading.current_thread().name)] += 1
        return get_msg(self, block)

    monkeypatch.setattr(DULServiceProvider, "_is_transport_event", counted_transport_event)
    monkeypatch.setattr(DIMSEServiceProvider, "get_msg", counted_get_msg)
    return counts


def test_an_idle_association_waits_and_still_answers(loops):
    server_ae = AE("PEER")
    server_ae.add_supported_context(Verification)
    server = server_ae.start_server(("127.0.0.1", 0), block=False)
    try:
        ae = make_ae("HARNESS", Timeouts())
        ae.add_requested_context(Verification)
        assoc = ae.associate("127.0.0.1", server.server_address[1], ae_title="PEER")
        assert assoc.is_established
        time.sleep(0.3)  # settle: negotiation done on both sides
        loops.clear()
        time.sleep(1.0)  # idle: nothing sent, nothing received
        idle = dict(loops)
        # both sides' DULs and the acceptor's reactor ran; polling would be ~1,000 each
        assert len([k for k in idle if k[0] == "DUL"]) == 2, idle
        assert any(k[0] == "reactor" for k in idle), idle
        limit = 1.0 / reactor.MAX_WAIT * 2 + 10
        assert all(n <= limit for n in idle.values()), idle
        statuses = [assoc.send_c_echo() for _ in range(20)]
        assert [int(s.Status) for s in statuses] == [0] * 20
        assoc.release()
        assert assoc.is_released and not assoc.dul.is_alive()
    finally:
        server.shutdown()
