"""The score-layer curves of one generator's fingerprint protocol sets (the paper's Table 1 protocol: a target set
and nested reference sets per seeded split), under every configured score."""

from __future__ import annotations

import logging
import time

import pandas as pd

from memprint import MemprintError
from memprint.embedding_files import read_embeddings
from memprint.fingerprint import protocol_sets
from memprint.io import write_csv
from memprint.runtime import resolve_device
from memprint.scores import score
from memprint.stages.scores import load_reference

log = logging.getLogger(__name__)
CURVE_COLUMNS = [
    "layer",
    "layer_name",
    "value",
    "score",
    "encoder",
    "generator",
    "architecture",
    "run",
    "split",
    "role",
]
CURVE_COLUMNS += ["set_size", "n_samples", "seconds"]


def fingerprint_curves(
    *,
    references: dict[str, str],
    train: str,
    test: str,
    generated: str,
    scores: dict[str, dict],
    encoder: str,
    generator: str,
    architecture: str,
    run: str,
    protocol: dict,
    curves: dict[str, str],
    device: str = "auto",
) -> None:
    """Score-layer curves of one generator's target and reference sets over the protocol's seeded splits, under
    every score (``curves[name]`` each). A set a score cannot score (no C_T cell holds enough of its images)
    leaves the generator out of that score's fingerprint: its file has no rows and says why."""
    train_emb, test_emb, gen_emb = read_embeddings(train), read_embeddings(test), read_embeddings(generated)
    dev = resolve_device(device)
    for name, spec in scores.items():
        kind = score(name, spec)
        states, _ = load_reference(references[name], train_emb)
        frames, left_out = [], ""
        for split, role, idx in protocol_sets(len(gen_emb.image_ids), protocol):
            started = time.perf_counter()
            try:
                values = [
                    kind.score(state, t, p, q[idx], dev, layer).value
                    for layer, state, t, p, q in zip(
                        train_emb.layer_names, states, train_emb.layers, test_emb.layers, gen_emb.layers
                    )
                ]
            except MemprintError as error:
                left_out = (
                    f"its {role} set of {len(idx)} images (split {split}) has no {name} score ({error}); raise "
                    "fingerprint.target_size / reference_sizes to include it"
                )
                log.warning("%s left out of the fingerprint: %s", generator, left_out)
                frames = []
                break
            frames.append(
                pd.DataFrame(
                    {"layer": range(len(values)), "layer_name": train_emb.layer_names, "value": values}
                ).assign(
                    score=name,
                    encoder=encoder,
                    generator=generator,
                    architecture=architecture,
                    run=run,
                    split=split,
                    role=role,
                    set_size=len(idx),
                    n_samples=len(gen_emb.image_ids),
                    seconds=time.perf_counter() - started,
                )
            )
        write_csv(
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CURVE_COLUMNS),
            curves[name],
            {
                "generator": generator,
                "score": name,
                "left_out": left_out,
                "generated_embeddings": generated,
                "settings": kind.settings(),
                "protocol": protocol,
                **{k: gen_emb.attrs.get(k) for k in ("weights_source", "weights_sha256")},
            },
        )
