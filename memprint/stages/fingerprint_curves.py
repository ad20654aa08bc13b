"""The C_T-layer curves of one generator's fingerprint protocol sets (the paper's Table 1 protocol: a target set
and nested reference sets per seeded split), under every C_T setting."""

from __future__ import annotations

import logging
import time

import pandas as pd

from memprint import MemprintError
from memprint.embedding_files import read_embeddings
from memprint.fingerprint import protocol_sets
from memprint.io import write_csv
from memprint.runtime import resolve_device
from memprint.stages.ct import load_ct_reference, score_layers

log = logging.getLogger(__name__)
CURVE_COLUMNS = ["layer", "layer_name", "ct", "encoder", "generator", "architecture", "run", "split", "role"]
CURVE_COLUMNS += ["set_size", "n_samples", "seconds"]


def fingerprint_curves(
    references: list[str],
    train_emb: str,
    generated_emb: str,
    encoder: str,
    generator: str,
    architecture: str,
    run: str,
    protocol: dict,
    outs: list[str],
    device: str = "auto",
) -> None:
    """C_T-layer curves of one generator's target and reference sets over the protocol's seeded splits, under
    each C_T setting (one reference file and one output each). A set C_T cannot score (no cell holds enough of
    its images) leaves the generator out of that setting's fingerprint: its file has no rows and says why."""
    train, generated = read_embeddings(train_emb), read_embeddings(generated_emb)
    dev = resolve_device(device)
    for reference, out in zip(references, outs, strict=True):
        refs, settings = load_ct_reference(reference, train)
        frames, left_out = [], ""
        for split, role, idx in protocol_sets(len(generated.image_ids), protocol):
            started = time.perf_counter()
            try:
                df, _, _ = score_layers(refs, train.layer_names, [layer[idx] for layer in generated.layers], dev)
            except MemprintError as error:
                left_out = (
                    f"its {role} set of {len(idx)} images (split {split}) has no C_T score ({error}); raise "
                    "fingerprint.target_size / reference_sizes to include it"
                )
                log.warning("%s left out of the fingerprint: %s", generator, left_out)
                frames = []
                break
            frames.append(
                df[["layer", "layer_name", "ct"]].assign(
                    encoder=encoder,
                    generator=generator,
                    architecture=architecture,
                    run=run,
                    split=split,
                    role=role,
                    set_size=len(idx),
                    n_samples=len(generated.image_ids),
                    seconds=time.perf_counter() - started,
                )
            )
        write_csv(
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CURVE_COLUMNS),
            out,
            {
                "generator": generator,
                "left_out": left_out,
                "generated_embeddings": generated_emb,
                "ct_settings": settings.__dict__,
                "protocol": protocol,
                **{k: generated.attrs.get(k) for k in ("weights_source", "weights_sha256")},
            },
        )
