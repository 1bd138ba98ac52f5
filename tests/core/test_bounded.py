"""Work in a child process bounded in CPU time and memory (``core.bounded``)."""

from __future__ import annotations

import os

import pytest

from registry.core.bounded import WorkTooLarge, run_bounded


def _pid_and_sum(numbers: list[int]) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


def _spin() -> None:
    while True:
        pass


def _allocate(size: int) -> int:
    return len(bytearray(size))


def _fail() -> None:
    raise KeyError("a fault of the code")


def test_the_result_comes_back_from_another_process():
    pid, total = run_bounded(_pid_and_sum, [1, 2, 3], cpu_seconds=5, memory_bytes=2**26)
    assert total == 6 and pid != os.getpid()


def test_work_past_its_cpu_time_is_stopped():
    with pytest.raises(WorkTooLarge):
        run_bounded(_spin, cpu_seconds=1, memory_bytes=2**26)


def test_work_past_its_memory_is_stopped_and_within_it_is_not():
    with pytest.raises(WorkTooLarge):
        run_bounded(_allocate, 2**30, cpu_seconds=5, memory_bytes=2**26)
    assert run_bounded(_allocate, 2**24, cpu_seconds=5, memory_bytes=2**26) == 2**24


def test_a_fault_of_the_code_is_an_error_with_the_childs_traceback():
    with pytest.raises(RuntimeError, match="KeyError: 'a fault of the code'"):
        run_bounded(_fail, cpu_seconds=5, memory_bytes=2**26)
