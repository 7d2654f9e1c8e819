"""Face tracking: landmarks on every frame, one followed face, stabilised square crops.

Writes into the project: tracking.npz (landmarks, has_face, boxes, fps, frame_size, crop_size) and
crops.npy (uint8 (N, S, S, 3) memmap of the stabilised crops).
"""

from core.tracking.store import TRACKING_FILE, CROPS_FILE, Tracking, load_crops, load_tracking
from core.tracking.track import TrackingConfig, tracking_job

__all__ = ["Tracking", "load_tracking", "load_crops", "TrackingConfig", "tracking_job",
           "TRACKING_FILE", "CROPS_FILE"]
