"""The submission file: writing it safely and rejecting it exactly where Spotify's verifier would."""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest

from mpd_helpers import cli, files
from mpd_helpers.data import challenge_set
from mpd_helpers.errors import MPDInputError
from mpd_helpers.grading import submission

PIDS = [1000000, 1000001, 1000002]


def uri(i: int) -> str:
    return f"spotify:track:{i:022d}"


def seeds_of(pid: int) -> list[str]:
    """Seed tracks: a few URIs per playlist, none of them recommended by `valid_tracks`."""
    return [uri(10_000 + 10 * (pid - PIDS[0]) + k) for k in range(pid - PIDS[0])]


def valid_tracks() -> np.ndarray:
    return np.array([[uri(1000 * row + k) for k in range(500)] for row in range(len(PIDS))])


def challenge_track(track_uri: str, pos: int) -> dict:
    return {
        "pos": pos,
        "artist_name": "An Artist",
        "track_uri": track_uri,
        "artist_uri": "spotify:artist:" + "1" * 22,
        "track_name": "A Song",
        "album_uri": "spotify:album:" + "2" * 22,
        "duration_ms": 200000,
        "album_name": "An Album",
    }


@pytest.fixture
def challenge_path(tmp_path):
    playlists = []
    for pid in PIDS:
        tracks = [challenge_track(t, pos) for pos, t in enumerate(seeds_of(pid))]
        playlist = {
            "pid": pid,
            "num_holdouts": 20,
            "num_samples": len(tracks),
            "num_tracks": len(tracks) + 20,
            "tracks": tracks,
        }
        if tracks:
            playlist["name"] = f"mix {pid}"
        playlists.append(playlist)
    path = tmp_path / "challenge_set.json"
    path.write_text(
        json.dumps(
            {
                "date": "2018-01-16 08:47:28.198015",
                "version": "v1",
                "name": "challenge_set",
                "description": "test challenge",
                "playlists": playlists,
            }
        )
    )
    return path


@pytest.fixture
def valid_path(tmp_path):
    return submission.write(tmp_path / "sub.csv", PIDS, valid_tracks(), "my team", "me@example.com")


def lines_of(path) -> list[str]:
    return path.read_text().splitlines()


def rewrite(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n")
    return path


def fields(line: str) -> list[str]:
    return [f.strip() for f in line.split(",")]


def join(values: list[str]) -> str:
    return ", ".join(values)


def messages(problems) -> list[tuple]:
    return [(p.line, p.pid, p.message) for p in problems]


def only(problems, text: str) -> submission.Problem:
    """The single problem whose message contains `text`."""
    found = [p for p in problems if text in p.message]
    assert len(found) == 1, messages(problems)
    return found[0]


# --- writing -----------------------------------------------------------------------------------


def test_round_trip_and_gzip_copy(valid_path):
    text = valid_path.read_text()
    assert text.splitlines()[0] == "team_info,my team,me@example.com"  # the current rules' form
    gz_path = valid_path.with_name("sub.csv.gz")
    assert gzip.decompress(gz_path.read_bytes()).decode() == text
    for path in (valid_path, gz_path):
        frame = submission.read(path)
        assert frame["pid"].tolist() == list(np.repeat(PIDS, 500))
        assert frame["track_uri"].tolist() == valid_tracks().ravel().tolist()
    assert not list(valid_path.parent.glob(".*.tmp"))


def test_write_accepts_lists_and_creative_track(tmp_path):
    path = submission.write(tmp_path / "s.csv", [5], [[uri(1), uri(2)]], "t", "e@x", track="creative")
    assert lines_of(path) == ["team_info,t,creative,e@x", f"5, {uri(1)}, {uri(2)}"]
    assert submission.team_info_form(path) == "2018"
    with pytest.raises(MPDInputError):
        submission.write(tmp_path / "s.csv", [5], [["a"]], "a, b", "e@x")
    with pytest.raises(MPDInputError):
        submission.write(tmp_path / "s.csv", [5, 6], [["a"]], "t", "e@x")
    with pytest.raises(MPDInputError):
        submission.write(tmp_path / "s.csv", [5], [["a"]], "t", "e@x", track="other")


@pytest.mark.parametrize("fail_on_call", [1, 2])  # while writing the CSV, or its gzipped copy
def test_failed_write_leaves_previous_files(valid_path, monkeypatch, fail_on_call):
    gz_path = valid_path.with_name("sub.csv.gz")
    before = valid_path.read_bytes(), gz_path.read_bytes()
    calls = []
    real_fsync = os.fsync

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == fail_on_call:
            raise OSError("disk full")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        submission.write(valid_path, PIDS, valid_tracks()[:, ::-1], "other", "x@y")
    assert (valid_path.read_bytes(), gz_path.read_bytes()) == before
    assert sorted(p.name for p in valid_path.parent.iterdir()) == ["sub.csv", "sub.csv.gz"]  # no temp left


# --- the verifier's rules ----------------------------------------------------------------------


def test_valid_submission_has_no_problem(challenge_path, valid_path):
    assert submission.verify(challenge_set.read(challenge_path), valid_path) == []
    assert submission.verify(challenge_set.read(challenge_path), valid_path.with_name("sub.csv.gz")) == []
    known = set(valid_tracks().ravel())
    assert submission.verify(challenge_set.read(challenge_path), valid_path, known_tracks=known) == []
    assert submission.format_report([]).endswith("0 problems found: the submission is valid")


def test_comments_blank_lines_and_spaces_are_ignored(challenge_path, valid_path):
    lines = lines_of(valid_path)
    lines = ["# produced by a test", "", lines[0], "   ", *[f"  {line}  " for line in lines[1:]], "#"]
    assert submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines)) == []


