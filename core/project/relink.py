"""Finding a project's video again after it was moved (renamed folder, another drive, the project
copied to another machine), and pointing the project at it. A file counts as the project's video only
if its fingerprint (size and hashes of its first and last MiB) matches the one taken at creation."""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import ProjectError
from core.project.fingerprint import file_fingerprint

log = logging.getLogger(__name__)


def candidate_paths(project) -> list[Path]:
    """Where a moved video is looked for, in order: the same path relative to the project as when it
    was last seen, beside the project folder, and inside it."""
    source = project.manifest["source"]
    name = Path(source["path"]).name
    paths = []
    relative = source.get("relative_path")
    if relative:
        paths.append(project.root / relative)
    paths += [project.root.parent / name, project.root / name]
    unique: list[Path] = []
    for path in paths:
        path = Path(path).resolve()
        if path not in unique:
            unique.append(path)
    return unique


def matches(project, path: Path) -> bool:
    """True if ``path`` is the video this project was made from (its fingerprint matches)."""
    expected = project.manifest["source"]["fingerprint"]
    try:
        if not path.is_file() or path.stat().st_size != expected.get("size"):
            return False  # cheap refusal before hashing
        return file_fingerprint(path) == expected
    except OSError:
        return False


def find_moved_source(project) -> Path | None:
    """The first candidate path holding the project's video, or None."""
    for path in candidate_paths(project):
        if matches(project, path):
            return path
    return None


def relink(project, video: Path | str) -> Path:
    """Point ``project`` at ``video`` (saved in the manifest) after checking it is the same video.

    Raises ProjectError, saying what differs, for a missing file or another video."""
    video = Path(video).expanduser().resolve()
    if not video.is_file():
        raise ProjectError(f"{video}: there is no file here. Choose the project's video.")
    expected = project.manifest["source"]["fingerprint"]
    if not matches(project, video):
        size = video.stat().st_size
        detail = (f"it is {size:,} bytes, the project's video was {expected.get('size', 0):,}"
                  if size != expected.get("size") else "its contents differ")
        original = Path(project.manifest["source"]["path"]).name
        raise ProjectError(f"{video.name} is not the video this project was made from ({detail}). "
                           f"Choose the original video ({original}), even if renamed; a re-encoded "
                           "or edited copy does not fit the trained models.")
    project.manifest["source"]["path"] = str(video)
    project.manifest["source"]["fingerprint"] = file_fingerprint(video)
    project.save()
    log.info("project %s relinked to %s", project.root, video)
    return video


def relink_if_found(project) -> Path | None:
    """If the project's video is missing but a candidate path holds it, relink to it; the new path
    or None. A read-only project still opens: the found path is then used without being saved."""
    source = project.manifest.get("source")
    if not (isinstance(source, dict) and isinstance(source.get("path"), str)
            and isinstance(source.get("fingerprint"), dict) and isinstance(source.get("relative_path", ""), str)):
        return None  # a damaged source section: the stage that needs the video says so
    if Path(source["path"]).exists():
        return None
    found = find_moved_source(project)
    if found is None:
        return None
    old = project.manifest["source"]["path"]
    try:
        relink(project, found)
    except ProjectError as exc:  # saving failed (read-only folder): use it for this session
        log.warning("found the video at %s but could not save the project: %s", found, exc)
        project.manifest["source"]["path"] = str(found)
    log.info("the project's video moved from %s; found it at %s", old, found)
    return found
