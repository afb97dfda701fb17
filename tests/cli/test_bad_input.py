"""Bad input beyond JSON content: every case gets one clear line, exit status 2, and no partial output.

Each test names the bad input, checks the message (file, pid, field where they apply), the
exit status and what is left on disk. Interrupts are sent as real signals to a real process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from mpd_data import ROOT, SLICE, challenge_build, copy_dir, mpd_dir, popular_rows, run_cli

from mpd_helpers import cli, files
from mpd_helpers.cli import commands
from mpd_helpers.data import challenge_set, dataset, recipe, slices, synthetic
from mpd_helpers.errors import MPDInputError
from mpd_helpers.grading import submission


def uri(i: int) -> str:
    return f"spotify:track:{i:022d}"


@pytest.fixture
def small_submission(tmp_path):
    """A valid submission for the shared challenge set (the popular fill of each playlist)."""
    b = challenge_build()
    seeds = challenge_set.read(b.challenge_path).seeds()
    rows = popular_rows(seeds)
    return submission.write(tmp_path / "sub.csv", list(seeds), rows, "team", "a@b.c"), b


# --- OS errors: one line, exit 2 -------------------------------------------------------------


def test_a_directory_named_like_a_slice(tmp_path, capsys):
    (tmp_path / SLICE).mkdir()
    code, _, err = run_cli(capsys, "check", tmp_path)
    assert code == 2 and err.splitlines()[-1] == f"error: {tmp_path / SLICE}: is a directory, expected a JSON file"


def test_a_truncated_gzipped_submission(small_submission, capsys):
    path, b = small_submission
    gz = path.with_name("sub.csv.gz")
    gz.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    for argv in (("verify", b.challenge_path, gz), ("evaluate", gz, "--truth", b.truth_path)):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and err.splitlines()[-1].startswith(f"error: {gz}: damaged gzip data after line")


def test_synth_into_a_file_or_a_folder_of_other_things(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    code, _, err = run_cli(capsys, "synth", target, "--slices", "1")
    assert code == 2 and str(target) in err and target.read_text() == "not a folder"
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep")
    code, _, err = run_cli(capsys, "synth", other, "--slices", "1")
    assert code == 2 and "holds files this tool did not write" in err and (other / "mine.txt").read_text() == "keep"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the permissions say")
def test_unreadable_slice_and_read_only_target(tmp_path, capsys):
    d = copy_dir(mpd_dir(), tmp_path / "mpd")
    (d / SLICE).chmod(0)
    code, _, err = run_cli(capsys, "check", d)
    assert code == 2 and "Permission denied" in err and str(d / SLICE) in err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run_cli(capsys, "synth", locked / "out", "--slices", "1")
    assert code == 2 and "Permission denied" in err


def test_output_closed_early_is_quiet(small_submission):
    path, b = small_submission
    broken = path.with_name("broken.csv")
    lines = path.read_text().splitlines()
    broken.write_text("\n".join([lines[0]] + [line + ", not-a-uri" for line in lines[1:]]) + "\n")
    shell = subprocess.run(
        f"{sys.executable} -m mpd_helpers verify {b.challenge_path} {broken} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert shell.stdout.count("\n") == 1 and "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr


def test_stats_compare_on_an_empty_slice_says_so_before_any_output(tmp_path, capsys):
    (tmp_path / SLICE).write_bytes(orjson.dumps({"info": {}, "playlists": []}))
    code, out, err = run_cli(capsys, "stats", tmp_path, "--compare")
    assert code == 2 and out == "" and "holds no playlist entries" in err


def test_a_real_bug_is_not_passed_off_as_bad_input(monkeypatch):
    monkeypatch.setattr(slices, "read_slices", lambda *a, **k: int("not a number"))
    with pytest.raises(ValueError, match="invalid literal"):
        cli.main(["stats", "anywhere"])


# --- outputs made of several files appear whole or not at all ---------------------------------


def test_a_challenge_build_that_fails_leaves_the_old_pair(tmp_path):
    out = tmp_path / "challenge"
    first = recipe.build(mpd_dir(5), out, per_category=10, progress=False)
    before = first.challenge_path.read_bytes(), first.truth_path.read_bytes()
    with pytest.raises(MPDInputError, match="category"):
        recipe.build(mpd_dir(5), out, per_category=400, progress=False)  # more than qualify
    assert (first.challenge_path.read_bytes(), first.truth_path.read_bytes()) == before
    assert files.leftovers(out) == []


def test_a_mismatched_challenge_and_truth_are_refused(tmp_path, small_submission, capsys):
    a = recipe.build(mpd_dir(5), tmp_path / "a", per_category=10, seed=0, progress=False)
    b = recipe.build(mpd_dir(5), tmp_path / "b", per_category=10, seed=1, progress=False)
    with pytest.raises(MPDInputError, match=r"challenge_truth.json, field 'build': belongs to another challenge set"):
        dataset.load(mpd_dir(5), challenge_set.read(a.challenge_path, b.truth_path), progress=False)
    path, _ = small_submission
    code, _, err = run_cli(capsys, "evaluate", path, "--truth", b.truth_path, "--challenge", a.challenge_path)
    assert code == 2 and "belongs to another challenge set" in err


def test_an_interrupted_synth_leaves_no_partial_mpd(tmp_path):
    target = tmp_path / "mpd"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mpd_helpers", "synth", str(target), "--slices", "40"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not any(tmp_path.glob(f".mpd{files.PARTIAL}*/{SLICE}")):
        time.sleep(0.05)  # wait until the first slice is being written
    assert proc.poll() is None, "synth ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 143
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_killed_writer_leaves_a_recognisable_leftover_that_check_reports(tmp_path, capsys):
    # SIGKILL cannot be caught: the temporary folder stays, named for its target, and is reported
    d = copy_dir(mpd_dir(), tmp_path / "mpd")
    partial = tmp_path / f".mpd{files.PARTIAL}x1y2"
    partial.mkdir()
    assert files.leftovers(tmp_path) == [partial]
    code, out, _ = run_cli(capsys, "check", d)
    assert code == 0 and f"warning: {partial} was left by an interrupted writer" in out


def test_a_killed_submission_writer_is_reported_by_verify(small_submission, capsys):
    path, b = small_submission
    left = path.with_name(f".{path.name}{files.PARTIAL}abc123")
    left.write_text("half a submission")
    code, _, err = run_cli(capsys, "verify", b.challenge_path, path)
    assert code == 0 and f"warning: {left} was left by an interrupted writer" in err


def test_a_failed_atomic_folder_keeps_the_old_one(tmp_path):
    target = tmp_path / "out"
    with files.atomic_folder(target, "test folder", {"n": 1}) as building:
        (building / "a.txt").write_text("first")
    with pytest.raises(RuntimeError):
        with files.atomic_folder(target, "test folder") as building:
            (building / "a.txt").write_text("second")
            raise RuntimeError("stopped half way")
    assert (target / "a.txt").read_text() == "first" and files.is_complete(target) and files.leftovers(tmp_path) == []


# --- one reader per file type ----------------------------------------------------------------


def _challenge_variant(tmp_path, change) -> Path:
    doc = orjson.loads(challenge_build().challenge_path.read_bytes())
    change(doc["playlists"])
    path = tmp_path / "challenge_set.json"
    path.write_bytes(orjson.dumps(doc))
    return path


@pytest.mark.parametrize(
    "change, located",
    [
        (lambda pls: pls[20].pop("tracks"), "field 'tracks': missing"),
        (lambda pls: pls[3].update(pid=1000005.5), "field 'pid': expected int, got float 1000005.5"),
        (lambda pls: pls[4].update(pid=pls[3]["pid"]), "field 'pid': duplicate pid, first in"),
    ],
)
def test_verify_reads_the_challenge_set_strictly(tmp_path, small_submission, capsys, change, located):
    path, _ = small_submission
    bad = _challenge_variant(tmp_path, change)
    code, _, err = run_cli(capsys, "verify", bad, path)
    assert code == 2 and str(bad) in err and located in err


@pytest.mark.parametrize("pid", ["1_000_000", "１000000", "+1000000", "1000000.0"])
def test_a_pid_that_int_would_accept_is_still_refused(small_submission, pid):
    path, b = small_submission
    lines = path.read_text().splitlines()
    first_pid = lines[1].split(",")[0]
    path.write_text("\n".join([lines[0], lines[1].replace(first_pid, pid, 1)] + lines[2:]) + "\n")
    problems = submission.verify(challenge_set.read(b.challenge_path), path)
    assert any(p.message == f"pid {pid!r} is not an integer" for p in problems)


def test_the_three_field_team_info_line_is_accepted(small_submission):
    path, b = small_submission
    lines = path.read_text().splitlines()
    path.write_text("\n".join(["team_info,team,a@b.c"] + lines[1:]) + "\n")
    assert submission.verify(challenge_set.read(b.challenge_path), path) == []


def test_write_refuses_rows_that_would_break_the_file(tmp_path):
    with pytest.raises(MPDInputError, match=r"pid 5, field 'tracks': 1 values are not track URIs"):
        submission.write(tmp_path / "s.csv", [5], [[uri(1), uri(2) + "\n6, " + uri(3)]], "t", "e@x")
    with pytest.raises(MPDInputError, match=r"field 'pid': pid 5.5 is not an integer"):
        submission.write(tmp_path / "s.csv", [5.5], [[uri(1)]], "t", "e@x")
    assert list(tmp_path.iterdir()) == []


# --- lenient mode counts and names what it skips ---------------------------------------------


def test_lenient_names_a_truncated_slice(tmp_path, capsys):
    d = copy_dir(mpd_dir(2), tmp_path / "mpd")
    second = d / "mpd.slice.1000-1999.json"
    second.write_bytes(second.read_bytes()[:5000])
    code, out, _ = run_cli(capsys, "check", d, "--lenient")
    assert code == 0
    assert f"warning: skipped an unreadable file: {second}, line" in out
    assert "0 playlists and 1 files skipped" in out


# --- evaluate says what it graded -------------------------------------------------------------


def test_evaluate_refuses_an_empty_submission_unless_partial(tmp_path, capsys):
    b = challenge_build()
    empty = tmp_path / "empty.csv"
    empty.write_text("team_info,team,a@b.c\n")
    code, _, err = run_cli(capsys, "evaluate", empty, "--truth", b.truth_path)
    assert code == 1 and "100 of the 100 playlists with held-out tracks have no line" in err
    assert "does not cover the truth" in err
    code, _, _ = run_cli(capsys, "evaluate", empty, "--truth", b.truth_path, "--partial")
    assert code == 0


def test_evaluate_names_short_lists_and_seeds(small_submission, capsys):
    path, b = small_submission
    seeds = challenge_set.read(b.challenge_path).seeds()
    pid = next(p for p, s in seeds.items() if s)
    lines = path.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(f"{pid},"))
    fields = lines[i].split(", ")
    lines[i] = ", ".join(fields[:1] + [sorted(seeds[pid])[0]] + fields[2:-1])  # a seed, and 499 tracks
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(capsys, "evaluate", path, "--truth", b.truth_path, "--challenge", b.challenge_path)
    assert code == 0
    assert f"1 playlists have fewer than 500 distinct tracks: {pid}" in err
    assert f"1 playlists recommend seed tracks of their own playlist: {pid}" in err


# --- arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["challenge", "MPD", "OUT", "--per-category", "0"],
        ["challenge", "MPD", "OUT", "--per-category", "-1"],
        ["challenge", "MPD", "OUT", "--min-coverage", "1.5"],
        ["challenge", "MPD", "OUT", "--min-coverage", "nan"],
        ["synth", "OUT", "--slices", "0"],
    ],
)
def test_out_of_range_arguments_are_usage_errors(tmp_path, capsys, argv):
    argv = [str(tmp_path / a) if a in ("MPD", "OUT") else a for a in argv]
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2 and "error: argument" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["verify", "--help"])
    out = capsys.readouterr().out
    assert "exit status:" in out and "141" in out and "bad input or usage" in out


def test_the_command_list_is_explicit():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == [name for name, _, _ in cli.COMMANDS]
    assert all(callable(getattr(commands, f"run_{name}")) for name in sub.choices)


def test_synth_output_is_stamped_and_the_same_bytes_twice(tmp_path):
    a = synthetic.generate(tmp_path / "a", n_slices=1, seed=3, progress=False)
    b = synthetic.generate(tmp_path / "b", n_slices=1, seed=3, progress=False)
    assert a[0].read_bytes() == b[0].read_bytes() and files.is_complete(tmp_path / "a")
    synthetic.generate(tmp_path / "a", n_slices=1, seed=3, progress=False)  # an MPD-only folder is replaced
    assert a[0].read_bytes() == b[0].read_bytes()


# --- located precisely --------------------------------------------------------------------------


def _slice_variant(tmp_path, change) -> Path:
    d = copy_dir(mpd_dir(2), tmp_path / "mpd")
    change(d)
    return d


def _edit(path: Path, change) -> None:
    doc = orjson.loads(path.read_bytes())
    change(doc["playlists"])
    path.write_bytes(orjson.dumps(doc))


def test_a_track_that_is_a_string_is_named_by_its_index(tmp_path, capsys):
    d = _slice_variant(tmp_path, lambda d: _edit(d / SLICE, lambda pls: pls[7]["tracks"].__setitem__(2, "a song")))
    code, _, err = run_cli(capsys, "check", d)
    assert code == 2 and err.splitlines()[-1] == f"error: {d / SLICE}, pid 7, field 'tracks[2]': not a JSON object"


def test_a_pid_repeated_in_another_slice_names_the_first_file(tmp_path, capsys):
    second = "mpd.slice.1000-1999.json"
    d = _slice_variant(tmp_path, lambda d: _edit(d / second, lambda pls: pls[0].update(pid=5)))
    code, _, err = run_cli(capsys, "check", d)
    assert code == 2
    assert err.splitlines()[-1] == f"error: {d / second}, pid 5, field 'pid': duplicate pid, first in {d / SLICE}"


def test_a_byte_that_is_not_utf8_is_located(tmp_path, capsys):
    def corrupt(d):
        data = (d / SLICE).read_bytes()
        at = data.index(b'"name"', 5000)  # somewhere past the first lines
        (d / SLICE).write_bytes(data[: at + 9] + b"\xff" + data[at + 9 :])

    d = _slice_variant(tmp_path, corrupt)
    data = (d / SLICE).read_bytes()
    at = data.index(b"\xff")
    line, column = data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at)
    code, _, err = run_cli(capsys, "check", d)
    assert (
        code == 2 and err.splitlines()[-1] == f"error: {d / SLICE}, line {line}: not UTF-8: byte 0xff (column {column})"
    )


def test_a_pid_beyond_64_bits_is_called_so(tmp_path, capsys):
    def huge(d):
        text = (d / SLICE).read_text()
        (d / SLICE).write_text(text.replace('"pid": 3,', '"pid": 123456789012345678901234567,', 1))

    d = _slice_variant(tmp_path, huge)
    code, _, err = run_cli(capsys, "check", d)
    assert code == 2 and "pid (beyond 64 bits), field 'pid': expected int, got an integer too large for 64 bits" in err
