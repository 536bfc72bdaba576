"""Where the per-file stage runs: in this process (threads, for the engines'
subprocesses), in a pool of processes (`--jobs N`: the TRO rules are Python
and need processes to use more than one core) or on a Dask distributed
cluster (`--scheduler tcp://HOST:PORT`).

Each executor takes (index, path) items and yields (index, FileResult) as
files finish, with a bounded number in flight, so memory does not grow with
the size of the tree. Files travel in small batches to a process or a Dask
worker: one task per file would cost the scheduler more than the check.
Ctrl-C stops the submission and cancels what is queued.
"""

from __future__ import annotations

import multiprocessing
import re
import signal
import socket
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor
from itertools import islice
from pathlib import Path

from rtconform.dicom.read import quiet_reading
from rtconform.filecheck import FileResult, FileSettings, check_file, not_checked

MIN_FILES_FOR_PROCESSES = 32  # below, starting the workers costs more than it saves
PROCESS_BATCH = 8  # files per task sent to a worker process
DASK_BATCH = 32  # files per Dask task
BATCHES_IN_FLIGHT = 3  # per worker: one running, the next ones queued

Item = tuple[int, Path]
Batch = list[Item]


class ExecutorError(RuntimeError):
    """The executor cannot be used (a scheduler that does not answer)."""


def results(items: list[Item], settings: FileSettings, jobs: int = 1,
            processes: bool = False, scheduler: str | None = None
            ) -> Iterator[tuple[int, FileResult]]:
    """The per-file results of `items`, on the executor the options name."""
    if scheduler:
        return on_dask(items, settings, scheduler)
    if processes and jobs > 1 and len(items) >= MIN_FILES_FOR_PROCESSES:
        return in_processes(items, settings, jobs)
    return in_threads(items, settings, max(1, jobs))


def check_batch(batch: Batch, settings: FileSettings) -> list[tuple[int, FileResult]]:
    return [(index, check_file(path, settings)) for index, path in batch]


def check_batch_on_dask(batch: Batch, settings: FileSettings) -> list[tuple[int, str]]:
    """A Dask task: the worker process is Dask's, so the reading policy is set
    here. Results travel as plain JSON text (FileResult.to_wire)."""
    quiet_reading()
    return [(index, _wire(result, path))
            for (index, result), (_, path) in zip(check_batch(batch, settings), batch,
                                                  strict=True)]


def batches(items: Iterable[Item], size: int) -> Iterator[Batch]:
    source = iter(items)
    while batch := list(islice(source, size)):
        yield batch


def _windowed(submit, work: Iterable[Batch], window: int) -> Iterator[tuple[Batch, Future]]:
    """Submit at most `window` batches ahead; yield each (batch, future) done."""
    pending: dict[Future, Batch] = {}
    source = iter(work)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < window:
                batch = next(source, None)
                if batch is None:
                    exhausted = True
                    break
                pending[submit(batch)] = batch
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future
    finally:
        for future in pending:  # Ctrl-C, or the consumer stopped
            future.cancel()


