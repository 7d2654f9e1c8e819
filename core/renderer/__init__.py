"""The neural face renderer (paper 3.3): a U-Net turns 7 masked face renders into a photoreal
lower face. Training: :func:`train_renderer_job`; inference: :class:`NeuralRenderer`."""

from core.renderer.config import RendererTrainConfig
from core.renderer.inference import NeuralRenderer
from core.renderer.train import RendererTrainResult, train_renderer_job
from core.renderer.window import CropWindow

__all__ = ["RendererTrainConfig", "train_renderer_job", "RendererTrainResult", "NeuralRenderer",
           "CropWindow"]
