"""fetch_pariksha against a copy of the release served on 127.0.0.1.

The copy lives in the test's temporary folder; nothing leaves this machine.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from judgecal.cli import main
from judgecal.datasets import fetch_pariksha, find_pariksha, load_pariksha
from judgecal.datasets._pariksha_manifest import FILES
from judgecal.datasets.fetch import COMMIT, cached_pariksha, pariksha_cache_dir
from judgecal.errors import DatasetError

SMALL = "gpt_eval/outputs/round1/individual/hallucinations/individual_odia.json"


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server(pariksha_path, tmp_path):
    """(base_url, served folder, list of requested paths)."""
    served = tmp_path / "served"
    shutil.copytree(pariksha_path, served)
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", served, requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_matches_the_release(pariksha_path):
    for rel, (sha, size) in FILES.items():
        path = pariksha_path / rel
        assert path.stat().st_size == size, rel
        assert _sha(path) == sha, rel


def test_download_verifies_and_rerun_skips(server, tmp_path):
    url, served, requests = server
    dest = tmp_path / "dest"
    seen = []
    folder = fetch_pariksha(dest, base_url=url, progress=lambda done, total, rel: seen.append((done, total, rel)))
    assert folder == dest
    assert len(requests) == len(FILES)
    assert [d for d, _, _ in seen] == list(range(1, len(FILES) + 1)) and {t for _, t, _ in seen} == {len(FILES)}
    for rel in FILES:
        assert (dest / rel).read_bytes() == (served / rel).read_bytes()
    assert (dest / ".complete").read_text().strip() == COMMIT
    assert not list(dest.rglob("*.part"))
    # the download is a release judgecal can load
    assert len(load_pariksha(dest, languages=("odia",), include=("judge",))) == 840

    requests.clear()
    fetch_pariksha(dest, base_url=url)
    assert requests == []  # every file already verified: nothing downloaded again

    # a file damaged locally is downloaded again, and only that one
    (dest / SMALL).write_bytes(b"damaged")
    fetch_pariksha(dest, base_url=url.rstrip("/"))  # base URL without the trailing slash works too
    assert requests == ["/" + SMALL]
    assert _sha(dest / SMALL) == FILES[SMALL][0]


def test_tampered_server_file_raises_and_leaves_nothing(server, tmp_path):
    url, served, _ = server
    data = bytearray((served / SMALL).read_bytes())
    data[100] ^= 0x01  # one flipped bit, same size
    (served / SMALL).write_bytes(bytes(data))
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError) as info:
        fetch_pariksha(dest, base_url=url)
    message = str(info.value)
    assert "checksum mismatch" in message and SMALL in message and FILES[SMALL][0] in message
    assert not (dest / SMALL).exists()
    assert not list(dest.rglob("*.part"))
    assert not (dest / ".complete").exists()


def test_oversized_server_file_is_refused(server, tmp_path):
    url, served, _ = server
    with (served / SMALL).open("ab") as fh:
        fh.write(b" " * (3 << 20))  # megabytes of trailing junk
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError, match="checksum mismatch"):
        fetch_pariksha(dest, base_url=url)
    assert not (dest / SMALL).exists() and not list(dest.rglob("*.part"))


def test_missing_server_file_raises(server, tmp_path):
    url, served, _ = server
    (served / SMALL).unlink()
    with pytest.raises(DatasetError, match="could not download") as info:
        fetch_pariksha(tmp_path / "dest", base_url=url)
    assert SMALL in str(info.value) and "404" in str(info.value)
    assert not (tmp_path / "dest" / ".complete").exists()


def test_unreachable_server_raises(tmp_path):
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DatasetError, match="could not download"):
        fetch_pariksha(tmp_path / "dest", base_url=f"http://127.0.0.1:{port}/", timeout=5)


def test_default_destination_is_the_cache(server, tmp_path, monkeypatch):
    url, _, _ = server
    monkeypatch.setenv("JUDGECAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("JUDGECAL_PARIKSHA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cached_pariksha() is None
    folder = fetch_pariksha(base_url=url)
    assert folder == pariksha_cache_dir() == tmp_path / "cache" / "pariksha" / COMMIT
    assert cached_pariksha() == folder
    assert find_pariksha() == folder


def test_cli_fetch(server, tmp_path, capsys):
    url, _, _ = server
    dest = tmp_path / "cli-dest"
    assert main(["fetch-pariksha", "--dest", str(dest), "--base-url", url]) == 0
    out = capsys.readouterr().out
    assert f"[{len(FILES)}/{len(FILES)}]" in out and "all files verified" in out
    assert (dest / ".complete").exists()
