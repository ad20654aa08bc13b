"""Snakemake adapter: one generator's flagged images ranked by p-value beside their training matches."""

from memprint.runtime import job
from memprint.stages.copies import auditor_page

job(snakemake)
auditor_page(
    images_file=snakemake.input.images,
    imageset=snakemake.input.imageset,
    train=snakemake.input.train,
    generator=snakemake.params.generator,
    level=snakemake.params.level,
    csv_out=snakemake.output.flagged,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
)
