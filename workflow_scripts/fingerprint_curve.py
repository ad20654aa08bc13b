"""Snakemake adapter: every score's curves of one generator's fingerprint protocol sets."""

from memprint.runtime import job
from memprint.stages.fingerprint_curves import fingerprint_curves

run = job(snakemake)
params = snakemake.params
names = list(params.scores)
fingerprint_curves(
    references=dict(zip(names, snakemake.input.references)),
    train=snakemake.input.train,
    test=snakemake.input.test,
    generated=snakemake.input.generated,
    scores=params.scores,
    encoder=params.encoder,
    generator=params.generator,
    architecture=params.architecture,
    run=params.run,
    protocol=params.protocol,
    curves=dict(zip(names, snakemake.output)),
    device=run.device,
)
