"""pynetdicom's two reactor threads, woken by their work instead of polling.

pynetdicom 3 gives each association two threads that loop every millisecond:
the DUL (`time.sleep(_run_loop_delay)`, then a zero-timeout `select` and two
queue checks) and the Association reactor (`time.sleep(0.001)`, then its
pause checkpoint and the DIMSE queue). Idle, each loop costs little, but a
run keeps several associations open at once on two cores: profiled on the
embedded default, the loops took about a quarter of all CPU time.

Here each loop's sleep becomes a wait that ends as soon as there is
something to do — data on the socket, a primitive or event queued, a
message decoded, a pause or a kill asked for — and after `MAX_WAIT`
otherwise (pynetdicom's timers: ARTIM, network idle). pynetdicom's loops
themselves are not changed: only the `sleep` each calls, in its own thread,
and the queues, flags and events its other threads signal through. Where
pynetdicom's internals are not the expected ones, its own sleep stands.
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import ssl
import threading
import time

from pynetdicom import association as _association
from pynetdicom import dul as _dul
from pynetdicom.association import Association
from pynetdicom.dul import DULServiceProvider

MAX_WAIT = 0.05  # s: how late a timer of pynetdicom's may be seen at worst
REACTOR_SLEEP = 0.001  # s: the sleep of Association._run_reactor's loop (pynetdicom 3)


class _Wake:
    """A socket pair whose read end `select` can wait on beside the
    association's socket; poking it ends that wait."""

    def __init__(self) -> None:
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self.writer.setblocking(False)

    def poke(self) -> None:
        with contextlib.suppress(OSError):  # full: already poked; closed: thread ended
            self.writer.send(b"\0")

    def drain(self) -> None:
        with contextlib.suppress(OSError):
            while self.reader.recv(4096):
                pass

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


class _Signals:
    """What an association's threads signal each other through: the DUL's
    socket pair, and a condition the Association reactor waits on."""

    def __init__(self) -> None:
        self.dul: _Wake | None = None  # while the DUL thread runs
        self.reactor = threading.Condition()

    def notify(self) -> None:
        if self.dul is not None:
            self.dul.poke()
        with self.reactor:
            self.reactor.notify_all()


class _WakingQueue(queue.Queue):
    def __init__(self, signals: _Signals) -> None:
        super().__init__()
        self._signals = signals

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        self._signals.notify()


class _WakingEvent(threading.Event):
    """The reactor's checkpoint: a thread that clears it (pauses the reactor
    to use the association itself) then waits until the reactor says so."""

    def __init__(self, signals: _Signals) -> None:
        super().__init__()
        self._signals = signals

    def clear(self) -> None:
        super().clear()
        self._signals.notify()


def _signals_of(obj) -> _Signals | None:
    return obj.__dict__.get("_rtconform_signals")


def _dul_has_work(dul) -> bool:
    return bool(dul._kill_thread or dul.to_provider_queue.qsize() or dul.event_queue.qsize())


def _dul_wait(dul, signals: _Signals) -> None:
    wake = signals.dul
    if wake is None or _dul_has_work(dul):
        return
    waits_on = [wake.reader]
    transport = dul.socket
    sock = getattr(transport, "socket", None) if transport is not None else None
    if sock is not None and getattr(transport, "_is_connected", False):
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return  # TLS has decrypted data select cannot see
        waits_on.append(sock)
    try:
        select.select(waits_on, [], [], MAX_WAIT)
    except (OSError, ValueError):  # closed meanwhile: pynetdicom's check says so
        return
    wake.drain()


def _reactor_has_work(assoc) -> bool:
    return bool(assoc._kill or not assoc._reactor_checkpoint.is_set()
                or assoc.dimse.msg_queue.qsize() or assoc.dul.to_user_queue.qsize()
                or not assoc.dul.is_alive())


def _reactor_wait(assoc, signals: _Signals) -> None:
    with signals.reactor:
        if not _reactor_has_work(assoc):
            signals.reactor.wait(MAX_WAIT)


class _Clock:
    """`time` as pynetdicom's dul and association modules see it: the same,
    except the idle sleep of a reactor loop, in that reactor's own thread."""

    def __init__(self, idle_sleep) -> None:
        self._idle_sleep = idle_sleep

    def __getattr__(self, name: str):
        return getattr(time, name)

    def sleep(self, secs: float) -> None:
        if not self._idle_sleep(threading.current_thread(), secs):
            time.sleep(secs)


def _dul_idle(thread, secs: float) -> bool:
    if not isinstance(thread, DULServiceProvider) or secs != thread._run_loop_delay:
        return False
    signals = _signals_of(thread.assoc)
    if signals is None:
        return False
    _dul_wait(thread, signals)
    return True


def _reactor_idle(thread, secs: float) -> bool:
    if not isinstance(thread, Association) or secs != REACTOR_SLEEP:
        return False
    signals = _signals_of(thread)
    if signals is None:
        return False
    _reactor_wait(thread, signals)
    return True


def _expected_internals() -> bool:
    return hasattr(Association, "_run_reactor") and hasattr(DULServiceProvider, "run_reactor")


def _waking_flag(name: str, signals_of) -> property:
    """A stop flag pynetdicom's threads set on each other (`_kill_thread`, `_kill`):
    setting it wakes the association's waits, wherever it is set from."""
    def get(self) -> bool:
        return self.__dict__.get(name, False)

    def set_(self, value: bool) -> None:
        self.__dict__[name] = value
        signals = signals_of(self) if value else None
        if signals is not None:
            signals.notify()

    return property(get, set_)


def install() -> None:
    """Once per process; every association made afterwards is woken."""
    if getattr(Association, "_rtconform_woken", False) or not _expected_internals():
        return
    original_init = Association.__init__
    original_run = DULServiceProvider.run_reactor

    def init(self, *args, **kwargs) -> None:
        original_init(self, *args, **kwargs)
        try:
            dul, dimse = self.dul, self.dimse
            queues = (dul.event_queue, dul.to_provider_queue, dul.to_user_queue,
                      dimse.msg_queue)
            checkpoint = self._reactor_checkpoint
        except AttributeError:
            return
        if any(type(q) is not queue.Queue or q.qsize() for q in queues) \
                or type(checkpoint) is not threading.Event:
            return
        signals = _Signals()
        dul.event_queue, dul.to_provider_queue, dul.to_user_queue, dimse.msg_queue = (
            _WakingQueue(signals) for _ in queues)
        self._reactor_checkpoint = _WakingEvent(signals)
        if checkpoint.is_set():
            self._reactor_checkpoint.set()
        self.__dict__["_rtconform_signals"] = signals

    def run_reactor(self) -> None:
        signals = _signals_of(self.assoc)
        if signals is not None:
            signals.dul = _Wake()
        try:
            original_run(self)
        finally:
            if signals is not None:
                wake, signals.dul = signals.dul, None
                wake.close()
                signals.notify()  # the reactor sees the DUL is gone

    Association.__init__ = init
    DULServiceProvider.run_reactor = run_reactor
    DULServiceProvider._kill_thread = _waking_flag(
        "_kill_thread", lambda dul: _signals_of(dul.assoc))
    Association._kill = _waking_flag("_kill", _signals_of)
    _dul.time = _Clock(_dul_idle)
    _association.time = _Clock(_reactor_idle)
    Association._rtconform_woken = True
