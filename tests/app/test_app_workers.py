"""Job workers: progress reaches the GUI thread, cancel closes the job, errors become signals."""

from __future__ import annotations

import threading

import pytest

from app.workers import JobRunner, LatestOnly
from app_fakes import endless_job
from core.errors import MediaError
from core.jobs import ProgressClock


def counting_job(n, main_thread, seen_threads):
    clock = ProgressClock("Counting", n)
    for i in range(n):
        seen_threads.append(threading.get_ident() != main_thread)
        yield clock.step(i + 1, losses={"l1": 1.0 / (i + 1)})
    return n * 10


def test_progress_and_result_arrive_in_the_gui_thread(qtbot):
    runner = JobRunner()
    main = threading.get_ident()
    in_worker, records, slots_in_gui = [], [], []
    runner.progress.connect(lambda name, p: (records.append(p), slots_in_gui.append(threading.get_ident() == main)))
    with qtbot.waitSignal(runner.finished_ok, timeout=10000) as result:
        runner.start("count", lambda: counting_job(5, main, in_worker))
    assert result.args == ["count", 50]
    qtbot.waitUntil(lambda: not runner.is_running())
    assert [p.step for p in records] == [1, 2, 3, 4, 5]
    assert all(in_worker) and len(in_worker) == 5  # the job ran off the GUI thread
    assert all(slots_in_gui)  # and the page saw its records on the GUI thread


def test_cancel_closes_the_job_generator(qtbot):
    runner = JobRunner()
    closed, stepped = threading.Event(), threading.Event()
    runner.start("endless", lambda: endless_job(closed, stepped))
    qtbot.waitUntil(stepped.is_set, timeout=5000)
    with qtbot.waitSignals([runner.cancelled, runner.stopped], timeout=10000):
        runner.cancel("endless")
    assert closed.is_set()  # the job's finally block ran (checkpoints and temp files are its business)
    assert not runner.is_running()


def test_a_dub_error_becomes_a_failed_signal(qtbot):
    runner = JobRunner()

    def failing():
        yield ProgressClock("Reading", 1).step(0)
        raise MediaError("bad.wav: the audio track is empty. Choose a recording with speech.")

    with qtbot.waitSignal(runner.failed, timeout=10000) as failed:
        runner.start("fail", failing)
    name, exc = failed.args
    assert name == "fail" and isinstance(exc, MediaError) and "Choose a recording" in str(exc)
    qtbot.waitUntil(lambda: not runner.is_running())


def test_pause_holds_the_job_and_resume_continues(qtbot):
    """Steps are counted where the job takes them and where the GUI receives them: none between the
    paused signal and the resume, and after it the count goes on from where it stood."""
    runner = JobRunner()
    closed, stepped = threading.Event(), threading.Event()
    taken, received = [], []

    def counted():
        for record in endless_job(closed, stepped):
            taken.append(record.step)
            yield record

    runner.progress.connect(lambda name, p: received.append(p.step))
    runner.start("endless", counted)
    qtbot.waitUntil(lambda: len(received) >= 3, timeout=5000)
    with qtbot.waitSignal(runner.paused, check_params_cb=lambda n, p: n == "endless" and p, timeout=5000):
        runner.pause("endless")
    at_pause = len(taken)
    qtbot.waitUntil(lambda: len(received) == at_pause, timeout=5000)  # what was sent before arrives
    qtbot.wait(300)  # an unpaused job takes a step every 10 ms
    assert len(taken) == at_pause and len(received) == at_pause  # paused: no step taken, none arrived
    with qtbot.waitSignal(runner.paused, check_params_cb=lambda n, p: not p, timeout=5000):
        runner.resume("endless")
    qtbot.waitUntil(lambda: len(received) >= at_pause + 3, timeout=5000)
    assert received[:at_pause + 3] == list(range(1, at_pause + 4))  # it goes on, no step lost
    with qtbot.waitSignal(runner.stopped, timeout=10000):
        runner.cancel("endless")
    assert closed.is_set()


def test_two_jobs_of_one_name_are_refused(qtbot):
    runner = JobRunner()
    closed, stepped = threading.Event(), threading.Event()
    first = runner.start("endless", lambda: endless_job(closed, stepped))
    second_made = threading.Event()

    def second():
        second_made.set()
        return endless_job(threading.Event())

    with pytest.raises(RuntimeError, match="job 'endless' is already running"):
        runner.start("endless", second)
    # The running job is kept and still steps; the refused one was never made.
    assert runner.jobs == {"endless": first}
    stepped.clear()
    qtbot.waitUntil(stepped.is_set, timeout=5000)
    assert not second_made.is_set()
    with qtbot.waitSignal(runner.stopped, timeout=10000):
        runner.cancel_all()
    assert closed.is_set() and not second_made.is_set()


def test_latest_only_skips_stale_requests(qtbot):
    runs = LatestOnly()
    gate, done = threading.Event(), []
    runs.done.connect(lambda key, value: done.append((key, value)))
    runs.request(0, lambda: (gate.wait(5), "first")[1])
    for i in range(1, 6):
        runs.request(i, lambda i=i: f"value {i}")
    gate.set()
    qtbot.waitUntil(lambda: not runs.busy and len(done) == 2, timeout=5000)
    # The first call was already running; of the five queued behind it only the newest ran.
    assert done == [(0, "first"), (5, "value 5")]
