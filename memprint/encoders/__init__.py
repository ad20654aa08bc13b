"""A registry of encoders whose every layer is read in ONE forward pass (forward hooks on the blocks).

One small class per model family adds an encoder (as in torch-fidelity's feature-extractor registry):

* ``trained_vit``: a small ViT that the pipeline trains itself on the training set (no download);
* ``timm``: a timm Vision Transformer by name (``vit_base_patch16_224``, DeiT, DINO ...);
* ``open_clip``: the visual tower of an open_clip model (``ViT-B-32`` ...);
* ``hf``: a Hugging Face ``transformers`` vision model by hub id or local folder (ViT, DINOv2 ...);
* ``torchvision_vit`` / ``torchvision_cnn``: torchvision's ``vit_b_16`` ..., ResNet stages, Inception v3 blocks.

Layers: ``patch_embed`` (layer 0: the mean of the patch tokens entering the first block; the CLS token there is
the same for every image and carries no image information), then ``blocks.00`` ... : each block's output token
pooled as ``cls`` (default) or ``mean`` of the patch tokens, before the final norm.

Weights: a state-dict file (made by the pipeline's training or download rule, or the user's own), or random
initialisation when ``weights: random`` is asked for explicitly (a warning says so, and so does every output).
"""

from memprint.encoders import hf_vit, open_clip_vit, small_vit, timm_vit, torchvision_models  # noqa: F401 - kinds
from memprint.encoders.base import (
    Encoder,
    Preprocess,
    load_encoder,
    save_weights,
    weights_source,
)
from memprint.encoders.embedding import embed_images

__all__ = ["Encoder", "Preprocess", "embed_images", "load_encoder", "save_weights", "weights_source"]
