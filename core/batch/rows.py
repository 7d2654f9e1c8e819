"""Job lists: a CSV with a header row, or a JSON list of objects, one job each.

Relative paths are relative to the job list's folder. Every row is checked before anything runs;
a bad row (unknown key or kind, a value that is not a number) is an error naming the row.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.commands import KINDS, JobSpec
from core.crop_size import parse_crop_size
from core.errors import DubError

KEYS = ("kind", "project", "video", "audio", "text", "voice", "rate", "out", "minutes", "draft", "device",
        "crop_size", "features", "renderer")
PATH_KEYS = ("project", "video", "audio", "out")
TRUE, FALSE = ("true", "yes", "1", "y"), ("false", "no", "0", "n", "")


@dataclass(frozen=True)
class BatchRow:
    """One job of a list: its number as the user counts (1 = the first job) and what it runs."""

    number: int
    spec: JobSpec

    @property
    def label(self) -> str:
        target = self.spec.out or self.spec.project_dir
        return f"row {self.number} {self.spec.kind} {Path(target).name}"


def read_rows(path: Path | str, consent: bool = False) -> list[BatchRow]:
    """The jobs in ``path`` (.csv or .json). ``consent``: the user confirmed the right to use the
    faces and voices of the projects the list creates."""
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DubError(f"{path}: cannot read the job list ({exc}).") from exc
    if path.suffix.lower() == ".json":
        records = _json_records(path, text)
    elif path.suffix.lower() == ".csv":
        records = _csv_records(path, text)
    else:
        raise DubError(f"{path}: a job list is a .csv or a .json file.")
    if not records:
        raise DubError(f"{path}: the job list holds no jobs.")
    return [BatchRow(n, _spec(path, n, where, record, consent)) for n, (where, record) in enumerate(records, 1)]


def _json_records(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DubError(f"{path}: not valid JSON ({exc}).") from exc
    if isinstance(data, dict) and isinstance(data.get("jobs"), list):
        data = data["jobs"]
    if not isinstance(data, list):
        raise DubError(f"{path}: a JSON job list is a list of objects, one per job.")
    out = []
    for n, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise DubError(f"{path}: row {n} is not an object with keys such as kind, project, out.")
        out.append((f"row {n}", item))
    return out


def _csv_records(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h.lower() not in KEYS]
    if unknown:
        raise DubError(f"{path}: the header (line 1) has unknown column(s) {', '.join(map(repr, unknown))}; "
                       f"the columns are {', '.join(KEYS)}.")
    out = []
    for record in reader:
        if not any((v or "").strip() for k, v in record.items() if k is not None):
            continue  # a blank line
        if None in record:
            raise DubError(f"{path}: row {len(out) + 1} (line {reader.line_num}) has more cells than the "
                           "header has columns.")
        out.append((f"row {len(out) + 1} (line {reader.line_num})",
                    {k.strip().lower(): v for k, v in record.items() if v is not None and v.strip() != ""}))
    return out


def _spec(path: Path, number: int, where: str, record: dict[str, Any], consent: bool) -> JobSpec:
    base = path.parent

    def bad(message: str) -> DubError:
        return DubError(f"{path}: {where}: {message}")

    unknown = [k for k in record if k not in KEYS]
    if unknown:
        raise bad(f"unknown key(s) {', '.join(map(repr, unknown))}; the keys are {', '.join(KEYS)}.")
    kind = str(record.get("kind", "")).strip()
    if kind not in KINDS:
        raise bad(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}." if kind else
                  f"no kind; use one of {', '.join(KINDS)}.")
    values: dict[str, Any] = {"kind": kind, "consent": consent}
    for key in PATH_KEYS:
        if record.get(key) not in (None, ""):
            p = Path(str(record[key])).expanduser()
            values[key] = p if p.is_absolute() else (base / p)
    for key in ("rate", "minutes"):
        if record.get(key) not in (None, ""):
            try:
                number_value = float(record[key])
            except (TypeError, ValueError):
                raise bad(f"{key} must be a number, not {record[key]!r}.") from None
            if not number_value > 0:
                raise bad(f"{key} must be above zero, not {record[key]!r}.")
            values[key] = number_value
    if "draft" in record:
        draft = record["draft"]
        if isinstance(draft, bool):
            values["draft"] = draft
        elif str(draft).strip().lower() in TRUE + FALSE:
            values["draft"] = str(draft).strip().lower() in TRUE
        else:
            raise bad(f"draft must be true or false, not {draft!r}.")
    if record.get("crop_size") not in (None, ""):
        try:
            values["crop_size"] = parse_crop_size(str(record["crop_size"]))
        except ValueError as exc:
            raise bad(f"{exc}.") from None
    for key in ("text", "voice", "device", "features", "renderer"):
        if record.get(key) not in (None, ""):
            values[key] = str(record[key]).strip() if key != "text" else str(record[key])
    if "text" in values and "\n" not in values["text"]:
        script = Path(values["text"].strip()).expanduser()
        if script.suffix.lower() == ".txt" and not script.is_absolute() and (base / script).is_file():
            values["text"] = str(base / script)
    try:
        return JobSpec(**values)
    except DubError as exc:
        raise bad(f"{exc}.") from None
