"""The path layout: one place names every result, and wildcards pass through as the rules need them."""

from memprint import layout


def test_paths_of_one_score_sit_together_and_keep_wildcards():
    assert layout.score_curve("bai_code", "dino", "gan") == "results/scores/bai_code/dino/gan.csv"
    assert layout.score_reference("ct", "{encoder}") == "results/scores/ct/{encoder}/reference.h5"
    assert layout.score_replicates("ct", "e", "g").removesuffix(".bootstrap.h5") == layout.score_curve(
        "ct", "e", "g"
    ).removesuffix(".csv")
    assert layout.fingerprint_curves("ct", "e", "{generator}") == "results/fingerprint/ct/e/curves/{generator}.csv"
    assert layout.figure("ct_curves", "png", "e") == "results/figures/e/ct_curves.png"
    assert layout.figure("sample_grid", "pdf") == "results/figures/sample_grid.pdf"
    assert layout.embedding("e", "train") == "results/embeddings/e/train.h5" and layout.imageset("test").endswith(
        "test.h5"
    )
