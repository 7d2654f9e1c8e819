"""Compute that runs on the CPU or CUDA alike (rasteriser, shading, device selection).

Never imports the pipeline (core/) or Qt.
"""
