"""Snakemake adapter: every score's reference (what it fits on T and P) for one encoder."""

from memprint.runtime import job
from memprint.stages.scores import fit_references

run = job(snakemake)
fit_references(
    train=snakemake.input.train,
    test=snakemake.input.test,
    scores=snakemake.params.scores,
    references=dict(zip(snakemake.params.scores, snakemake.output)),
    device=run.device,
)