def test_missing_team_info(challenge_path, valid_path):
    lines = lines_of(valid_path)[1:]
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert messages(problems) == [(1, None, "missing team_info line before the playlists")]


def test_malformed_team_info(challenge_path, valid_path):
    lines = lines_of(valid_path)
    lines[0] = "team_info,only a name"
    problem = only(submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines)), "team_info")
    assert problem.line == 1


def test_unknown_track(challenge_path, valid_path):
    known = set(valid_tracks().ravel()) - {uri(1000 + 7)}
    problems = submission.verify(challenge_set.read(challenge_path), valid_path, known_tracks=known)
    assert messages(problems) == [(3, PIDS[1], f"1 unknown tracks: {uri(1007)}")]


def test_pid_not_an_integer(challenge_path, valid_path):
    lines = lines_of(valid_path)
    lines[2] = join(["1000001x", *fields(lines[2])[1:]])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert only(problems, "not an integer").line == 3
    assert only(problems, "not an integer").pid == "1000001x"
    assert only(problems, "have no line").line is None  # 1000001 is now missing


def test_pid_not_in_challenge_set(challenge_path, valid_path):
    lines = lines_of(valid_path)
    lines[3] = join(["42", *fields(lines[3])[1:]])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    outsider = only(problems, "not in the challenge set")
    assert (outsider.line, outsider.pid) == (4, 42)
    assert "1 challenge pids have no line: 1000002" in only(problems, "have no line").message


def test_duplicate_pid_line(challenge_path, valid_path):
    lines = lines_of(valid_path)
    lines[2] = join([str(PIDS[0]), *fields(lines[2])[1:]])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    duplicate = only(problems, "duplicate line")
    assert (duplicate.line, duplicate.pid) == (3, PIDS[0])
    assert "first on line 2" in duplicate.message


@pytest.mark.parametrize("count", [499, 501])
def test_not_500_tracks(challenge_path, valid_path, count):
    lines = lines_of(valid_path)
    tracks = fields(lines[1])[1:]
    tracks = tracks[:count] if count < 500 else tracks + [uri(999_999)]
    lines[1] = join([str(PIDS[0]), *tracks])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert messages(problems) == [(2, PIDS[0], f"has {count} tracks, expected 500")]


def test_duplicate_tracks(challenge_path, valid_path):
    lines = lines_of(valid_path)
    tracks = fields(lines[1])[1:]
    tracks[10] = tracks[3]
    lines[1] = join([str(PIDS[0]), *tracks])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert messages(problems) == [(2, PIDS[0], f"1 duplicate tracks: {uri(3)}")]


def test_seed_track(challenge_path, valid_path):
    lines = lines_of(valid_path)
    pid = PIDS[2]
    tracks = fields(lines[3])[1:]
    tracks[0] = seeds_of(pid)[1]
    lines[3] = join([str(pid), *tracks])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert messages(problems) == [(4, pid, f"1 seed tracks of this playlist: {seeds_of(pid)[1]}")]


def test_seed_of_another_playlist_is_allowed(challenge_path, valid_path):
    lines = lines_of(valid_path)
    tracks = fields(lines[1])[1:]
    tracks[0] = seeds_of(PIDS[2])[0]  # a seed of the third playlist, recommended for the first
    lines[1] = join([str(PIDS[0]), *tracks])
    assert submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines)) == []


@pytest.mark.parametrize(
    "bad", ["spotify:track:short", "spotify:album:" + "a" * 22, "spotify:track:" + "a" * 21 + "!", ""]
)
def test_malformed_track_uri(challenge_path, valid_path, bad):
    lines = lines_of(valid_path)
    tracks = fields(lines[2])[1:]
    tracks[5] = bad
    lines[2] = join([str(PIDS[1]), *tracks])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert messages(problems) == [(3, PIDS[1], f"1 malformed track URIs: {bad!r}")]


