"""Snakemake adapter: the C_T reference fit on T and P, once per C_T setting."""

from memprint.runtime import job
from memprint.stages.ct import fit_ct_references

run = job(snakemake)
fit_ct_references(
    snakemake.input.train, snakemake.input.test, snakemake.params.settings, snakemake.params.outputs, run.device
)
