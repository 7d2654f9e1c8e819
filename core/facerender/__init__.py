"""The face render: the fitted 3D face drawn into each frame's crop and how its pixels go back.

render.py    FaceRenderer: renders of the fitted face and the masks (paper 3.3), what the neural
             renderer and every lower face read
draft.py     the draft warp: a frame's own lower face moved along the fitted mesh
composite.py pasting a generated crop back into the full frame (colour match, blend)
overlays.py  inspection drawings over a frame (landmarks, mesh, masks) for the app
"""
