"""Snakemake adapter: one generator's copies, per image, layer and transform, and one flag per image."""

from memprint.runtime import job
from memprint.stages.copies import find_copies
from memprint.transforms import TRAINING_SIDE

run = job(snakemake)
labels = snakemake.params.transforms
edited = dict(zip([t for t in labels if t.startswith(TRAINING_SIDE)], snakemake.input.train_edited))
files = zip(labels, snakemake.input.generated, snakemake.input.test)
given = snakemake.input
find_copies(
    reference=snakemake.input.reference,
    train=snakemake.input.train,
    test=snakemake.input.test[0],
    generated=snakemake.input.generated[0],
    transformed={
        t: {"generated": q, "test": None if t == "identity" else p, "train": edited.get(t)} for t, q, p in files
    },
    level=snakemake.params.level,
    statistic=snakemake.params.statistic,
    layers_out=snakemake.output.layers,
    images_out=snakemake.output.images,
    device=run.device,
    pixels=snakemake.params.pixels,
    imagesets={"train": given.train_imageset, "test": given.test_imageset, "generated": given.generated_imageset},
)
