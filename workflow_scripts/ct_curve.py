"""Snakemake adapter: one generator's C_T-layer curves (every C_T setting), its per-sample copies and the curves
of its fingerprint protocol sets."""

from memprint.runtime import job
from memprint.stages.ct import ct_curve
from memprint.stages.fingerprint import fingerprint_curves

run = job(snakemake)
references, params = list(snakemake.input.references), snakemake.params
ct_curve(
    references,
    snakemake.input.train,
    snakemake.input.generated,
    list(snakemake.output.curves),
    list(snakemake.output.replicates),
    params.generator,
    params.intervals,
    run.device,
    snakemake.output.copies,
    params.copy_threshold,
)
if snakemake.output.fingerprints:
    fingerprint_curves(
        references,
        snakemake.input.train,
        snakemake.input.generated,
        params.encoder,
        params.generator,
        params.architecture,
        params.run,
        params.protocol,
        list(snakemake.output.fingerprints),
        run.device,
    )
