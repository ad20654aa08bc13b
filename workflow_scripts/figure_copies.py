"""Snakemake adapter: copy rates by layer and the most-copied pairs."""

from memprint.runtime import job
from memprint.stages.copies import figure_copies

job(snakemake)
figure_copies(
    snakemake.params.copies,
    snakemake.params.imagesets,
    snakemake.input.train,
    snakemake.params.encoder,
    snakemake.output.rates,
    snakemake.output.png,
    snakemake.output.pdf,
    snakemake.output.pairs_png,
    snakemake.output.pairs_pdf,
)
