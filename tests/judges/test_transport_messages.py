"""Transport failures say what happened: a refused connection is not a timeout, and a
base URL with credentials in it is refused up front without showing them."""

from __future__ import annotations

import socket

import pytest

from judgecal.cli import main
from judgecal.errors import ConfigError
from judgecal.judges import score_generations

from .conftest import openai_url


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("judge", ["openai/fake-judge", "anthropic/fake-judge", "litellm/openai/fake-judge"])
def test_refused_connection_is_reported_as_refused_not_as_timeout(gens, tmp_path, closed_port, judge):
    res = score_generations(gens.iloc[:1], judge, ["la"], base_url=f"http://127.0.0.1:{closed_port}/v1",
                            cache=tmp_path / "c.sqlite", max_attempts=1, progress=False)
    assert res.ratings.empty and res.summary.unscored == 1
    (message,) = res.failures["message"]
    assert message.startswith("ProviderConnectionError: could not connect: connection refused"), message
    assert str(closed_port) in message
    assert "timeout" not in message.lower() and "in time" not in message


SECRET = "pa55-w0rd-in-url"


@pytest.mark.parametrize("judge", ["openai/fake-judge", "anthropic/fake-judge"])
def test_base_url_with_credentials_is_refused_without_showing_them(fake, gens, tmp_path, judge):
    url = openai_url(fake).replace("http://", f"http://someone:{SECRET}@")
    with pytest.raises(ConfigError, match="holds a user name or password") as info:
        score_generations(gens, judge, ["la"], base_url=url, cache=tmp_path / "c.sqlite", progress=False)
    text = str(info.value)
    assert SECRET not in text and "someone" not in text
    assert f"http://***@127.0.0.1:{fake.port}/v1" in text
    assert fake.stats()["requests"] == 0  # refused before anything was sent


def test_cli_base_url_with_credentials(fake, gens, tmp_path, capsys):
    src = tmp_path / "gens.jsonl"
    gens.to_json(src, orient="records", lines=True, force_ascii=False)
    url = openai_url(fake).replace("http://", f"http://someone:{SECRET}@")
    code = main(["score", str(src), "--judge", "openai/fake-judge", "--base-url", url, "--metrics", "la",
                 "--out", str(tmp_path / "o.jsonl"), "--cache", str(tmp_path / "c.sqlite"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "holds a user name or password" in err
    assert SECRET not in err and "not valid JSON" not in err
    assert not (tmp_path / "o.jsonl").exists()
