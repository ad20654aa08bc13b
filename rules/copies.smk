rule embed_transformed:
    """Every layer's embedding of an image set under one of the copy finder's transforms (P and each generator)."""
    input:
        imageset=layout.imageset("{imageset}"),
        weights=encoder_weights,
    output:
        layout.transformed_embedding("{encoder}", "{transform}", "{imageset}"),
    log:
        layout.log("embed_transformed", "{encoder}", "{transform}", "{imageset}"),
    benchmark:
        layout.benchmark("embed_transformed", "{encoder}", "{transform}", "{imageset}")
    wildcard_constraints:
        transform=_alternatives(EXTRA_TRANSFORMS),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    params:
        code=code_version_of("embed_transformed.py"),
        spec=encoder_spec,
        transform=lambda wc: wc.transform,
        precision=PRECISION,
    script:
        "../workflow_scripts/embed_transformed.py"


rule find_copies:
    """One generator's copies: per image, layer and transform its nearest training image and a p-value against
    P under the same transform; one flag per image at the configured family-wise false-positive rate."""
    input:
        reference=layout.score_reference(MAIN_SCORE, "{encoder}"),
        train=layout.embedding("{encoder}", "train"),
        generated=lambda wc: transformed_inputs(wc.encoder, wc.generator).values(),
        test=lambda wc: transformed_inputs(wc.encoder, "test").values(),
        train_edited=lambda wc: training_edit_inputs(wc.encoder),
        train_imageset=layout.imageset("train"),
        test_imageset=layout.imageset("test"),
        generated_imageset=lambda wc: layout.imageset(wc.generator),
    output:
        layers=layout.copies("{encoder}", "{generator}"),
        images=layout.copies("{encoder}", "{generator}", "images"),
    log:
        layout.log("find_copies", "{encoder}", "{generator}"),
    benchmark:
        layout.benchmark("find_copies", "{encoder}", "{generator}")
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        code=code_version_of("find_copies.py"),
        transforms=COPY_MATCHING,
        level=config["copies"]["level"],
        statistic=config["copies"]["statistic"],
        pixels=config["copies"]["pixels"],
    script:
        "../workflow_scripts/find_copies.py"


rule figure_copies:
    """Copy rates (per image and per layer, 95% intervals) of every generator, which kind of copying (rate by layer
    and transform), and the most-copied pairs."""
    input:
        layers=[layout.copies("{encoder}", g) for g in GENERATORS],
        images=[layout.copies("{encoder}", g, "images") for g in GENERATORS],
        imagesets=[layout.imageset(g) for g in GENERATORS],
        train=layout.imageset("train"),
    output:
        rates="results/copies/{encoder}/rates.csv",
        kinds="results/copies/{encoder}/kinds.csv",
        png=report("results/figures/{encoder}/copy_rates.png", caption="../report/copy_rates.rst", category="Copies"),
        pdf="results/figures/{encoder}/copy_rates.pdf",
        kinds_png=report(
            "results/figures/{encoder}/copy_kinds.png", caption="../report/copy_kinds.rst", category="Copies"
        ),
        kinds_pdf="results/figures/{encoder}/copy_kinds.pdf",
        pairs_png=report(
            "results/figures/{encoder}/copied_pairs.png", caption="../report/copied_pairs.rst", category="Copies"
        ),
        pairs_pdf="results/figures/{encoder}/copied_pairs.pdf",
    log:
        layout.log("figure_copies", "{encoder}"),
    benchmark:
        layout.benchmark("figure_copies", "{encoder}")
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        code=code_version_of("figure_copies.py"),
        encoder=lambda wc: wc.encoder,
        generators=GENERATORS,
    script:
        "../workflow_scripts/figure_copies.py"


rule auditor_page:
    """An auditor's page of one generator: its flagged images ranked by p-value, each beside itself under the
    matching transform and the training image it matched, with the layers that flag it."""
    input:
        images=layout.copies("{encoder}", "{generator}", "images"),
        imageset=layout.imageset("{generator}"),
        train=layout.imageset("train"),
    output:
        flagged=layout.copies("{encoder}", "{generator}", "flagged"),
        png=report(
            "results/figures/{encoder}/copies/{generator}.png",
            caption="../report/auditor_page.rst",
            category="Copies",
            subcategory="{generator}",
        ),
        pdf="results/figures/{encoder}/copies/{generator}.pdf",
    log:
        layout.log("auditor_page", "{encoder}", "{generator}"),
    benchmark:
        layout.benchmark("auditor_page", "{encoder}", "{generator}")
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("auditor_page.py"),
        generator=lambda wc: wc.generator,
        level=config["copies"]["level"],
    script:
        "../workflow_scripts/auditor_page.py"


rule copies_validation:
    """Planted copies edited eight ways (exact, flip, crop, rotation, colour jitter, JPEG, an off-grid crop and
    rotation) among a perfect generator's samples, and its samples alone: memprint's AUC and false-positive rate
    beside two baselines'."""
    input:
        reference=layout.score_reference(MAIN_SCORE, "{encoder}"),
        train=layout.embedding("{encoder}", "train"),
        test=lambda wc: transformed_inputs(wc.encoder, "test").values(),
        train_edited=lambda wc: training_edit_inputs(wc.encoder),
        train_images=layout.imageset("train"),
        test_images=layout.imageset("test"),
        fresh_images=lambda wc: layout.imageset(COPIES_VALIDATION["fresh"]),
        weights=encoder_weights,
    output:
        table="results/copies/{encoder}/validation.csv",
        png=report(
            "results/figures/{encoder}/copies_validation.png",
            caption="../report/copies_validation.rst",
            category="Copies",
        ),
        pdf="results/figures/{encoder}/copies_validation.pdf",
    log:
        layout.log("copies_validation", "{encoder}"),
    benchmark:
        layout.benchmark("copies_validation", "{encoder}")
    conda:
        CONDA_ENV
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=60,
    params:
        code=code_version_of("copies_validation.py"),
        spec=encoder_spec,
        settings=canonical(COPIES_VALIDATION or {}),
        transforms=COPY_MATCHING,
        level=config["copies"]["level"],
        statistic=config["copies"]["statistic"],
        pixels=config["copies"]["pixels"],
        precision=PRECISION,
    script:
        "../workflow_scripts/copies_validation.py"
