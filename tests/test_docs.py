"""Generated documentation blocks: filled from result files, never typed, and refused when the block is missing."""

import pandas as pd
import pytest

from memprint import MemprintError
from memprint.docs import fill_block, main
from memprint.io import write_csv


def _curve(path, generator, values):
    table = pd.DataFrame(
        {"layer": range(len(values)), "layer_name": [f"l{i}" for i in range(len(values))], "value": values}
    )
    table["low"], table["high"] = table["value"] - 1, table["value"] + 1
    write_csv(table, path, {"generator": generator})
    return str(path)


def test_curve_files_become_a_table_of_the_chosen_layers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- ct:start -->\nold\n<!-- ct:end -->\nrest\n")
    files = [_curve(tmp_path / "a.csv", "copier", [-15.0, -14.0, -13.0]), _curve(tmp_path / "b.csv", "kde", [1, 2, 3])]
    main([str(page), "ct", *files, "--layers", "0,2"])
    text = page.read_text()
    assert "| generator | 0 | 2 |" in text and "| copier | -15.00 [-16.0, -14.0] | -13.00 [-14.0, -12.0] |" in text
    assert "old" not in text and text.startswith("intro\n") and text.endswith("rest\n")


def test_a_missing_block_is_refused(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("no block here\n")
    with pytest.raises(MemprintError, match="needs exactly one <!-- x:start -->"):
        fill_block(page, "x", "text")
