"""Built-in backbones; each module registers its spec on import. Torch is imported only by builders."""

from embed.backbones import effnet_frames, flow_motion, tiny3d  # noqa: F401
from embed.backbones import pytorchvideo_hub, torchvision_video, transformers_video  # noqa: F401
