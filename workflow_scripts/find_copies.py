"""Snakemake adapter: one generator's copies, per image, layer and transform, and one flag per image."""

from memprint.runtime import job
from memprint.stages.copies import find_copies

run = job(snakemake)
transforms = snakemake.params.transforms
files = zip(transforms, snakemake.input.generated, snakemake.input.test)
find_copies(
    reference=snakemake.input.reference,
    train=snakemake.input.train,
    generated=snakemake.input.generated[0],
    transformed={t: {"generated": q, "test": None if t == "identity" else p} for t, q, p in files},
    level=snakemake.params.level,
    layers_out=snakemake.output.layers,
    images_out=snakemake.output.images,
    device=run.device,
)
