"""Running an encoder over an image array in batches, with the writes overlapping the compute."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from memprint.encoders.base import Encoder
from memprint.runtime import autocast

if TYPE_CHECKING:
    import torch


def embed_images(
    encoder: Encoder,
    images: np.ndarray,
    batch_size: int,
    device: torch.device,
    start: int = 0,
    on_batch=None,
    progress: bool = True,
):
    """Run ``images[start:]`` through ``encoder`` in batches; ``on_batch(first_row, per_layer_arrays)``.

    Runs under the process's precision (``memprint.runtime.autocast``). ``on_batch`` runs in one writer thread,
    in batch order, while the next batch computes; on CUDA uploads come from pinned memory and downloads are
    asynchronous, so the GPU does not wait for the host. At most one batch waits for its write, so a caller can
    checkpoint after each.
    """
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from tqdm import tqdm

    cuda = device.type == "cuda"
    bar = tqdm(total=len(images), initial=start, unit="img", disable=not progress, mininterval=5)

    def deliver(first: int, outputs: list[torch.Tensor], ready) -> None:
        if ready is not None:
            ready.synchronize()
        on_batch(first, [out.numpy() for out in outputs])
        bar.update(len(outputs[0]))

    pending = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding-writer") as writer:
        for first in range(start, len(images), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(images[first : first + batch_size]))
            batch = batch.pin_memory().to(device, non_blocking=True) if cuda else batch.to(device)
            with autocast(device):
                layers = encoder.layer_embeddings(batch)
            outputs = [layer.to("cpu", non_blocking=cuda) for layer in layers]
            ready = torch.cuda.Event() if cuda else None
            if ready is not None:
                ready.record()
            if pending is not None:
                pending.result()  # the previous write finished (its error, if any, raised here)
            pending = writer.submit(deliver, first, outputs, ready)
        if pending is not None:
            pending.result()
    bar.close()
