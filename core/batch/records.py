"""What a finished batch job recorded, so a rerun skips it while nothing it read or wrote changed.

A record lives in the project (batch/<identity>.json) and holds the job's identity (its spec), the
fingerprints of what it read (input files, the stage keys of the models it used) and of what it
made (the output file, or the stage key it trained). A job is skipped when its record exists and
both still match: an edited audio file, a retrained model or a deleted output runs it again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from core.atomic import write_json
from core.commands import KINDS, JobSpec, script_text
from core.crop_size import AUTO
from core.project import MANIFEST_NAME, Project, file_fingerprint

log = logging.getLogger(__name__)

RECORDS_DIR = "batch"
EVALUATION_FILE = Path("evaluation") / "metrics.json"


def identity(spec: JobSpec) -> str:
    """A short hash of what the job is asked to do (not whether it was allowed to create a project)."""
    fields = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(spec).items()
              if k != "consent"}
    fields["project"] = str(spec.project_dir)
    if fields.get("crop_size") == AUTO:
        # Hashed as the old default (256) so records written before "auto" existed stay valid; an
        # auto prepare of an already tracked project keeps its recorded size anyway.
        fields["crop_size"] = 256
    if fields.get("features") is None:
        # Hashed as the old default ("whisper") so records written before the feature registry stay
        # valid; a train-audio job's own stage key still says when its model is out of date.
        fields["features"] = "whisper"
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def record_path(spec: JobSpec) -> Path:
    return spec.project_dir / RECORDS_DIR / f"{identity(spec)}.json"


def fingerprint(path: Path | None) -> dict[str, Any] | None:
    if path is None or not Path(path).is_file():
        return None
    return file_fingerprint(Path(path))


def _stage_keys(project, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: (project.stage(name).key if project.is_current(name) else None) for name in names}


def inputs_of(spec: JobSpec, project) -> dict[str, Any]:
    """What the job reads, as it is now (taken just before it runs)."""
    inputs: dict[str, Any] = {"audio": fingerprint(spec.audio), "video": fingerprint(spec.video)}
    if spec.text is not None:
        inputs["script"] = hashlib.sha256(script_text(spec).encode()).hexdigest()[:16]
    if project is not None:
        inputs["source"] = project.manifest["source"]["fingerprint"]
        inputs["stages"] = _stage_keys(project, KINDS[spec.kind].reads)
    return inputs


def outputs_of(spec: JobSpec, project) -> dict[str, Any] | None:
    """What the job made, as it is now; None when any of it is missing."""
    if spec.kind in ("dub", "run"):
        made = {"out": fingerprint(spec.out)}
    elif spec.kind == "evaluate":
        made = {"metrics": fingerprint(spec.project_dir / EVALUATION_FILE)}
    else:
        made = _stage_keys(project, KINDS[spec.kind].makes) if project is not None else {"stages": None}
    return None if any(v is None for v in made.values()) else made


def write_record(spec: JobSpec, project, inputs: dict[str, Any], finished: str) -> None:
    write_json(record_path(spec), {"identity": identity(spec), "kind": spec.kind, "finished": finished,
                                   "inputs": inputs, "outputs": outputs_of(spec, project)})


def already_done(spec: JobSpec) -> bool:
    """Finished before, and neither what it read nor what it made changed since."""
    path = record_path(spec)
    if not path.is_file() or not (spec.project_dir / MANIFEST_NAME).is_file():
        return False
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        project = Project.open(spec.project_dir)
    except Exception as exc:  # noqa: BLE001 (a damaged record or project: the job runs and says why)
        log.info("record %s unusable (%s): the job runs again", path, exc)
        return False
    outputs = outputs_of(spec, project)
    if outputs is None or record.get("outputs") != outputs:
        return False
    return _comparable(record.get("inputs")) == _comparable(inputs_of(spec, project))


def _comparable(inputs: Any) -> Any:
    return json.loads(json.dumps(inputs, sort_keys=True, default=str)) if inputs is not None else None