def test_playlist_count(challenge_path, valid_path):
    lines = lines_of(valid_path)[:-1]
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert messages(problems) == [
        (None, None, "2 playlist lines, the challenge set has 3 playlists; 1 challenge pids have no line: 1000002")
    ]
    report = submission.format_report(problems)
    assert report.splitlines()[-1].startswith("1 problem found")


def test_several_problems_each_reported(challenge_path, valid_path):
    lines = lines_of(valid_path)
    tracks = fields(lines[1])[1:]
    tracks[0], tracks[1] = tracks[2], "bad"
    lines[1] = join([str(PIDS[0]), *tracks])
    problems = submission.verify(challenge_set.read(challenge_path), rewrite(valid_path, lines))
    assert {p.message.split(":")[0] for p in problems} == {"1 duplicate tracks", "1 malformed track URIs"}
    assert all((p.line, p.pid) == (2, PIDS[0]) for p in problems)
    report = submission.format_report(problems)
    assert "line 2, pid 1000000: 1 duplicate tracks" in report
    assert report.splitlines()[-1].startswith("2 problems found")


def test_bad_challenge_set(tmp_path, valid_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(MPDInputError):
        submission.verify(challenge_set.read(path), valid_path)


@pytest.mark.parametrize(
    ("first_line", "form"),
    [
        ("team_info,t,e@x", "current"),
        ("team_info, t , main, e@x", "2018"),
        ("team_info,main,t,e@x", "2018"),  # the track may also stand in the second field
        ("team_info,t,other,e@x", None),
        ("team_info,t", None),
        ("7, spotify:track:0000000000000000000000", None),
    ],
)
def test_the_team_info_form_is_told(tmp_path, first_line, form):
    path = rewrite(tmp_path / "s.csv", ["# a comment first", "", first_line])
    assert submission.team_info_form(path) == form
    report = submission.format_report([], form)
    assert (
        report.startswith(f"team_info line: the {form} form, {submission.FORMS[form]}\n")
        if form
        else (report == "0 problems found: the submission is valid")
    )


def test_both_forms_verify_and_others_are_refused(challenge_path, valid_path):
    lines = lines_of(valid_path)
    assert lines[0] == "team_info,my team,me@example.com"
    challenge = challenge_set.read(challenge_path)
    for first in ("team_info,my team,main,me@example.com", "team_info,my team,creative,me@example.com"):
        assert submission.verify(challenge, rewrite(valid_path, [first, *lines[1:]])) == []
    problem = only(submission.verify(challenge, rewrite(valid_path, ["team_info,a,b,c", *lines[1:]])), "team_info")
    assert problem.line == 1 and "team_info,<team name>,<contact email>" in problem.message


# --- command line ------------------------------------------------------------------------------


def test_cli_exit_codes(challenge_path, valid_path, capsys):
    assert cli.main(["verify", str(challenge_path), str(valid_path)]) == 0
    out = capsys.readouterr().out
    assert "0 problems found" in out
    assert out.startswith("team_info line: the current form, team_info,<team name>,<contact email>\n")
    rewrite(valid_path, lines_of(valid_path)[1:])
    assert cli.main(["verify", str(challenge_path), str(valid_path)]) == 1
    out = capsys.readouterr().out
    assert "line 1: missing team_info line" in out and "1 problem found" in out
    assert cli.main(["verify", str(challenge_path), str(valid_path.with_name("none.csv"))]) == 2
    assert "error:" in capsys.readouterr().err
    assert cli.main(["verify", str(challenge_path.with_name("none.json")), str(valid_path)]) == 2


def test_cli_known_tracks_from_mpd(challenge_path, valid_path, tmp_path, capsys):
    mpd = tmp_path / "mpd"
    mpd.mkdir()
    tracks = [challenge_track(t, pos) for pos, t in enumerate(valid_tracks().ravel()[1:])]
    playlist = {
        "name": "all",
        "collaborative": "false",
        "pid": 0,
        "modified_at": 1500000000,
        "num_tracks": len(tracks),
        "num_albums": 1,
        "num_followers": 1,
        "tracks": tracks,
        "num_edits": 1,
        "duration_ms": 200000 * len(tracks),
        "num_artists": 1,
    }
    (mpd / "mpd.slice.0-999.json").write_text(json.dumps({"info": {}, "playlists": [playlist]}))
    assert cli.main(["verify", str(challenge_path), str(valid_path), "--mpd", str(mpd)]) == 1
    assert f"1 unknown tracks: {uri(0)}" in capsys.readouterr().out
    assert cli.main(["verify", str(challenge_path), str(valid_path), "--mpd", str(tmp_path / "no")]) == 2
