"""The grade: R-precision (with and without artist credit), both NDCG variants and clicks."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from mpd_helpers import cli
from mpd_helpers.errors import MPDInputError
from mpd_helpers.grading import metrics, submission


def uri(name: str) -> str:
    """A well-formed track URI made from a short name."""
    return "spotify:track:" + name.rjust(22, "0")


def artist(name: str) -> str:
    return "spotify:artist:" + name.rjust(22, "0")


def make_truth(playlists: dict[int, tuple[int, list[tuple[str, str]]]]) -> pd.DataFrame:
    """Truth rows from {pid: (category, [(track, artist), ...])}."""
    rows = [
        (pid, category, pos, uri(t), artist(a))
        for pid, (category, tracks) in playlists.items()
        for pos, (t, a) in enumerate(tracks)
    ]
    return pd.DataFrame(rows, columns=["pid", "category", "pos", "track_uri", "artist_uri"])


def make_recs(playlists: dict[int, list[str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(pid, uri(t)) for pid, tracks in playlists.items() for t in tracks], columns=["pid", "track_uri"]
    )


def one(result: pd.DataFrame, pid: int) -> pd.Series:
    return result.set_index("pid").loc[pid]


G4 = {1: (3, [("a", "A1"), ("b", "A1"), ("c", "A2"), ("d", "A3")])}
FILLER = [f"f{i}" for i in range(600)]  # never relevant


def test_duplicates_are_dropped_before_scoring():
    # x, a, a, a, c -> x, a, c: a and c both land in the first |G| = 4
    result = metrics.evaluate(make_recs({1: ["x", "a", "a", "a", "c"]}), make_truth(G4))
    row = one(result, 1)
    assert row["r_precision"] == pytest.approx(2 / 4)
    assert row["n_truth"] == 4 and row["category"] == 3
    assert row["clicks"] == 0
    # rules: hits at ranks 2 and 3; IDCG over |G ∩ R| = 2 hits
    assert row["ndcg"] == pytest.approx((1 / math.log2(2) + 1 / math.log2(3)) / (1 + 1 / math.log2(2)))


def test_spotify_ndcg_variant():
    result = metrics.evaluate(make_recs({1: ["x", "a", "a", "a", "c"]}), make_truth(G4), ndcg="spotify")
    dcg = 1 / math.log2(3) + 1 / math.log2(4)  # ranks 2 and 3 after de-duplication
    idcg = sum(1 / math.log2(i + 1) for i in range(1, 5))  # min(|G|, 500) = 4 ideal hits
    assert one(result, 1)["ndcg"] == pytest.approx(dcg / idcg)


def test_rules_ndcg_first_rank_is_undiscounted():
    result = metrics.evaluate(make_recs({1: ["a", "x", "y", "b"]}), make_truth(G4))
    assert one(result, 1)["ndcg"] == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(2)))
    perfect = metrics.evaluate(make_recs({1: ["d", "c", "b", "a"]}), make_truth(G4))
    assert one(perfect, 1)[["r_precision", "ndcg"]].tolist() == pytest.approx([1.0, 1.0])


def test_fewer_than_500_and_clicks_by_tens():
    truth = make_truth({1: (1, [("a", "A")]), 2: (1, [("a", "A")]), 3: (1, [("a", "A")])})
    recs = make_recs(
        {
            1: FILLER[:9] + ["a"],  # rank 10 -> 0 clicks
            2: FILLER[:10] + ["a"],  # rank 11 -> 1 click
            3: FILLER[:24] + ["a"],
        }
    )  # rank 25 -> 2 clicks
    result = metrics.evaluate(recs, truth).set_index("pid")
    assert result["clicks"].tolist() == [0, 1, 2]
    assert result["r_precision"].tolist() == [0.0, 0.0, 0.0]  # |G| = 1 and rank 1 misses
    assert result.loc[1, "ndcg"] == pytest.approx(1 / math.log2(10))


def test_no_hit_and_missing_playlist():
    truth = make_truth({1: (1, [("a", "A")]), 2: (2, [("b", "B")])})
    result = metrics.evaluate(make_recs({1: FILLER[:500], 99: ["a"]}), truth).set_index("pid")
    assert list(result.index) == [1, 2]  # every truth pid, nothing else
    for pid in (1, 2):
        assert result.loc[pid, ["r_precision", "ndcg", "clicks"]].tolist() == [0.0, 0.0, 51]


def test_truncated_to_500_before_deduplication():
    truth = make_truth({1: (1, [("a", "A")])})
    late = FILLER[:500] + ["a"]  # rank 501
    assert one(metrics.evaluate(make_recs({1: late}), truth), 1)["clicks"] == 51
    # a repeat inside the first 500 does not pull rank 501 back in, as in Spotify's code
    repeated = FILLER[:499] + [FILLER[0], "a"]
    assert one(metrics.evaluate(make_recs({1: repeated}), truth), 1)["clicks"] == 51
    at_500 = FILLER[:499] + ["a"]
    assert one(metrics.evaluate(make_recs({1: at_500}), truth), 1)["clicks"] == 49


def test_held_out_duplicates_count_once():
    truth = make_truth({1: (1, [("a", "A"), ("a", "A"), ("b", "B")])})
    row = one(metrics.evaluate(make_recs({1: ["a", "x"]}), truth), 1)
    assert row["n_truth"] == 2 and row["r_precision"] == pytest.approx(0.5)


def test_artist_credit_once_per_artist():
    track_artists = pd.Series(
        {
            uri("e"): artist("A1"),
            uri("f"): artist("A1"),
            uri("g"): artist("A2"),
            uri("h"): artist("A3"),
            uri("x"): artist("Z"),
            uri("a"): artist("A1"),
        }
    )
    # first |G| = 4: a (hit), e (A1: 0.25), f (A1 again: nothing), g (A2: 0.25); h (A3) comes too late
    recs = make_recs({1: ["a", "e", "f", "g", "h"]})
    row = one(metrics.evaluate(recs, make_truth(G4), track_artists=track_artists), 1)
    assert row["r_precision"] == pytest.approx(1 / 4)
    assert row["r_precision_artist"] == pytest.approx((1 + 0.25 + 0.25) / 4)
    # without the artist table the column is NaN; a track missing from the table earns nothing
    assert np.isnan(one(metrics.evaluate(recs, make_truth(G4)), 1)["r_precision_artist"])
    unknown = make_recs({1: ["a", "zz", "x", "g"]})
    row = one(metrics.evaluate(unknown, make_truth(G4), track_artists=track_artists), 1)
    assert row["r_precision_artist"] == pytest.approx((1 + 0.25) / 4)


def test_artist_credit_is_per_playlist():
    truth = make_truth({1: (1, [("a", "A1")]), 2: (1, [("b", "A1")])})
    track_artists = pd.Series({uri("e"): artist("A1")})
    result = metrics.evaluate(make_recs({1: ["e"], 2: ["e"]}), truth, track_artists=track_artists)
    assert result["r_precision_artist"].tolist() == pytest.approx([0.25, 0.25])


def test_unknown_ndcg_variant():
    with pytest.raises(ValueError):
        metrics.evaluate(make_recs({1: ["a"]}), make_truth(G4), ndcg="other")


# --- agreement with a plain per-playlist implementation ---------------------------------------


def reference(
    recs: list[str], held: list[str], held_artists: list[str], artist_of: dict, variant: str
) -> tuple[float, float, float, int]:
    """The metrics of one playlist written straight from the rules."""
    ranked = list(dict.fromkeys(recs[:500]))
    g = set(held)
    top = ranked[: len(g)]
    r_prec = len(set(top) & g) / len(g)
    credited = {artist_of.get(t) for t in top if t not in g} & set(held_artists)
    r_art = (len(set(top) & g) + 0.25 * len(credited)) / len(g)
    rel = [t in g for t in ranked]
    if variant == "rules":
        dcg = sum(1.0 if i == 1 else 1 / math.log2(i) for i, r in enumerate(rel, 1) if r)
        k = sum(rel)
        idcg = (1 + sum(1 / math.log2(i) for i in range(2, k + 1))) if k else 0.0
    else:
        dcg = sum(1 / math.log2(i + 1) for i, r in enumerate(rel, 1) if r)
        idcg = sum(1 / math.log2(i + 1) for i in range(1, min(len(g), 500) + 1))
    ndcg = dcg / idcg if idcg else 0.0
    clicks = next((i // 10 for i, r in enumerate(rel) if r), 51)
    return r_prec, r_art, ndcg, clicks


@pytest.mark.parametrize("variant", ["rules", "spotify"])
@pytest.mark.parametrize("as_object", [False, True])
def test_agrees_with_plain_implementation(variant, as_object):
    rng = np.random.default_rng(7)
    # names of mixed byte lengths (URIs, short and odd strings) exercise every hashing path
    names = [uri(str(i)) for i in range(300)] + [f"t{i}" for i in range(40)] + ["é" * 5, "x" * 50]
    artist_of = {n: artist(str(i % 37)) for i, n in enumerate(names)}
    truth_rows, rec_rows = [], []
    for pid in range(1000, 1040):
        held = list(rng.choice(names, rng.integers(1, 30)))
        truth_rows += [(pid, pid % 10 + 1, pos, t, artist_of[t]) for pos, t in enumerate(held)]
        if pid % 13:
            recs = list(rng.choice(names, rng.integers(1, 620)))
            rec_rows += [(pid, t) for t in recs]
    truth = pd.DataFrame(truth_rows, columns=["pid", "category", "pos", "track_uri", "artist_uri"])
    recs = pd.DataFrame(rec_rows, columns=["pid", "track_uri"])
    if as_object:
        truth = truth.astype({"track_uri": object, "artist_uri": object})
        recs = recs.astype({"track_uri": object})
    track_artists = pd.Series(artist_of)
    result = metrics.evaluate(recs, truth, track_artists=track_artists, ndcg=variant)
    # the playlists' rows may also be interleaved: only the order within a playlist counts
    interleaved = recs.assign(k=recs.groupby("pid").cumcount()).sort_values(["k", "pid"])
    pd.testing.assert_frame_equal(
        metrics.evaluate(interleaved, truth, track_artists=track_artists, ndcg=variant), result
    )
    result = result.set_index("pid")
    assert len(result) == 40
    for pid, group in truth.groupby("pid"):
        got = rec_rows_of(recs, pid)
        expected = reference(got, group["track_uri"].tolist(), group["artist_uri"].tolist(), artist_of, variant)
        row = result.loc[pid]
        assert [row["r_precision"], row["r_precision_artist"], row["ndcg"]] == pytest.approx(expected[:3])
        assert row["clicks"] == expected[3]


def rec_rows_of(recs: pd.DataFrame, pid: int) -> list[str]:
    return recs.loc[recs["pid"] == pid, "track_uri"].tolist()


def test_exact_even_when_every_hash_collides(monkeypatch):
    truth = make_truth({1: (1, [("a", "A1"), ("b", "A2"), ("c", "A3")]), 2: (2, [("a", "A1")])})
    recs = make_recs({1: ["x", "a", "x", "y", "b", "c"], 2: ["y", "x", "a"]})
    track_artists = pd.Series({uri("x"): artist("A3"), uri("y"): artist("A3")})
    expected = metrics.evaluate(recs, truth, track_artists=track_artists)
    monkeypatch.setattr(metrics, "uri_hashes", lambda values: np.zeros(len(values), dtype=np.uint64))
    collided = metrics.evaluate(recs, truth, track_artists=track_artists)
    pd.testing.assert_frame_equal(collided, expected)
    assert one(expected, 1)["r_precision_artist"] == pytest.approx((1 + 0.25) / 3)  # x, a, y


# --- summary, reading, command line -----------------------------------------------------------


def test_summarize_overall_and_per_category():
    per = pd.DataFrame(
        {
            "pid": [1, 2, 3],
            "category": [1, 1, 2],
            "n_truth": [1, 1, 1],
            "r_precision": [0.5, 0.1, 0.3],
            "r_precision_artist": [np.nan] * 3,
            "ndcg": [0.4, 0.2, 0.6],
            "clicks": [0, 10, 51],
        }
    )
    table = metrics.summarize(per)
    assert list(table.index) == ["all", 1, 2]
    assert table.loc["all", "count"] == 3 and table.loc[1, "count"] == 2
    assert table.loc["all", "r_precision"] == pytest.approx(0.3)
    assert table.loc[1, "ndcg"] == pytest.approx(0.3)
    assert table.loc[2, "clicks"] == pytest.approx(51)
    assert table.loc[1, "clicks"] == pytest.approx(5)


def test_read_submission(tmp_path):
    path = tmp_path / "sub.csv"
    path.write_text(f"# comment\n\nteam_info,t,main,a@b.c\n 7 , {uri('a')} ,{uri('b')}\n\n8,{uri('c')}\n")
    frame = submission.read(path)
    assert frame["pid"].tolist() == [7, 7, 8]
    assert frame["track_uri"].tolist() == [uri("a"), uri("b"), uri("c")]
    path.write_text(f"team_info,t,main,a@b.c\nseven,{uri('a')}\n")
    with pytest.raises(MPDInputError, match="line 2"):
        submission.read(path)


def write_truth(path, truth: pd.DataFrame) -> None:
    playlists = [
        {
            "pid": int(pid),
            "category": int(g["category"].iloc[0]),
            "source_pid": int(pid),
            "tracks": [
                {"pos": int(r.pos), "track_uri": r.track_uri, "artist_uri": r.artist_uri} for r in g.itertuples()
            ],
        }
        for pid, g in truth.groupby("pid")
    ]
    path.write_text(json.dumps({"playlists": playlists}))


def test_cli_evaluate(tmp_path, capsys, monkeypatch):
    truth = make_truth({1: (1, [("a", "A"), ("b", "B")]), 2: (2, [("c", "C")])})
    write_truth(tmp_path / "truth.json", truth)
    sub = tmp_path / "sub.csv"
    sub.write_text(f"team_info,t,main,a@b.c\n1, {uri('a')}, {uri('x')}\n2, {uri('x')}, {uri('c')}\n")
    assert cli.main(["evaluate", str(sub), "--truth", str(tmp_path / "truth.json")]) == 0
    out = capsys.readouterr().out
    assert "NDCG variant: spotify" in out and "r_precision" in out and "clicks" in out
    assert "r_precision_artist" not in out  # not computed from the command line
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert lines["all"][1:3] == ["2", "0.2500"]  # count, mean R-precision (0.5 and 0)
    assert cli.main(["evaluate", str(sub), "--truth", str(tmp_path / "truth.json"), "--ndcg", "spotify"]) == 0
    assert "spotify" in capsys.readouterr().out
    assert cli.main(["evaluate", str(tmp_path / "none.csv"), "--truth", str(tmp_path / "truth.json")]) == 2
