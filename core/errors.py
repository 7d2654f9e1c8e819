"""The project's own error types.

Every error a user can cause (a bad file, a damaged project, missing weights) is a DubError whose
message says what is wrong and what to do; the CLI prints it and the GUI shows it in a dialog.
"""


class DubError(Exception):
    """An error with a message meant for the user."""


class MediaError(DubError):
    """A media file cannot be opened, decoded or written."""


class ProjectError(DubError):
    """A project folder is missing, damaged, of another format, or not ready for a step."""


class MissingWeightsError(DubError):
    """Optional model weights are not on this machine."""


class JobCancelled(Exception):
    """Raised inside a job when the user asked it to stop; not an error."""
