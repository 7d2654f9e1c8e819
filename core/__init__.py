"""portrait-dub core: the dubbing pipeline (media, tracking, face model, audio, networks, dubbing).

Never imports Qt: the GUI (app/) and the command line (main.py) both run these jobs.
"""

APP_NAME = "portrait-dub"
__version__ = "0.1.0"
