"""Snakemake adapter: the claims table: every claim of the paper with a computed verdict, under every C_T setting."""

from memprint.runtime import job
from memprint.stages.claims import claims

job(snakemake)
claims(
    snakemake.params.curve_files,
    snakemake.params.specs,
    snakemake.params.baselines,
    snakemake.params.fingerprint_files,
    snakemake.input.statistics or None,
    snakemake.params.seed,
    snakemake.output.csv,
    snakemake.output.markdown,
)
