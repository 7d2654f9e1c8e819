"""Evaluation: how good a trained project is and how fast the pipeline runs.

evaluate.py       self-reenactment on the held-out tail (paper section 5): image and lip figures
voice_transfer.py other people's talking videos drive the audio model; mouth opening correlated
benchmark.py      per-stage speed and peak memory on one clip
"""
