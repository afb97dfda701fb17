"""Hostile but parseable input: every case gets one line naming file, pid and field, or runs.

Files that are not files (a FIFO, a link to a device) are refused before they are opened;
names that only resemble a slice's are not read; integers beyond 64 bits, dates beyond any
calendar, repeated keys and negative counts are located; a tiny MPD is served, if poorly;
nothing from the input reaches the terminal raw; and no worker process outlives its parent.
Commands that could hang run in a subprocess with a timeout.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest
from mpd_data import ROOT, SLICE, copy_dir, last_line, mpd_dir, run_cli, run_process

from mpd_helpers import parallel
from mpd_helpers.data import challenge_set, dataset, rules, slices
from mpd_helpers.errors import MPDInputError, printable
from mpd_helpers.models import titles

LINUX = sys.platform.startswith("linux")
NOT_A_FILE = "is not a regular file (a pipe, socket or device), expected a JSON file"
TOO_LARGE = "expected int, got an integer too large for 64 bits"


def slice_doc() -> dict:
    """The first synthetic slice (1,000 playlists), as a fresh document."""
    return orjson.loads((mpd_dir() / SLICE).read_bytes())


def dumps(doc: dict) -> bytes:
    """JSON of ``doc``; the standard library writes the integers that orjson will not."""
    try:
        return orjson.dumps(doc)
    except orjson.JSONEncodeError:
        return json.dumps(doc).encode()


def write_mpd(folder: Path, doc: dict | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SLICE).write_bytes(doc if isinstance(doc, bytes) else dumps(doc))
    return folder


def changed_mpd(folder: Path, change) -> Path:
    """An MPD folder of one slice: the synthetic one, changed by ``change(playlists)``."""
    doc = slice_doc()
    change(doc["playlists"])
    return write_mpd(folder, doc)


def hand_challenge(path: Path, playlists: list[dict], seeds=(0, 1, 5), change=None) -> Path:
    """A challenge set by hand (pids 1000000.., no build id): playlist i's first ``seeds[i]``
    tracks as seeds; the first two titled, the others not."""
    out = []
    for i, n in enumerate(seeds):
        source = playlists[i % len(playlists)]
        n = min(n, len(source["tracks"]))
        record = {
            "pid": 1_000_000 + i,
            "num_holdouts": source["num_tracks"] - n,
            "num_samples": n,
            "num_tracks": source["num_tracks"],
            "tracks": copy.deepcopy(source["tracks"][:n]),
        }
        if i < 2:
            record["name"] = source["name"]
        out.append(record)
    if change is not None:
        change(out)
    path.write_bytes(dumps({"date": "2018-01-01", "version": "v1", "playlists": out}))
    return path


# --- 1. only regular files are read as slices --------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_slice_files_refuses_a_fifo_before_anything_opens_it(tmp_path):
    os.mkfifo(tmp_path / SLICE)
    with pytest.raises(MPDInputError) as err:
        slices.slice_files(tmp_path)
    assert str(err.value) == f"{tmp_path / SLICE}: {NOT_A_FILE}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["check", "stats", "recommend"])
def test_a_fifo_named_like_a_slice_is_refused_not_waited_on(tmp_path, command):
    d = tmp_path / "mpd"
    d.mkdir()
    os.mkfifo(d / SLICE)
    extra = (
        [
            hand_challenge(tmp_path / "challenge_set.json", slice_doc()["playlists"]),
            "--method",
            "popularity",
            "--out",
            tmp_path / "sub.csv",
            "--quiet",
        ]
        if command == "recommend"
        else []
    )
    code, _, err = run_process(command, d, *extra)
    assert code == 2 and last_line(err) == f"error: {d / SLICE}: {NOT_A_FILE}" and "Traceback" not in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_slice_linked_to_dev_zero_is_refused_not_read(tmp_path):
    d = tmp_path / "mpd"
    d.mkdir()
    (d / SLICE).symlink_to("/dev/zero")
    with pytest.raises(MPDInputError, match="is not a regular file"):
        slices.slice_files(d)
    code, _, err = run_process("check", d, timeout=60)
    assert code == 2 and last_line(err) == f"error: {d / SLICE}: {NOT_A_FILE}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_lenient_check_skips_a_fifo_and_reads_the_rest(tmp_path):
    d = copy_dir(mpd_dir(), tmp_path / "mpd")
    os.mkfifo(d / "mpd.slice.1000-1999.json")
    code, out, err = run_process("check", d, "--lenient")
    assert code == 0 and f"skipped an unreadable file: {d / 'mpd.slice.1000-1999.json'}: is not a regular" in out
    assert "1000 playlists" in out


# --- 2. a slice is named exactly mpd.slice.<first>-<last>.json ---------------------------------


@pytest.mark.parametrize("name", ["._" + SLICE, "x" + SLICE, SLICE + ".bak", SLICE + "~"])
def test_a_name_that_only_contains_a_slice_name_is_not_read(tmp_path, capsys, name):
    d = copy_dir(mpd_dir(), tmp_path / "mpd")
    (d / name).write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")  # an AppleDouble header
    assert slices.slice_files(d) == [d / SLICE]
    code, out, _ = run_cli(capsys, "check", d)
    assert code == 0 and out.splitlines()[-1].startswith("1000 playlists, ")
    code, out, _ = run_cli(capsys, "stats", d)
    assert code == 0 and out.startswith("number of playlists 1000\n")


def test_slice_names_sort_by_first_pid():
    assert slices.SLICE_RE.fullmatch("mpd.slice.1000-1999.json").group(1) == "1000"
    assert not slices.SLICE_RE.search("._mpd.slice.0-999.json")
    assert not slices.SLICE_RE.search("mpd.slice.0-999.json\n")


# --- 3. integers beyond 64 bits, negative pids and holdouts -----------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("pid", 2**63),
        ("pid", 2**64 - 1),
        ("num_tracks", 2**63),
        ("modified_at", 2**64 - 1),
        ("duration_ms", 2**63),
        ("num_followers", -(2**63) - 1),
        ("tracks[0].pos", 2**63),
        ("tracks[0].duration_ms", 2**64 - 1),
    ],
)
@pytest.mark.parametrize("command", ["check", "stats"])
def test_an_integer_beyond_64_bits_in_a_slice_is_located(tmp_path, capsys, command, field, value):
    def change(pls):
        if field.startswith("tracks[0]."):
            pls[3]["tracks"][0][field.split(".")[1]] = value
        else:
            pls[3][field] = value

    d = changed_mpd(tmp_path / "mpd", change)
    pid = value if field == "pid" else 3
    code, _, err = run_cli(capsys, command, d)
    assert code == 2 and last_line(err) == f"error: {d / SLICE}, pid {pid}, field '{field}': {TOO_LARGE}"


def test_recommend_locates_a_pid_beyond_64_bits_in_a_slice(tmp_path, capsys):
    d = changed_mpd(tmp_path / "mpd", lambda pls: pls[3].update(pid=2**63))
    challenge = hand_challenge(tmp_path / "challenge_set.json", slice_doc()["playlists"])
    code, _, err = run_cli(
        capsys, "recommend", d, challenge, "--method", "popularity", "--out", tmp_path / "s.csv", "--quiet"
    )
    assert code == 2 and last_line(err) == f"error: {d / SLICE}, pid {2**63}, field 'pid': {TOO_LARGE}"


@pytest.mark.parametrize("field", ["pid", "num_holdouts", "num_samples", "num_tracks", "tracks[0].pos"])
@pytest.mark.parametrize("command", ["check", "recommend"])
def test_an_integer_beyond_64_bits_in_a_challenge_set_is_located(tmp_path, capsys, command, field):
    def change(pls):
        if field == "tracks[0].pos":
            pls[1]["tracks"][0]["pos"] = 2**64 - 1
        else:
            pls[1][field] = 2**64 - 1

    challenge = hand_challenge(tmp_path / "challenge_set.json", slice_doc()["playlists"], change=change)
    argv = (
        ["check", mpd_dir(), "--challenge", challenge]
        if command == "check"
        else ["recommend", mpd_dir(), challenge, "--method", "popularity", "--out", tmp_path / "s.csv", "--quiet"]
    )
    code, _, err = run_cli(capsys, *argv)
    pid = 2**64 - 1 if field == "pid" else 1_000_001
    assert code == 2 and last_line(err) == f"error: {challenge}, pid {pid}, field '{field}': {TOO_LARGE}"


def test_a_negative_pid_is_a_rule_violation(tmp_path, capsys):
    d = changed_mpd(tmp_path / "mpd", lambda pls: pls[3].update(pid=-5))
    code, out, _ = run_cli(capsys, "check", d)
    assert code == 1 and f"{d / SLICE}: pid -5: field 'pid': negative" in out.splitlines()


def test_negative_pids_and_holdouts_in_a_challenge_set_are_rule_violations(tmp_path, capsys):
    def change(pls):
        pls[0]["pid"] = -7
        pls[2].update(num_tracks=pls[2]["num_samples"] - 3, num_holdouts=-3)  # consistent, but negative

    challenge = hand_challenge(tmp_path / "challenge_set.json", slice_doc()["playlists"], change=change)
    code, out, _ = run_cli(capsys, "check", mpd_dir(), "--challenge", challenge)
    lines = out.splitlines()
    assert code == 1 and f"{challenge}: pid -7: field 'pid': negative" in lines
    assert f"{challenge}: pid 1000002: field 'num_holdouts': negative: fewer tracks than seeds" in lines
    holdouts = hand_challenge(
        tmp_path / "holdouts.json",
        slice_doc()["playlists"],
        change=lambda pls: pls[2].update(num_tracks=pls[2]["num_samples"] - 3, num_holdouts=-3),
    )
    code, _, err = run_cli(
        capsys, "recommend", mpd_dir(), holdouts, "--method", "popularity", "--out", tmp_path / "s.csv", "--quiet"
    )
    assert code == 0, err  # served all the same


# --- 4. keys given twice -----------------------------------------------------------------------


def test_a_key_given_twice_is_a_rule_violation(tmp_path, capsys):
    text = orjson.dumps(slice_doc()).decode()
    at = text.index('"pid":3,')
    text = text[:at] + '"pid":77,' + text[at:]  # playlist 3 says pid twice; the last (3) is read
    at = text.index('"track_uri":', text.index('"pid":3,'))
    text = text[:at] + '"track_uri":"spotify:track:0000000000000000000000",' + text[at:]
    d = write_mpd(tmp_path / "mpd", text.encode())
    code, out, _ = run_cli(capsys, "check", d)
    lines = out.splitlines()
    message = "key given more than once (the last value is the one read)"
    assert code == 1 and f"{d / SLICE}: pid 3: field 'pid': {message}" in lines
    assert f"{d / SLICE}: pid 3: field 'tracks[0].track_uri': {message}" in lines


def test_duplicate_keys_of_a_challenge_set_and_of_the_file_itself(tmp_path):
    challenge = hand_challenge(tmp_path / "c.json", slice_doc()["playlists"])
    text = challenge.read_text()
    challenge.write_text('{"version":"v0",' + text[1:].replace('"num_samples":', '"num_samples":0,"num_samples":', 1))
    assert rules.duplicate_keys(challenge) == [
        f"{challenge}: field 'version': key given more than once (the last value is the one read)",
        f"{challenge}: pid 1000000: field 'num_samples': key given more than once (the last value is the one read)",
    ]
    assert rules.duplicate_keys(mpd_dir() / SLICE) == []


# --- 5. stats: dates beyond any calendar --------------------------------------------------------


@pytest.mark.parametrize("value", [10**15, -(10**15), 2**63 - 1, -(2**63)])
def test_stats_locates_a_date_it_cannot_show(tmp_path, capsys, value):
    d = changed_mpd(tmp_path / "mpd", lambda pls: pls[3].update(modified_at=value))
    code, out, err = run_cli(capsys, "stats", d)
    assert (
        code == 2
        and out == ""
        and last_line(err)
        == (
            f"error: {d / SLICE}, pid 3, field 'modified_at': "
            f"{value} seconds is not a date between the years 1677 and 2262"
        )
    )


def test_stats_shows_the_edge_dates_and_escapes_titles(tmp_path, capsys):
    def change(pls):
        for p in pls[:40]:
            p.update(name="\x1b[2Jboom", modified_at=9_223_372_036)  # the last second shown

    d = changed_mpd(tmp_path / "mpd", change)
    code, out, _ = run_cli(capsys, "stats", d)
    assert code == 0 and "2262-04-11" in out and "\x1b" not in out and "\\x1b[2jboom" in out


# --- 6. a tiny MPD ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """MPD folders of 1, 2, 5 and 100 playlists (one slice, its info kept) and a challenge set for each."""
    root = tmp_path_factory.mktemp("tiny")
    doc = slice_doc()
    out = {}
    for n in (1, 2, 5, 100):
        d = write_mpd(root / f"mpd{n}", {"info": doc["info"], "playlists": doc["playlists"][:n]})
        out[n] = d, hand_challenge(root / f"challenge{n}.json", doc["playlists"][:n])
    return out


def test_the_title_model_with_too_few_titles_has_no_candidates(tiny):
    for n in (1, 2):
        ds = dataset.load(tiny[n][0], challenge_set.read(tiny[n][1]), progress=False)
        model = titles.TitleModel().fit(ds)
        assert model.scores(ds.challenge_rows).nnz == 0
        assert model.recommend(ds.challenge_rows, n=10, progress=False).shape == (3, 10)


@pytest.mark.parametrize("n", [1, 2, 5, 100])
@pytest.mark.parametrize("method", ["two-stage", "blend", "ials"])
def test_recommend_on_a_tiny_mpd_runs_or_says_why_not(tiny, tmp_path, capsys, n, method):
    d, challenge = tiny[n]
    code, _, err = run_cli(
        capsys, "recommend", d, challenge, "--method", method, "--out", tmp_path / "s.csv", "--quiet"
    )
    if n == 100:
        assert code == 0, err
    else:  # fewer than 500 distinct tracks: no valid submission can be written, and it says so
        assert code == 2 and "error: " in err and "Traceback" not in err


@pytest.mark.parametrize("n", [1, 2, 5, 100])
@pytest.mark.parametrize("method", ["two-stage", "blend", "ials"])
def test_continue_on_a_tiny_mpd_runs(tiny, tmp_path, capsys, n, method):
    for _ in range(2):  # fitted and saved, then loaded
        code, out, err = run_cli(
            capsys,
            "continue",
            tiny[n][0],
            "--title",
            "rock",
            "--method",
            method,
            "--model-dir",
            tmp_path / "model",
            "--quiet",
            "-n",
            "5",
        )
        assert code == 0, err
        assert "rank" in out


# --- 7. nothing from the input reaches the terminal raw -----------------------------------------


def test_printable_escapes_control_characters_and_keeps_newlines():
    assert printable("a\x1b[31mb\x07c\x7fd\x9be\nf\tg") == "a\\x1b[31mb\\x07c\\x7fd\\x9be\nf\\x09g"
    assert printable("a\nb\r", keep_newlines=False) == "a\\x0ab\\x0d"
    assert printable("\u202eevil\u2028") == "\\u202eevil\\u2028"
    assert printable("caf\u00e9 \U0001f3b5") == "caf\u00e9 \U0001f3b5"  # ordinary text is left alone
    err = MPDInputError(
        "first line\x1b]0;title\x07\nsecond line", file="a\x1b[31m\nb.json", pid="\x9b1m", field="x\x00"
    )
    assert str(err) == "a\\x1b[31m\\x0ab.json, pid \\x9b1m, field 'x\\x00': first line\\x1b]0;title\\x07\nsecond line"


def test_an_escape_sequence_in_a_pid_is_not_echoed_raw(tmp_path, capsys):
    d = changed_mpd(tmp_path / "mpd", lambda pls: pls[3].update(pid="\x1b[31mred\x1b[0m"))
    code, _, err = run_cli(capsys, "check", d)
    assert code == 2 and "\x1b" not in err
    assert last_line(err) == (
        f"error: {d / SLICE}, pid \\x1b[31mred\\x1b[0m, field 'pid': expected int, got str '\\x1b[31mred\\x1b[0m'"
    )


def test_an_escape_sequence_in_a_folder_name_is_not_echoed_raw(tmp_path, capsys):
    d = changed_mpd(tmp_path / "mpd\x1b[31m", lambda pls: pls[3].update(name=5))
    code, _, err = run_cli(capsys, "check", d)
    assert code == 2 and "\x1b" not in err and "mpd\\x1b[31m" in last_line(err) and "field 'name'" in last_line(err)
    d = changed_mpd(tmp_path / "rules\x1b[31m", lambda pls: pls[3].update(pid=-1))
    code, out, _ = run_cli(capsys, "check", d)
    assert code == 1 and "\x1b" not in out and "rules\\x1b[31m" in out


# --- 8. workers die with their parent -----------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not any(map(_alive, pids)):
            return True
        time.sleep(0.05)
    return not any(map(_alive, pids))


PARENT = textwrap.dedent("""
    import os, signal, sys, time
    from mpd_helpers import cli, parallel

    def task(i):
        os.write(1, f"{os.getpid()}\\n".encode())  # one write: two workers' lines never interleave
        time.sleep(300)

    if __name__ == "__main__":
        signal.signal(signal.SIGTERM, cli._terminate)  # as the command line has it
        with parallel.pool(2) as pool:
            list(pool.map(task, range(2)))
