"""The task runner's contract: the result, or the error, reaches its slot on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from ui.tasks import TaskRunner

Call = tuple[str, object, bool]  # (which slot, its argument, whether on the GUI thread)


def recorder(calls: list[Call], name: str) -> Callable[[object], None]:
    def slot(value: object) -> None:
        calls.append((name, value, threading.current_thread() is threading.main_thread()))

    return slot


@pytest.fixture
def runner(qapp: object) -> Iterator[tuple[TaskRunner, list[BaseException]]]:
    unhandled: list[BaseException] = []
    tasks = TaskRunner(unhandled.append)
    yield tasks, unhandled
    assert tasks.wait_idle(10_000)
    tasks.deleteLater()


def _worker_name() -> str:
    return threading.current_thread().name


@pytest.mark.parametrize("lane", ["read", "write", "long"])
def test_the_result_reaches_its_slot_on_the_gui_thread(
    qtbot: QtBot, runner: tuple[TaskRunner, list[BaseException]], lane: str
) -> None:
    tasks, unhandled = runner
    seen: list[Call] = []
    submit = getattr(tasks, lane)
    submit(_worker_name, recorder(seen, "done"), recorder(seen, "error"))
    qtbot.waitUntil(lambda: tasks.pending == 0)
    assert len(seen) == 1
    slot, worker, on_gui = seen[0]
    assert (slot, on_gui) == ("done", True)
    assert worker != threading.main_thread().name  # the function ran on a worker
    assert unhandled == []


def test_an_error_reaches_the_error_slot_else_the_presenter(
    qtbot: QtBot, runner: tuple[TaskRunner, list[BaseException]]
) -> None:
    tasks, unhandled = runner
    seen: list[Call] = []
    first, second = ValueError("for the slot"), ValueError("for the presenter")

    def fail(exc: BaseException) -> None:
        raise exc

    tasks.write(lambda: fail(first), recorder(seen, "done"), recorder(seen, "error"))
    tasks.write(lambda: fail(second), recorder(seen, "done"))
    qtbot.waitUntil(lambda: tasks.pending == 0)
    assert seen == [("error", first, True)]
    assert unhandled == [second]


def test_a_slot_that_raises_goes_to_the_presenter_and_the_runner_carries_on(
    qtbot: QtBot, runner: tuple[TaskRunner, list[BaseException]]
) -> None:
    tasks, unhandled = runner
    bug = RuntimeError("a bug in a slot")
    seen: list[Call] = []

    def broken(_result: int) -> None:
        raise bug

    tasks.read(lambda: 1, broken)
    tasks.read(lambda: 2, recorder(seen, "done"))
    qtbot.waitUntil(lambda: tasks.pending == 0)
    assert unhandled == [bug]
    assert seen == [("done", 2, True)]


def test_busy_is_said_once_per_burst(qtbot: QtBot, runner: tuple[TaskRunner, list[BaseException]]) -> None:
    tasks, _unhandled = runner
    busy: list[bool] = []
    tasks.busy_changed.connect(busy.append)
    gate = threading.Event()
    tasks.write(lambda: gate.wait(5))
    tasks.write(lambda: None)
    assert tasks.pending == 2
    gate.set()
    qtbot.waitUntil(lambda: tasks.pending == 0)
    assert busy == [True, False]
