rule make_data:
    """The training set T and the held-out test set P as image-set files."""
    output:
        train="results/imagesets/train.h5",
        test="results/imagesets/test.h5",
        **({"heldout": "results/imagesets/heldout.h5"} if config["data"]["heldout"] else {}),
    params:
        data=canonical(config["data"]),
    log:
        "logs/make_data.log",
    benchmark:
        "results/benchmarks/make_data.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/make_data.py"
