"""Starting the dashboard: find the app's entry file and run ``streamlit run`` on it.

The app lives in ``app/`` in a checkout and is installed as the package
``judgecal.app``; :func:`app_path` finds it through :mod:`importlib.resources`
either way. What to show is handed to the app through environment variables
(see :data:`ENV_RATINGS`), which the app reads on every run.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
from importlib import resources
from pathlib import Path

from judgecal.errors import ConfigError, MissingDependencyError

ENV_RATINGS = "JUDGECAL_DASHBOARD_RATINGS"
ENV_CALIBRATOR = "JUDGECAL_DASHBOARD_CALIBRATOR"
ENV_REPAIR = "JUDGECAL_DASHBOARD_REPAIR"
ENV_BATTLES = "JUDGECAL_DASHBOARD_BATTLES"  # battles file or PARIKSHA folder, for the Battles page
ENV_BATTLE_CALIBRATOR = "JUDGECAL_DASHBOARD_BATTLE_CALIBRATOR"
ENTRY = "main.py"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
# Largest file the browser may upload, in MB (Streamlit's server.maxUploadSize). Streamlit
# holds an upload in memory, so the cap bounds what one visitor can make the server hold;
# 200 MB is Streamlit's own default and fits ~1M ratings without texts. A bigger file is
# better opened from the command line (`judgecal dashboard FILE`), or the cap raised with
# --max-upload-mb.
DEFAULT_MAX_UPLOAD_MB = 200


def app_path() -> Path:
    """Path of the app's entry script (``judgecal/app/main.py`` when installed)."""
    try:
        entry = resources.files("judgecal.app").joinpath(ENTRY)
    except ModuleNotFoundError as exc:  # a broken install without the app package
        raise ConfigError("the dashboard app (package judgecal.app) is not installed with judgecal") from exc
    path = Path(str(entry))
    if not path.is_file():
        raise ConfigError(f"the dashboard app's entry file is missing: {path}")
    return path


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost).

    Any other name counts as reachable from elsewhere: resolving it would need a
    name lookup, and what it resolves to can change.
    """
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int = DEFAULT_PORT, max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB) -> str | None:
    """The warning printed before serving on an address other machines can reach (None for loopback)."""
    if is_loopback(host):
        return None
    name = host.strip().strip("[]")
    where = ("every network interface of this machine" if name in ("0.0.0.0", "::", "")
             else f"the address {host}")
    return (f"judgecal dashboard: WARNING: serving on {host}:{int(port)}, {where}: other machines can reach it. "
            "The dashboard has no login: anyone who reaches the port sees the loaded ratings (prompts, "
            f"responses, raters' reasoning) and can upload files of up to {int(max_upload_mb)} MB. "
            f"Use --host {DEFAULT_HOST} (the default) to serve this machine only, or put it behind a "
            "firewall or an authenticating proxy.")


def streamlit_command(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB,
    python: str | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """The ``python -m streamlit run`` command line serving the app on ``host:port``.

    Headless (no browser is opened by Streamlit itself), no usage statistics,
    no file watcher, and error details hidden from the page: the app shows
    its own readable messages, tracebacks go to the terminal only. Uploads
    from the browser are capped at ``max_upload_mb`` MB.
    """
    if not 0 < int(port) < 65536:
        raise ConfigError(f"port must be between 1 and 65535, not {port}")
    if int(max_upload_mb) < 1:
        raise ConfigError(f"the upload cap must be at least 1 MB, not {max_upload_mb}")
    return [
        python or sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.address", host,
        "--server.port", str(int(port)),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
        "--client.toolbarMode", "minimal",
        "--server.maxUploadSize", str(int(max_upload_mb)),
        "--global.developmentMode", "false",
        *(extra or []),
    ]


def dashboard_env(ratings: str | os.PathLike | None, calibrator: str | os.PathLike | None = None,
                  *, repair: bool = False, base: dict[str, str] | None = None,
                  battles: str | os.PathLike | None = None,
                  battle_calibrator: str | os.PathLike | None = None) -> dict[str, str]:
    """Environment for the Streamlit process: ``base`` (default os.environ) plus what to show."""
    env = dict(os.environ if base is None else base)
    for key, value in ((ENV_RATINGS, ratings), (ENV_CALIBRATOR, calibrator), (ENV_BATTLES, battles),
                       (ENV_BATTLE_CALIBRATOR, battle_calibrator)):
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(Path(value).expanduser().resolve())
    env[ENV_REPAIR] = "1" if repair else "0"
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return env


def check_streamlit() -> None:
    """Raise :class:`MissingDependencyError` with the install hint when Streamlit is absent."""
    import importlib.util

    for package in ("streamlit", "altair"):
        if importlib.util.find_spec(package) is None:
            raise MissingDependencyError(package, "dashboard", "the dashboard")


def run_dashboard(
    ratings: str | os.PathLike | None,
    calibrator: str | os.PathLike | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    repair: bool = False,
    replace_process: bool = True,
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB,
    battles: str | os.PathLike | None = None,
    battle_calibrator: str | os.PathLike | None = None,
) -> int:
    """Serve the dashboard until interrupted.

    host : address to serve on; anything but a loopback address (127.0.0.1,
        ::1, localhost) first prints a warning to stderr, since the dashboard
        has no login
    max_upload_mb : largest file a browser may upload (Streamlit's
        ``server.maxUploadSize``), default :data:`DEFAULT_MAX_UPLOAD_MB`

    replace_process : on POSIX, the calling process becomes the Streamlit server
        (``exec``; this function then never returns). The ``judgecal dashboard``
        command does this. With False (or on Windows) the server runs as a child
        process; this function waits for it, stops it on Ctrl+C or SIGTERM, and
        returns its exit code. Callers that must go on afterwards, such as a
        demo, use False.
    """
    warning = exposure_warning(host, port, max_upload_mb)
    if warning:  # before anything can fail: whoever typed --host should see it every time
        print(warning, file=sys.stderr, flush=True)
    check_streamlit()
    for label, value in (("ratings", ratings), ("calibrator", calibrator), ("battles", battles),
                         ("battle calibrator", battle_calibrator)):
        if value is not None and not Path(value).expanduser().exists():
            raise ConfigError(f"{label} path does not exist: {value}")
    cmd = streamlit_command(host=host, port=port, max_upload_mb=max_upload_mb)
    env = dashboard_env(ratings, calibrator, repair=repair, battles=battles, battle_calibrator=battle_calibrator)
    print(f"judgecal dashboard: serving on http://{host}:{int(port)}  (Ctrl+C stops it)", flush=True)
    if replace_process and os.name == "posix":
        # Become the Streamlit server (no parent left behind): a signal meant for
        # `judgecal dashboard` (Ctrl+C, kill, a test's terminate) reaches the server
        # itself instead of orphaning a child process that keeps serving.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    proc = subprocess.Popen(cmd, env=env)
    try:
        previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    except ValueError:  # not the main thread: no handler, Ctrl+C handling still applies
        previous = None
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
