"""The challenge set and its truth, read once by their one reader and handed to whatever needs them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest
from mpd_data import challenge_build, mpd_dir

from mpd_helpers import files, pipeline
from mpd_helpers.data import challenge_set
from mpd_helpers.errors import MPDInputError


def test_a_recommend_run_parses_the_challenge_set_and_its_truth_once(tmp_path, monkeypatch):
    b = challenge_build()
    parsed = Counter()
    parse = files.parse_json

    def counting(data: bytes, path):
        parsed[Path(path).resolve()] += 1
        return parse(data, path)

    monkeypatch.setattr(files, "parse_json", counting)
    run = pipeline.recommend_all(
        mpd_dir(5), b.challenge_path, "popularity", tmp_path / "sub.csv", b.truth_path, workers=1, progress=False
    )
    assert run.grade is not None  # loaded, verified and graded
    assert parsed[b.challenge_path.resolve()] == 1 and parsed[b.truth_path.resolve()] == 1


def test_what_a_challenge_set_is_identified_by(tmp_path):
    b = challenge_build()
    built = challenge_set.read(b.challenge_path)
    doc = orjson.loads(b.challenge_path.read_bytes())
    assert built.identity == f"build {doc['build']}" and built.truth is None and len(built.held_out) == 0
    del doc["build"]  # as the official set: no build id, so its bytes identify it
    official = tmp_path / "challenge_set.json"
    official.write_bytes(orjson.dumps(doc))
    read = challenge_set.read(official)
    assert read.build is None and read.identity.startswith("sha256 ") and read.identity != built.identity
    official.write_bytes(orjson.dumps(doc) + b"\n")
    assert challenge_set.read(official).identity != read.identity


def test_the_seeds_are_the_files_and_the_truth_names_the_source_playlists():
    b = challenge_build()
    read = challenge_set.read(b.challenge_path, b.truth_path)
    doc = orjson.loads(b.challenge_path.read_bytes())
    assert read.seeds() == {p["pid"]: {t["track_uri"] for t in p["tracks"]} for p in doc["playlists"]}
    truth = orjson.loads(b.truth_path.read_bytes())
    assert sorted(read.held_out.tolist()) == sorted(p["source_pid"] for p in truth["playlists"])
    assert read.truth.build == doc["build"] and set(read.truth.tracks["pid"]) <= set(read.pids.tolist())


def test_a_truth_already_read_is_checked_against_the_set_as_a_path_is(tmp_path):
    b = challenge_build()
    truth = challenge_set.read_truth(b.truth_path)
    assert challenge_set.read(b.challenge_path, truth).truth is truth
    doc = orjson.loads(b.challenge_path.read_bytes())
    doc["build"] = "another"
    other = tmp_path / "challenge_set.json"
    other.write_bytes(orjson.dumps(doc))
    with pytest.raises(MPDInputError, match="belongs to another challenge set") as err:
        challenge_set.read(other, truth)
    assert err.value.field == "build"