def in_threads(items: Iterable[Item], settings: FileSettings, threads: int
               ) -> Iterator[tuple[int, FileResult]]:
    """In this process: the engines run as subprocesses, so threads overlap them."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _, future in _windowed(lambda batch: pool.submit(check_batch, batch, settings),
                                   batches(items, 1), threads * BATCHES_IN_FLIGHT):
            yield from future.result()


# -- a pool of processes ------------------------------------------------------------
_SETTINGS: FileSettings | None = None


def _start_worker(settings: FileSettings) -> None:
    global _SETTINGS
    _SETTINGS = settings
    quiet_reading()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _check_in_worker(batch: Batch) -> list[tuple[int, str]]:
    """Plain JSON text back to the parent, never pydicom objects."""
    assert _SETTINGS is not None
    return [(index, _wire(result, path))
            for (index, result), (_, path) in zip(check_batch(batch, _SETTINGS), batch,
                                                  strict=True)]


def _wire(result: FileResult, path: Path) -> str:
    """A result as JSON text; one that cannot be sent (out of memory) becomes
    a finding on its file instead of failing the whole batch."""
    try:
        return result.to_wire()
    except Exception as exc:
        return not_checked(path, "its result could not be sent back by the worker process",
                           exc).to_wire()


def _new_pool(jobs: int, settings: FileSettings) -> Executor:
    # forkserver, not fork: the caller may hold threads (an Archive, a progress bar)
    return ProcessPoolExecutor(max_workers=jobs,
                               mp_context=multiprocessing.get_context("forkserver"),
                               initializer=_start_worker, initargs=(settings,))


def in_processes(items: Iterable[Item], settings: FileSettings, jobs: int
                 ) -> Iterator[tuple[int, FileResult]]:
    """In `jobs` worker processes, each given the settings once. A worker that
    dies (killed, out of memory) takes its pool down with every file in
    flight: those are then checked one by one, each in a pool of its own, so
    the file that kills a worker is the one reported, and nothing is lost."""
    todo = list(items)
    while todo:
        done: set[int] = set()
        submitted: list[Item] = []
        pool = _new_pool(jobs, settings)

        def submit(batch: Batch, pool: Executor = pool, submitted: list = submitted) -> Future:
            submitted.extend(batch)
            return pool.submit(_check_in_worker, batch)

        try:
            for _, future in _windowed(submit, batches(todo, PROCESS_BATCH),
                                       jobs * BATCHES_IN_FLIGHT):
                for index, text in future.result():
                    done.add(index)
                    yield index, FileResult.from_wire(text)
        except BrokenProcessPool:
            batch_error: BaseException | None = None
        except Exception as exc:  # a batch that failed in its worker: its files are checked alone
            batch_error = exc
        else:
            batch_error = None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for index, path in [item for item in submitted if item[0] not in done]:
            yield index, _alone(index, path, settings, batch_error)
            done.add(index)
        todo = [item for item in todo if item[0] not in done]


def _alone(index: int, path: Path, settings: FileSettings,
           batch_error: BaseException | None = None) -> FileResult:
    """One file in a pool of its own, after its batch failed (`batch_error`:
    how, when the pool survived it)."""
    pool = _new_pool(1, settings)
    try:
        return FileResult.from_wire(pool.submit(_check_in_worker, [(index, path)]).result()[0][1])
    except BrokenProcessPool:
        return not_checked(path, "the worker process checking it died", batch_error)
    except Exception as exc:  # it failed in the worker (out of memory …)
        return not_checked(path, "the worker process could not check it", exc)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)




# -- a Dask distributed cluster -----------------------------------------------------
def _reachable(address: str) -> None:
    """Fail at once on a scheduler nobody listens at (Dask would retry for its
    whole timeout)."""
    match = re.fullmatch(r"(?:tcp://)?\[?([^\]]+?)\]?:(\d+)", address.strip())
    if not match:
        raise ExecutorError(f"--scheduler {address!r}: expected tcp://HOST:PORT")
    try:
        socket.create_connection((match[1], int(match[2])), timeout=5).close()
    except OSError as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {address}: "
                            f"{exc.strerror or exc}") from exc


def on_dask(items: Iterable[Item], settings: FileSettings, address: str
            ) -> Iterator[tuple[int, FileResult]]:
    """On the workers of a Dask scheduler. They must see the same paths (a
    shared file system) and have rtconform and the engines installed; the
    settings go to every worker once."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise ExecutorError("--scheduler needs Dask distributed: "
                            "pip install 'rtconform[dask]'") from exc
    _reachable(address)
    try:
        client = Client(address, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client:
        workers = max(1, sum(client.nthreads().values()))
        shared = client.scatter(settings, broadcast=True)
        source = batches(items, DASK_BATCH)
        submitted: dict[str, Batch] = {}

        def submit() -> object | None:
            batch = next(source, None)
            if batch is None:
                return None
            future = client.submit(check_batch_on_dask, batch, shared, pure=False)
            submitted[future.key] = batch
            return future

        first = [f for f in (submit() for _ in range(workers * BATCHES_IN_FLIGHT)) if f]
        if not first:
            return
        running = as_completed(first)
        try:
            for future in running:
                batch = submitted.pop(future.key)
                try:
                    done = [(index, FileResult.from_wire(text))
                            for index, text in future.result()]
                except Exception as exc:  # KilledWorker and the like: the files are named
                    why = f"the Dask task failed: {type(exc).__name__}: {exc}"
                    done = [(index, not_checked(path, why)) for index, path in batch]
                future.release()
                yield from done
                if (following := submit()) is not None:
                    running.add(following)
        finally:
            for future in list(running.futures):
                future.cancel()
