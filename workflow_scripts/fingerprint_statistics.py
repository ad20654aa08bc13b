"""Snakemake adapter: the statistics baseline of fingerprinting."""

from memprint.runtime import job
from memprint.stages.fingerprint import fingerprint_statistics

run = job(snakemake)
features = snakemake.params.features
fingerprint_statistics(
    snakemake.params.imagesets,
    snakemake.params.architectures,
    snakemake.params.runs,
    snakemake.input.test,
    snakemake.params.protocol,
    snakemake.output[0],
    inception=snakemake.input.get("inception"),
    encoder=None if features == "inception" else features,
    embeddings=snakemake.params.embeddings or None,
    device=run.device,
)
