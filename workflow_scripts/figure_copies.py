"""Snakemake adapter: copy rates, which kind of copying, and the most-copied pairs, over every generator."""

from memprint.runtime import job
from memprint.stages.copies import copy_figures

job(snakemake)
names, out = snakemake.params.generators, snakemake.output
copy_figures(
    layer_files=dict(zip(names, snakemake.input.layers)),
    image_files=dict(zip(names, snakemake.input.images)),
    imagesets=dict(zip(names, snakemake.input.imagesets)),
    train=snakemake.input.train,
    encoder=snakemake.params.encoder,
    rates_out=out.rates,
    kinds_out=out.kinds,
    png=out.png,
    pdf=out.pdf,
    kinds_png=out.kinds_png,
    kinds_pdf=out.kinds_pdf,
    pairs_png=out.pairs_png,
    pairs_pdf=out.pairs_pdf,
)
