"""The two-stage ranker's parameters are the best of those chosen on the validation challenge."""

from pathlib import Path

import pandas as pd

from mpd_helpers.models import catalogue

TABLE = Path(__file__).resolve().parents[2] / "book" / "ranker_params.csv"


def test_the_catalogue_ranker_uses_the_setting_with_the_best_validation_ndcg():
    table = pd.read_csv(TABLE, index_col="setting")
    assert len(table) >= 3 and table["validation NDCG"].between(0, 1).all()
    best = table.loc[table["validation NDCG"].idxmax()]
    chosen = {key: best[key] for key in catalogue.RANKER_PARAMS}
    assert chosen == catalogue.RANKER_PARAMS
    assert catalogue.two_stage().params | catalogue.RANKER_PARAMS == catalogue.two_stage().params
