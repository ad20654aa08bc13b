"""Snakemake adapter: a classifier baseline of fingerprinting."""

from memprint.runtime import job
from memprint.stages.fingerprint import fingerprint_classifier

run = job(snakemake)
fingerprint_classifier(
    snakemake.params.name,
    snakemake.params.spec,
    snakemake.params.imagesets,
    snakemake.params.architectures,
    snakemake.params.runs,
    snakemake.params.protocol,
    snakemake.output[0],
    snakemake.input.weights or None,
    run.device,
)
