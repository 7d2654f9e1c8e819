"""Small reusable widgets: image view, frame viewer, loss plot, waveform, level meter, progress."""
