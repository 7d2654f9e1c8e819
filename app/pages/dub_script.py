"""The Dub page's script part: a typed script spoken by an offline voice, loaded like any audio.

A mixin of DubPage (app/pages/dub.py): it runs the SPEAK_JOB and hands the spoken WAV to the audio
part's ``load_audio``.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QSizePolicy

from app import jobs
from app.dialogs import show_error
from app.widgets.script_editor import ScriptEditor

log = logging.getLogger(__name__)

SPEAK_JOB = "speak"


class DubScript:
    def _build_script(self) -> ScriptEditor:
        session = self.session
        self.script = ScriptEditor()
        self.script.settings = session.settings  # where its voice-file dialog opens
        self.script.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # no gaps
        self.script.speak_requested.connect(self.speak)
        self.script.cancel_requested.connect(lambda: session.runner.cancel(SPEAK_JOB))
        return self.script

    def refresh_voices(self) -> None:
        try:
            voices = jobs.voices()
        except Exception as exc:  # noqa: BLE001  (speaking then names the problem in a dialog)
            log.warning("no voices listed: %s", exc)
            voices = []
        self.script.set_voices(voices)

    def speak(self) -> None:
        """Synthesise the script in a worker; the speech then loads like any audio file."""
        project = self.session.project
        if project is None or self.session.runner.is_running():
            return
        self.stop_playing()
        text, voice, rate = self.script.script(), self.script.voice(), self.script.rate()
        self.script.show_message("Speaking the script...", done=False)
        self.session.runner.start(SPEAK_JOB, lambda: jobs.speak(project, text, voice, rate))
        self.script.set_running(True)

    def _on_spoken(self, result) -> None:
        speech = result.speech
        note = f"; left out (unspeakable): {' '.join(speech.skipped)}" if speech.skipped else ""
        self.script.show_message(f"{speech.duration_s:.1f} s of speech{note}", done=True)
        self.load_audio(result.path, source="script")

    # ---- the SPEAK_JOB, as the page's job hooks hand it over -----------------------------------------
    def _speak_failed(self, exc) -> None:
        self.script.show_message("The script was not spoken.", done=False)
        show_error(self, exc, "The script could not be spoken")

    def _speak_cancelled(self) -> None:
        self.script.show_message("Speaking cancelled; the audio is unchanged.", done=False)
