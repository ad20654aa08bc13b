"""Snakemake adapter: C_T-layer curves under every configured C_T setting, side by side."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import figure_ct_settings, start_log

start_log(snakemake.log[0])
figure_ct_settings({"ct": list(snakemake.input.curves), **snakemake.params.variant_files}, snakemake.wildcards.encoder,
                   snakemake.output.png, snakemake.output.pdf)
