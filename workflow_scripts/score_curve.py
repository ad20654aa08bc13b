"""Snakemake adapter: one generator's curve under every score, with intervals."""

from memprint.runtime import job
from memprint.stages.scores import score_curve

run = job(snakemake)
names = list(snakemake.params.scores)
score_curve(
    references=dict(zip(names, snakemake.input.references)),
    train=snakemake.input.train,
    test=snakemake.input.test,
    generated=snakemake.input.generated,
    curves=dict(zip(names, snakemake.output.curves)),
    replicates=dict(zip(names, snakemake.output.replicates)),
    generator=snakemake.params.generator,
    scores=snakemake.params.scores,
    intervals=snakemake.params.intervals,
    device=run.device,
)
