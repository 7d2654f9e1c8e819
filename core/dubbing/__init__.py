"""Dubbing: a trained project made to speak new audio.

dub.py      the dub job: audio (or a script, through core.tts) -> expressions -> lower face ->
            composited frames -> an MP4 marked as synthetic
timeline.py which target frame each output frame shows (ping-pong over the clip)
run_all.py  one command from a video to a dub: prepare, train, then dub
"""
