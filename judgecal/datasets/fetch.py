"""Download the PARIKSHA release at a pinned commit into the user cache.

Every file is checked against the SHA-256 and size recorded in
``_pariksha_manifest.py``; a file that does not match is deleted and the
download fails with a message naming it. Files already in the cache with the
right checksum are not downloaded again.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from judgecal._atomic import atomic_write_text
from judgecal.datasets._pariksha_manifest import FILES
from judgecal.errors import DatasetError

REPOSITORY = "microsoft/PARIKSHA"
COMMIT = "03bac88c3d899b008efd9671b11109b11676b7c4"
BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}/"


def cache_root() -> Path:
    """``$JUDGECAL_CACHE`` or the platform's user cache folder for judgecal."""
    if os.environ.get("JUDGECAL_CACHE"):
        return Path(os.environ["JUDGECAL_CACHE"])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("judgecal"))


def pariksha_cache_dir() -> Path:
    return cache_root() / "pariksha" / COMMIT


def cached_pariksha() -> Path | None:
    """The cached release if a complete download is there (marker file written last)."""
    folder = pariksha_cache_dir()
    return folder if (folder / ".complete").exists() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_pariksha(
    dest: str | os.PathLike | None = None,
    *,
    base_url: str = BASE_URL,
    timeout: float = 60.0,
    progress=None,
) -> Path:
    """Download PARIKSHA into ``dest`` (default: the user cache) and verify it.

    ``base_url`` points at the repository's raw files at the pinned commit; a
    mirror with the same paths works too. ``progress(done, total, path)`` is
    called after each file. Returns the folder.
    """
    folder = Path(dest) if dest is not None else pariksha_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    base = base_url if base_url.endswith("/") else base_url + "/"
    for done, (rel, (sha, size)) in enumerate(sorted(FILES.items()), start=1):
        target = folder / rel
        if target.exists() and target.stat().st_size == size and _sha256(target) == sha:
            if progress:
                progress(done, len(FILES), rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with urllib.request.urlopen(base + rel, timeout=timeout) as response, partial.open("wb") as out:
                written = 0
                while block := response.read(1 << 20):
                    out.write(block)
                    written += len(block)
                    if written > size:  # longer than the pinned file: stop, the check below fails
                        break
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            partial.unlink(missing_ok=True)
            raise DatasetError(f"could not download {base + rel}: {exc}") from exc
        got = _sha256(partial)
        if got != sha or partial.stat().st_size != size:
            partial.unlink(missing_ok=True)
            raise DatasetError(
                f"checksum mismatch for {rel}: expected sha256 {sha} ({size} bytes), got {got}; "
                "the download was damaged or the source changed. Nothing was kept for this file."
            )
        partial.replace(target)
        if progress:
            progress(done, len(FILES), rel)
    atomic_write_text(folder / ".complete", COMMIT + "\n")
    return folder
