"""Job lists, the order of rows, and the batch command's errors (no Ray needed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.batch import read_rows
from core.batch.execute import Outcome
from core.batch.plan import Plan
from core.errors import DubError
from tests.conftest import REPO


def test_a_csv_list_becomes_job_specs_with_paths_beside_the_list(tmp_path):
    (tmp_path / "script.txt").write_text("Hello there.")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("kind,project,audio,text,voice,rate,out,minutes,draft,device\n"
                    "train-renderer,p1,,,,,,12.5,,gpu\n"
                    "dub,p1,speech.wav,,,,out/a.mp4,,TRUE,\n"
                    "\n"
                    "dub,/abs/p2,,script.txt,en_US-joe-medium,1.2,out/b.mp4,,no,cpu\n")
    rows = read_rows(jobs)
    assert [r.number for r in rows] == [1, 2, 3]
    train, dub, text = (r.spec for r in rows)
    assert train.kind == "train-renderer" and train.minutes == 12.5 and train.renderer_profile == "gpu"
    assert dub.project_dir == tmp_path / "p1" and dub.audio == tmp_path / "speech.wav" and dub.draft is True
    assert dub.out == tmp_path / "out" / "a.mp4"
    assert text.project_dir.as_posix() == "/abs/p2" and text.rate == 1.2 and text.draft is False
    assert text.text == str(tmp_path / "script.txt") and text.torch_device == "cpu"


@pytest.mark.parametrize("content, said", [
    ("kind,project,out,colour\ndub,p,o.mp4,red\n", "unknown column(s) 'colour'"),
    ("kind,project,audio,out\ndub,p,a.wav,o.mp4\nsing,p,a.wav,o.mp4\n", "row 2 (line 3): unknown kind 'sing'"),
    ("kind,project,audio,out,rate\ndub,p,a.wav,o.mp4,fast\n", "row 1 (line 2): rate must be a number"),
    ("kind,project,audio,out,draft\ndub,p,a.wav,o.mp4,maybe\n", "draft must be true or false"),
    ("kind,project,out\ndub,p,o.mp4\n", "needs either audio (a file) or text"),
    ("kind,project\nrun,p\n", "a run job needs video and audio and out"),
    ("kind,project,video,crop_size\nprepare,p,v.mp4,big\n", "crop size must be 'auto' or a number"),
])
def test_a_bad_row_is_an_error_naming_it(tmp_path, content, said):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(content)
    with pytest.raises(DubError, match=".*") as caught:
        read_rows(jobs)
    assert said in str(caught.value) and "jobs.csv" in str(caught.value)


def test_a_crop_size_column_chooses_the_crops_and_auto_keeps_old_records_valid(tmp_path):
    from core.batch.records import identity
    from core.crop_size import AUTO

    jobs = tmp_path / "jobs.csv"
    jobs.write_text("kind,project,video,crop_size\nprepare,p,v.mp4,auto\nprepare,q,v.mp4,384\nprepare,r,v.mp4,\n")
    auto, fixed, default = (r.spec for r in read_rows(jobs))
    assert auto.crop_size == AUTO == default.crop_size and fixed.crop_size == 384
    # A record written before 'auto' (crop_size 256, the old default) is the same job as auto now.
    assert identity(auto) == identity(auto.replace(crop_size=256)) != identity(auto.replace(crop_size=384))


def test_a_json_list_names_the_row_with_an_unknown_key(tmp_path):
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps([{"kind": "prepare", "project": "p", "video": "v.mp4"},
                                {"kind": "dub", "project": "p", "audio": "a.wav", "out": "o.mp4", "speed": 2}]))
    with pytest.raises(DubError) as caught:
        read_rows(jobs)
    assert "row 2: unknown key(s) 'speed'" in str(caught.value)


def test_rows_of_one_project_run_in_order_and_projects_side_by_side(tmp_path):
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps([
        {"kind": "train-audio", "project": "a"}, {"kind": "dub", "project": "a", "audio": "1.wav", "out": "1.mp4"},
        {"kind": "dub", "project": "b", "audio": "2.wav", "out": "2.mp4"},
        {"kind": "dub", "project": "a", "audio": "3.wav", "out": "3.mp4"},
        {"kind": "dub", "project": "b", "audio": "4.wav", "out": "4.mp4"}]))
    plan = Plan(read_rows(jobs))
    first = plan.ready()
    assert [r.number for r in first] == [1, 3]
    assert plan.ready() == []  # both projects busy
    assert plan.finished(first[1], Outcome("failed", error="bad audio")) == []  # a failed dub blocks nothing
    assert [r.number for r in plan.ready()] == [5]
    blocked = plan.finished(first[0], Outcome("failed", error="disk full"))
    assert [(r.number, o.status) for r, o in blocked] == [(2, "blocked"), (4, "blocked")]
    assert "row 1 (train-audio)" in blocked[0][1].error
    assert plan.ready() == [] and plan.remaining() == []


def test_an_unreachable_address_is_a_one_line_error(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("kind,project,audio,out\ndub,p,a.wav,o.mp4\n")
    out = subprocess.run([sys.executable, "main.py", "batch", str(jobs), "--report", str(tmp_path / "r"),
                          "--address", "127.0.0.1:9"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach a Ray cluster at 127.0.0.1:9")
    assert "ray start --head" in lines[0]


def test_the_cli_and_batch_build_the_same_job(tmp_path, monkeypatch):
    """No second code path: the CLI's dub command hands core.commands the same spec a batch row makes."""
    import core.commands
    import main

    seen = []
    monkeypatch.setattr(core.commands, "build_job", lambda spec, project=None: seen.append(spec) or iter(()))
    main.main(["dub", "--project", str(tmp_path / "p"), "--audio", str(tmp_path / "a.wav"),
               "--out", str(tmp_path / "o.mp4"), "--draft"])
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(f"kind,project,audio,out,draft\ndub,p,a.wav,o.mp4,true\n")
    assert seen == [read_rows(jobs)[0].spec]


def test_one_worker_takes_the_projects_in_turns(tmp_path):
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps([{"kind": "dub", "project": p, "audio": f"{n}.wav", "out": f"{n}.mp4"}
                                for n, p in enumerate("aab", 1)]))
    plan = Plan(read_rows(jobs))
    order = []
    while (row := plan.take_one()) is not None:
        order.append(row.number)
        plan.finished(row, Outcome("done"))
    assert order == [1, 3, 2]


def test_the_storage_check_names_a_node_that_sees_another_folder(tmp_path):
    """What each node runs: a missing input and a token file that reads differently are named."""
    from core.batch.storage import probe_storage

    token = tmp_path / ".portrait-dub-storage-check-x"
    token.write_text("written by this node, not by the driver")
    problems = probe_storage([str(tmp_path / "lesson1.wav")], {str(token): "the driver's token"})
    assert len(problems) == 2
    assert "does not see" in problems[0] and "lesson1.wav" in problems[0]
    assert "not shared storage" in problems[1] and str(tmp_path) in problems[1]
    assert probe_storage([str(token)], {str(token): token.read_text()}) == []
