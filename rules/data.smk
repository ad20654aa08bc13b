rule make_data:
    """The training set T and the held-out test set P as image-set files."""
    output:
        **({"heldout": "results/imagesets/heldout.h5"} if config["data"]["heldout"] else {}),
        train="results/imagesets/train.h5",
        test="results/imagesets/test.h5",
    log:
        "logs/make_data.log",
    benchmark:
        "results/benchmarks/make_data.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        code=code_version_of("make_data.py"),
        data=canonical(config["data"]),
        contents=data_contents(),
    script:
        "../workflow_scripts/make_data.py"
