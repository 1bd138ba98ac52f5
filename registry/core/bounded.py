"""Work on untrusted input in a child process bounded in CPU time and memory.

Parsers of crafted files can take far longer, or far more memory, than the size of the
file suggests (a PDF's chain of cross-reference sections, an object stream of a million
objects), and a pure-Python parser cannot be interrupted from another thread. The work
runs instead in a child process with ``RLIMIT_CPU`` and ``RLIMIT_AS`` set: past either,
the child dies or fails, and the caller gets :class:`WorkTooLarge`. The request thread
only waits, and whatever the parser allocated is returned with the child.

Children are forked from a fork server (a process of their own, started once per worker
on first use, single-threaded, preloaded with the module of the first function it
runs), never from the threaded worker itself. Linux: the limits are set from
``/proc/self/statm``.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar, cast

T = TypeVar("T")


class WorkTooLarge(Exception):
    """The work needed more CPU time or memory than it was allowed, or its process died."""


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(
    sender: Connection,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    cpu_seconds: int,
    memory_bytes: int,
) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file when SIGXCPU ends it
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome: tuple[str, Any] = ("done", function(*args))
    except MemoryError:
        outcome = ("too_large", None)
    except Exception:
        outcome = ("failed", traceback.format_exc())
    sender.send(outcome)
    sender.close()


def run_bounded(
    function: Callable[..., T],
    *args: Any,
    cpu_seconds: int,
    memory_bytes: int,
    preload: Sequence[str] = (),
) -> T:
    """``function(*args)`` in a child process allowed ``cpu_seconds`` of CPU time and
    ``memory_bytes`` of memory beyond what it starts with (and three times the CPU time
    on the clock, for a busy machine). ``function`` is a module-level function and its
    arguments and result can be pickled; it returns its verdict rather than raising it:
    an exception it raises is a fault of the code, raised here as a RuntimeError with
    the child's traceback. ``preload``: modules the work imports, which the fork server
    imports once (its module imports them only where they are used, so that the worker
    itself never holds them)."""
    context = multiprocessing.get_context("forkserver")
    # Read when the server starts: the modules it imports once, so that a child starts
    # without importing them. ``__main__`` is multiprocessing's own default, the
    # program's main module, imported (not run: gunicorn's, flask's and pytest's guard
    # themselves, as multiprocessing requires) in the server rather than in every child.
    context.set_forkserver_preload(["__main__", function.__module__, *preload])
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, function, args, cpu_seconds, memory_bytes), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(3 * cpu_seconds):
            raise WorkTooLarge("out of time")
        status, result = receiver.recv()
    except EOFError as error:  # the child died: over its CPU time, killed, crashed
        raise WorkTooLarge("the process ended") from error
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
        process.close()
    if status == "failed":
        raise RuntimeError(f"The bounded work failed:\n{result}")
    if status != "done":
        raise WorkTooLarge("out of memory")
    return cast(T, result)
