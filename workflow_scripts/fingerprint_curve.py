"""Snakemake adapter: the C_T-layer curves of one generator's fingerprint protocol sets (every C_T setting)."""

from memprint.runtime import job
from memprint.stages.fingerprint_curves import fingerprint_curves

run = job(snakemake)
params = snakemake.params
fingerprint_curves(
    list(snakemake.input.references),
    snakemake.input.train,
    snakemake.input.generated,
    params.encoder,
    params.generator,
    params.architecture,
    params.run,
    params.protocol,
    list(snakemake.output),
    run.device,
)
