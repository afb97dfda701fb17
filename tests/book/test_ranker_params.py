"""The two-stage pipeline's pool and its ranker's parameters are the best on the validation challenge."""

from pathlib import Path

import pandas as pd

from mpd_helpers.models import catalogue

BOOK = Path(__file__).resolve().parents[2] / "book"
TABLE = BOOK / "ranker_params.csv"


def test_the_catalogue_ranker_uses_the_setting_with_the_best_validation_ndcg():
    table = pd.read_csv(TABLE, index_col="setting")
    assert len(table) >= 3 and table["validation NDCG"].between(0, 1).all()
    best = table.loc[table["validation NDCG"].idxmax()]
    chosen = {key: best[key] for key in catalogue.RANKER_PARAMS}
    assert chosen == catalogue.RANKER_PARAMS
    assert catalogue.two_stage().params | catalogue.RANKER_PARAMS == catalogue.two_stage().params


def test_the_catalogue_pool_is_the_one_with_the_best_validation_ndcg():
    pools = pd.read_csv(BOOK / "ranker_pools.csv", index_col="pool")
    assert len(pools) >= 2 and pools["recall"].between(0, 1).all()
    best = pools.loc[pools["validation NDCG"].idxmax()]
    assert {key: best[key] for key in catalogue.POOL} == catalogue.POOL
    model = catalogue.two_stage()
    assert model.depth == catalogue.POOL["depth"] and model.pool == catalogue.pool_of(catalogue.POOL)
    assert set(model.pool) <= set(model.sources) and all(k > 0 for k in model.pool.values())
    assert set(catalogue.POOL) == {"depth", *catalogue.POOL_SOURCES}
    assert catalogue.two_stage(depth=100).depth == 100
