"""The project: one folder per target actor (folder.py: the manifest and its stage records), the
video it was made from (fingerprint.py, relink.py), and what the stages keep in it (history.py,
takes.py, provenance.py, disk_need.py). Project files are data: their formats never change here."""

from core.project.fingerprint import file_fingerprint
from core.project.folder import CONSENT_TEXT, MANIFEST_NAME, Project

__all__ = ["CONSENT_TEXT", "MANIFEST_NAME", "Project", "file_fingerprint"]