""")


def _start_parent(tmp_path) -> tuple[subprocess.Popen, list[int]]:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    pids = [int(proc.stdout.readline()) for _ in range(2)]
    return proc, pids


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_when_their_parent_is_killed(tmp_path):
    proc, pids = _start_parent(tmp_path)
    try:
        proc.kill()
        proc.wait(30)
        assert _gone_within(pids, 10), "workers outlived their SIGKILLed parent"
    finally:
        for pid in filter(_alive, pids):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not LINUX, reason="/proc and PR_SET_PDEATHSIG are Linux's")
def test_a_worker_takes_sigterm_though_its_parent_catches_it(tmp_path):
    proc, pids = _start_parent(tmp_path)
    try:
        os.kill(pids[0], signal.SIGTERM)
        assert _gone_within(pids[:1], 10), "a worker ignored SIGTERM"
    finally:
        proc.kill()
        proc.wait(30)
        for pid in filter(_alive, pids):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_whose_parent_died_before_it_was_tied_to_it_leaves():
    # as if the parent (pid 1 is never ours) had died between fork and prctl
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mpd_helpers import parallel\nparallel._start_worker(1, 'fork', None, ())\nprint('still here')",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert code.returncode == 1 and code.stdout == "" and code.stderr == ""


def test_a_pool_of_one_is_this_process_and_a_pool_still_maps():
    assert list(parallel.pool(1).map(abs, [-1, 2])) == [1, 2]
    with parallel.pool(2) as pool:
        assert list(pool.map(abs, [-1, -2, 3])) == [1, 2, 3]
