CLAIMS = config.get("claims", {})
FINGERPRINTED = len(set(ARCHITECTURES.values())) >= 2


def claims_curve_files(encoder):
    """C_T setting -> generator -> its curve and bootstrap replicate files (one encoder)."""
    main = {g: {"curve": f"results/ct/{encoder}/{g}.csv", "replicates": f"results/ct/{encoder}/{g}.bootstrap.h5"}
            for g in GENERATORS}
    variants = {
        v: {
            g: {
                "curve": f"results/ct_variants/{v}/{encoder}/{g}.csv",
                "replicates": f"results/ct_variants/{v}/{encoder}/{g}.bootstrap.h5",
            }
            for g in GENERATORS
        }
        for v in CT_VARIANTS
    }
    return {"ct": main, **variants}


def claims_fingerprint_files(encoder):
    if not FINGERPRINTED:
        return {}
    files = {"ct": expand("results/fingerprint/{encoder}/curves/{generator}.csv", encoder=encoder, generator=GENERATORS)}
    for v in CT_VARIANTS:
        files[v] = expand("results/fingerprint_variants/{variant}/{encoder}/curves/{generator}.csv", variant=v,
                          encoder=encoder, generator=GENERATORS)
    return files


def _all_files(nested):
    if isinstance(nested, dict):
        return [path for value in nested.values() for path in _all_files(value)]
    return list(nested) if isinstance(nested, list) else [nested]


rule claims:
    """The paper's claims as statistics with 95% intervals and computed verdicts, under every C_T setting."""
    input:
        curves=lambda wc: _all_files(claims_curve_files(wc.encoder)),
        fingerprints=lambda wc: _all_files(claims_fingerprint_files(wc.encoder)),
        statistics="results/fingerprint/statistics.csv" if FINGERPRINTED else [],
    output:
        csv=report("results/claims/{encoder}.csv", caption="../report/claims.rst", category="Claims"),
        markdown="results/claims/{encoder}.md",
    params:
        curve_files=lambda wc: claims_curve_files(wc.encoder),
        fingerprint_files=lambda wc: claims_fingerprint_files(wc.encoder),
        specs={name: canonical(config["generators"][name]) for name in GENERATORS},
        architectures=ARCHITECTURES,
        baseline=CLAIMS.get("baseline"),
        seed=config["intervals"]["seed"],
    log:
        "logs/claims/{encoder}.log",
    benchmark:
        "results/benchmarks/claims/{encoder}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/claims.py"


PUBLISH = CLAIMS.get("publish")
PUBLISHED = {
    **{f"claims_{e}.md": f"results/claims/{e}.md" for e in ENCODERS},
    **{f"claims_{e}.csv": f"results/claims/{e}.csv" for e in ENCODERS},
    **{f"ct_settings_{e}.png": f"results/figures/{e}/ct_settings.png" for e in ENCODERS},
    **{f"ct_curves_{e}.png": f"results/figures/{e}/ct_curves.png" for e in ENCODERS},
    **{f"curve_similarity_{e}.png": f"results/figures/{e}/curve_similarity.png" for e in ENCODERS},
    **{f"copy_rates_{e}.png": f"results/figures/{e}/copy_rates.png" for e in ENCODERS},
    **{f"copy_rates_{e}.csv": f"results/copies/{e}/rates.csv" for e in ENCODERS},
    **{f"copied_pairs_{e}.png": f"results/figures/{e}/copied_pairs.png" for e in ENCODERS},
    **(
        {
            **{f"copies_validation_{e}.png": f"results/figures/{e}/copies_validation.png" for e in ENCODERS},
            **{f"copies_validation_{e}.csv": f"results/copies/{e}/validation.csv" for e in ENCODERS},
        }
        if COPIES_VALIDATION
        else {}
    ),
    "sample_grid.png": "results/figures/sample_grid.png",
    "generators.csv": "results/generators/summary.csv",
    **(
        {
            "table1.md": "results/fingerprint/table1.md",
            "fingerprint_confusion.png": "results/figures/fingerprint_confusion.png",
        }
        if FINGERPRINTED
        else {}
    ),
}


CURVE_TABLES = {
    f"ct_table_{e}_{setting}.md": [files["curve"] for files in curves.values()]
    for e in ENCODERS
    for setting, curves in claims_curve_files(e).items()
}


rule publish_results:
    """Copy the run's tables and figures to a committed folder (claims.publish), with the C_T tables (intervals
    included) and every stage's time."""
    input:
        list(PUBLISHED.values()),
        [f for files in CURVE_TABLES.values() for f in files],
    output:
        files=[f"{PUBLISH}/{name}" for name in [*PUBLISHED, *CURVE_TABLES]] if PUBLISH else [],
        timings=f"{PUBLISH}/timings.md" if PUBLISH else [],
    params:
        files=PUBLISHED,
        curve_tables=CURVE_TABLES,
        folder=PUBLISH,
    log:
        "logs/publish_results.log",
    benchmark:
        "results/benchmarks/publish_results.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/publish_results.py"
