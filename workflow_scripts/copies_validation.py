"""Snakemake adapter: planted copies edited six ways among a perfect generator's samples, against two baselines."""

from memprint.runtime import job
from memprint.stages.copies import copies_validation
from memprint.transforms import TRAINING_SIDE

run = job(snakemake)
transforms, given = snakemake.params.transforms, snakemake.input
copies_validation(
    reference=given.reference,
    train=given.train,
    test=given.test[0],
    fresh=given.fresh_images,
    images={"train": given.train_images, "test": given.test_images, "fresh": given.fresh_images},
    transformed_test={t: None if t == "identity" else path for t, path in zip(transforms, given.test)},
    train_edited=dict(zip([t for t in transforms if t.startswith(TRAINING_SIDE)], given.train_edited)),
    encoder_spec=snakemake.params.spec,
    encoder_weights=given.weights or None,
    settings=snakemake.params.settings,
    level=snakemake.params.level,
    statistic=snakemake.params.statistic,
    out=snakemake.output.table,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    device=run.device,
    batch_size=run.batch_size,
    pixels=snakemake.params.pixels,
)
