rule claims:
    """The paper's claims as statistics with 95% intervals and computed verdicts, under every C_T setting."""
    input:
        curves=lambda wc: all_files(claims_curve_files(wc.encoder)),
        fingerprints=lambda wc: all_files(fingerprint_curve_files(wc.encoder)) if FINGERPRINTED else [],
        statistics="results/fingerprint/statistics.csv" if FINGERPRINTED else [],
    output:
        csv=report("results/claims/{encoder}.csv", caption="../report/claims.rst", category="Claims"),
        markdown="results/claims/{encoder}.md",
    log:
        "logs/claims/{encoder}.log",
    benchmark:
        "results/benchmarks/claims/{encoder}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        code=code_version_of("claims.py"),
        curve_files=lambda wc: claims_curve_files(wc.encoder),
        fingerprint_files=lambda wc: fingerprint_curve_files(wc.encoder) if FINGERPRINTED else {},
        specs={name: spec_of(name) for name in GENERATORS},
        baselines=baselines(config),
        seed=config["intervals"]["seed"],
    script:
        "../workflow_scripts/claims.py"


rule publish_results:
    """Copy the run's tables and figures to a committed folder (claims.publish), with the C_T tables (intervals
    included) and every stage's time."""
    input:
        list(published_files().values()),
        all_files(curve_tables()),
        [path for _, path in copy_tables().values()],
    output:
        files=(
            [f"{PUBLISH}/{name}" for name in [*published_files(), *curve_tables(), *copy_tables()]] if PUBLISH else []
        ),
        timings=f"{PUBLISH}/timings.md" if PUBLISH else [],
    log:
        "logs/publish_results.log",
    benchmark:
        "results/benchmarks/publish_results.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=code_version_of("publish_results.py"),
        files=published_files(),
        curve_tables=curve_tables(),
        copy_tables=copy_tables(),
        folder=lambda wildcards, output: os.path.dirname(output.timings) if PUBLISH else None,
    script:
        "../workflow_scripts/publish_results.py"
