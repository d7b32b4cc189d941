"""The dashboard's non-Streamlit parts: filters, sources, shaping, launching."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from judgecal.dashboard import filters as flt
from judgecal.dashboard import launch, shaping, sources
from judgecal.errors import ConfigError


@pytest.fixture
def table():
    rows = []
    for i, (lang, script) in enumerate([("hi", "Deva"), ("mr", "Deva"), ("ta", "Taml")]):
        for metric in ("la", "h"):
            rows += [
                {"item_id": f"i{i}", "language": lang, "script": script, "metric": metric, "rater": "a",
                 "rater_kind": "human", "score": 1.0, "system": f"s{i % 2}", "task": "qa"},
                {"item_id": f"i{i}", "language": lang, "script": script, "metric": metric, "rater": "j1",
                 "rater_kind": "judge", "score": 1.0, "system": f"s{i % 2}", "task": "qa"},
                {"item_id": f"i{i}", "language": lang, "script": script, "metric": metric, "rater": "j2",
                 "rater_kind": "judge", "score": 0.0, "system": f"s{i % 2}", "task": "qa"},
            ]
    return pd.DataFrame(rows)


def test_filter_options_and_judges(table):
    opts = flt.filter_options(table)
    assert opts["language"] == ["hi", "mr", "ta"]
    assert opts["script"] == ["Deva", "Taml"]
    assert opts["judge"] == ["j1", "j2"]  # human raters are not judges
    assert "prompt" not in opts


def test_filters_combine_and_keep_humans_for_judge_filter(table):
    f = flt.Filters({"script": ("Deva",), "judge": ("j2",)})
    out = flt.apply_filters(table, f)
    assert set(out["language"]) == {"hi", "mr"}
    assert set(out["rater"]) == {"a", "j2"}  # humans kept, only the chosen judge
    assert flt.apply_filters(table, flt.Filters()) is table
    assert flt.apply_filters(table, flt.Filters({"language": ("hi",), "script": ("Taml",)})).empty


def test_filter_key_is_order_independent_and_describes():
    a = flt.Filters({"language": ("ta", "hi"), "metric": ()})
    b = flt.Filters({"language": ("hi", "ta")})
    assert a.key() == b.key()
    assert a.describe() == "language ta, hi"
    assert flt.Filters().describe() == "all ratings"
    with pytest.raises(ValueError, match="unknown filter"):
        flt.Filters({"colour": ("red",)})


def test_keep_known_drops_values_the_data_lacks(table):
    kept, dropped = flt.keep_known(flt.Filters({"language": ("hi", "xx"), "system": ("zz",)}),
                                   flt.filter_options(table))
    assert kept.active == {"language": ("hi",)}
    assert dropped == {"language": ["xx"], "system": ["zz"]}


def test_read_ratings_source_file_and_errors(tmp_path, table):
    good = tmp_path / "r.csv"
    table.to_csv(good, index=False)
    out = sources.read_ratings_source(good)
    assert len(out) == len(table)
    bad = tmp_path / "bad.csv"
    bad.write_text("item_id,score\n1,2\n", encoding="utf-8")
    with pytest.raises(sources.SourceError, match="required column 'language'"):
        sources.read_ratings_source(bad)
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(sources.SourceError, match="not a PARIKSHA release"):
        sources.read_ratings_source(folder)
    with pytest.raises(sources.SourceError, match="no such file"):
        sources.source_ref(tmp_path / "missing.csv")


def test_source_ref_changes_when_the_file_changes(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("a\n", encoding="utf-8")
    first = sources.source_ref(p)
    p.write_text("a,b\n", encoding="utf-8")
    assert sources.source_ref(p) != first


def test_uploaded_ratings_errors_name_the_upload(table):
    data = table.to_csv(index=False).encode()
    assert len(sources.read_uploaded_ratings("x.csv", data)) == len(table)
    with pytest.raises(sources.SourceError, match=r"x\.bin: cannot tell the file's format"):
        sources.read_uploaded_ratings("x.bin", data)
    with pytest.raises(sources.SourceError, match="empty"):
        sources.read_uploaded_ratings("x.csv", b"")
    with pytest.raises(sources.SourceError) as err:
        sources.read_uploaded_ratings("../../etc/x.csv", b"item_id\n1\n")
    assert "judgecal-upload" not in str(err.value) and "x.csv" in str(err.value)


def test_pariksha_folder_source(pariksha_path):
    out = sources.read_ratings_source(pariksha_path, repair=True)
    assert {"hi", "ta"} <= set(out["language"]) and set(out["rater_kind"]) == {"human", "judge"}


def test_overview_matrix_sorts_worst_first():
    agreement = pd.DataFrame({
        "language": ["hi", "hi", "ta", "ta", "hi", "ta"], "script": ["Deva", "Deva", "Taml", "Taml", "Deva", "Taml"],
        "metric": ["la", "tq", "la", "tq", "la", "la"], "judge": ["j", "j", "j", "j", "", ""],
        "comparison": ["judge-consensus"] * 4 + ["human-human"] * 2, "statistic": ["alpha"] * 6,
        "estimate": [0.5, 0.1, 0.3, 0.4, 0.7, 0.6], "ci_low": [0.4, 0.0, 0.2, 0.3, 0.6, 0.5],
        "ci_high": [0.6, 0.2, 0.4, 0.5, 0.8, 0.7], "n": [10] * 6,
    })
    bias = pd.DataFrame({
        "language": ["hi", "hi", "ta", "ta"], "script": ["Deva", "Deva", "Taml", "Taml"],
        "metric": ["la", "tq", "la", "tq"], "judge": ["j"] * 4, "subset": ["all"] * 4,
        "estimate": [0.3, -0.1, 0.2, np.nan], "ci_low": [0.2, -0.2, 0.1, np.nan], "ci_high": [0.4, 0.0, 0.3, np.nan],
    })
    m = shaping.overview_matrix(agreement, bias)
    assert list(m["language"]) == ["hi", "hi", "ta", "ta"]  # hi's worst metric (0.1) < ta's (0.3)
    assert m.loc[0, "agreement_ci"] == "0.50 [0.40, 0.60]" and m.loc[0, "human_ceiling"] == 0.7
    assert m.loc[3, "bias_ci"] == "n/a"
    wide = shaping.overview_wide(m)
    assert list(wide["language"]) == ["hi", "ta"] and wide.loc[0, "tq bias"] == -0.1
    assert "background-color" in shaping.agreement_colour(0.1) and shaping.agreement_colour(np.nan).endswith("#eeeeee")
    assert shaping.bias_colour(0.8) != shaping.bias_colour(-0.8)


def test_interval_pivot_and_selections():
    est = pd.DataFrame({"system": ["a", "a", "b", "b"], "estimator": ["ppi", "human"] * 2,
                        "estimate": [0.5, 0.4, -0.25, np.nan], "ci_low": [0.4, 0.3, -0.5, np.nan],
                        "ci_high": [0.6, 0.5, 0.0, np.nan], "n": [10, 10, 12, 12], "N": [50, 50, 60, 60],
                        "higher_is_better": [True] * 4})
    wide = shaping.interval_pivot(est, "system", "estimator")
    assert wide.to_dict("records") == [{"system": "a", "human": "0.40 [0.30, 0.50]", "ppi": "0.50 [0.40, 0.60]"},
                                       {"system": "b", "human": "n/a", "ppi": "-0.25 [-0.50, 0.00]"}]
    assert shaping.interval_text(est.iloc[2:3], signed=True) == ["-0.25 [-0.50, +0.00]"]
    assert shaping.system_order(est) == ["a", "b"]
    side = shaping.systems_side_by_side(est, ["b", "a"], {"ppi": "PPI++", "human": "humans only"})
    assert side["system"].tolist() == ["b", "a"] and side["labelled items"].tolist() == [12, 10]
    items = pd.DataFrame({"item_id": ["x", "y", "z"], "gap": [1.0, -0.5, 0.2], "humans_agree": [True, True, False]})
    pick = shaping.select_disagreements
    assert pick(items, direction="judge higher")["item_id"].tolist() == ["x", "z"]
    assert pick(items, direction="judge lower", agree_only=True)["item_id"].tolist() == ["y"]
    assert pick(items, item_ids={"z"})["item_id"].tolist() == ["z"]
    assert pick(items, item_ids=set()).empty


def test_score_grid(table):
    grid = shaping.score_grid(table, "j1", {"la": (0, 1, 2)})
    assert len(grid) == 3 * 3 and set(grid["metric"]) == {"la"} and sorted(set(grid["score"])) == [0, 1, 2]
    assert grid["item_id"].is_unique and set(grid["rater_kind"]) == {"judge"}


def test_app_path_and_streamlit_command():
    path = launch.app_path()
    assert path.name == "main.py" and path.is_file()
    views = path.parent / "views"
    assert {"overview.py", "bias.py", "agreement.py", "calibration.py", "estimates.py", "disagreements.py",
            "planner.py", "data.py"} <= {p.name for p in views.iterdir()}
    assert not (path.parent / "pages").exists()  # would switch Streamlit to old-style multipage mode
    cmd = launch.streamlit_command(host="127.0.0.1", port=9123)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(path)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "9123"
    assert cmd[cmd.index("--client.showErrorDetails") + 1] == "none"
    with pytest.raises(ConfigError, match="port"):
        launch.streamlit_command(port=70000)


def test_dashboard_env(tmp_path):
    env = launch.dashboard_env(tmp_path, None, repair=True, base={"KEEP": "1", launch.ENV_CALIBRATOR: "old"})
    assert env[launch.ENV_RATINGS] == str(tmp_path.resolve()) and env[launch.ENV_REPAIR] == "1"
    assert launch.ENV_CALIBRATOR not in env and env["KEEP"] == "1"


def test_cli_help_and_bad_path(tmp_path):
    from judgecal.cli import main

    with pytest.raises(SystemExit) as done:
        main(["dashboard", "--help"])
    assert done.value.code == 0
    assert main(["dashboard", str(tmp_path / "missing.parquet")]) == 2


def test_cli_module_imports_nothing_heavy():
    code = ("import sys, judgecal.cli.dashboard; "
            "print(any(m in sys.modules for m in ('streamlit', 'pandas', 'altair')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_app_is_shipped_as_package_data():
    """setup.py maps app/ to judgecal.app and ships every file, views included."""
    root = Path(__file__).resolve().parents[2]
    setup = (root / "setup.py").read_text(encoding="utf-8")
    assert '"app": "judgecal.app"' in setup
    from importlib import resources

    assert resources.files("judgecal.app").joinpath("views", "overview.py").is_file()


@pytest.mark.parametrize("how", ["command", "function"])
def test_stopping_the_dashboard_stops_the_server(tmp_path, how):
    """SIGTERM to `judgecal dashboard` (exec'd server) or to a run_dashboard caller leaves no server behind."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "r.csv"
    data.write_text("item_id,language,metric,rater,rater_kind,score\ni,hi,la,a,human,1\n", encoding="utf-8")
    if how == "command":
        cmd = [sys.executable, "-m", "judgecal", "dashboard", str(data), "--port", str(port)]
    else:
        cmd = [sys.executable, "-c", "from judgecal.dashboard import run_dashboard; import sys; "
               f"sys.exit(run_dashboard({str(data)!r}, port={port}, replace_process=False))"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/_stcore/health"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().strip() == b"ok"
        except OSError:
            return False

    try:
        deadline = time.monotonic() + 120
        while not healthy():
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        proc.terminate()
        assert proc.wait(timeout=60) is not None
        deadline = time.monotonic() + 30
        while healthy() and time.monotonic() < deadline:  # a graceful shutdown may take a moment
            time.sleep(0.2)
        assert not healthy(), "the Streamlit server kept running after the dashboard was stopped"
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "my-box.example"])
def test_a_host_other_machines_can_reach_is_warned_about(host, tmp_path, capsys):
    from judgecal.cli import main

    # the ratings path does not exist, so nothing is served; the warning comes first
    assert main(["dashboard", str(tmp_path / "missing.parquet"), "--host", host]) == 2
    err = capsys.readouterr().err
    assert "WARNING" in err and host in err and "other machines" in err and "200 MB" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_are_not_warned_about(host, tmp_path, capsys):
    from judgecal.cli import main

    assert main(["dashboard", str(tmp_path / "missing.parquet"), "--host", host]) == 2
    assert "WARNING" not in capsys.readouterr().err


def test_upload_size_cap():
    cmd = launch.streamlit_command()
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "200"  # judgecal's documented default
    cmd = launch.streamlit_command(max_upload_mb=5)
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "5"
    for bad in (0, -1):
        with pytest.raises(ConfigError, match="upload"):
            launch.streamlit_command(max_upload_mb=bad)


def test_the_upload_cap_reaches_the_streamlit_server(tmp_path):
    """`judgecal dashboard --max-upload-mb 3`: the server that answers runs with that cap."""
    from .test_dashboard_browser import free_port, wait_healthy  # the browser test's server helpers

    port = free_port()
    data = tmp_path / "r.csv"
    data.write_text("item_id,language,metric,rater,rater_kind,score\ni,hi,la,a,human,1\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "judgecal", "dashboard", str(data), "--port", str(port),
                             "--max-upload-mb", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}/_stcore/health")
        # the command became the Streamlit server (exec): its command line is the server's options
        args = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert args[args.index(b"--server.maxUploadSize") + 1] == b"3"
        assert args[args.index(b"--server.address") + 1] == b"127.0.0.1"
    finally:
        proc.kill()  # nothing to shut down gracefully: the server holds no state of the test
        proc.wait()
