"""The input pre-stage: URLs downloaded once per run into a directory on the shared volume
(one downloader, the other pods wait for its result), and the generated sample text."""

from __future__ import annotations

import os
import time
import zlib

from mapreduce.commit import fsync_path, unique_suffix
from mapreduce.settings import SCRIPTS_DIR, ExitCode, JobError

BLOCK = 1 << 20
MAX_DOWNLOAD_BYTES = 64 << 30
MAX_NAME_BYTES = 200
STALE_LOCK_SECONDS = 60.0  # a downloader touches its lock at least this often


def url_file_name(url: str) -> str:
    """A file name for a URL: a short stable hash (two URLs may share a base name), then
    the base name, cut to a length every filesystem takes."""
    import urllib.parse

    path = urllib.parse.urlparse(url).path
    base = os.path.basename(path.rstrip("/")) or "index"
    base = base.encode("utf-8", "surrogateescape")[:MAX_NAME_BYTES].decode("utf-8", "ignore")
    return f"{zlib.crc32(url.encode()):08x}-{base}"


def _download(url: str, target: str, lock: str, *, timeout: float, limit: int) -> None:
    import urllib.request  # slow to import; tasks never need it

    temp = os.path.join(
        os.path.dirname(target), f".{os.path.basename(target)}.tmp-{unique_suffix()}"
    )
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(temp, "wb") as out:
            expected = response.headers.get("Content-Length")
            expected_size: int | None = int(expected) if expected else None
            if expected_size is not None and expected_size > limit:
                raise JobError(
                    f"downloading {url}: {expected_size} bytes is over the limit of {limit}"
                )
            size = 0
            while True:
                block = response.read(BLOCK)
                if not block:
                    break
                size += len(block)
                if size > limit:
                    raise JobError(f"downloading {url}: over the limit of {limit} bytes")
                out.write(block)
                os.utime(lock)
            if expected_size is not None and size != expected_size:
                raise JobError(
                    f"downloading {url}: the body ended after {size} of {expected_size} bytes"
                )
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
        fsync_path(os.path.dirname(target))
    except (OSError, ValueError) as error:
        raise JobError(f"downloading {url} failed: {error}") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def fetch_url(url: str, dest: str, *, timeout: float = 60, limit: int = MAX_DOWNLOAD_BYTES) -> str:
    """Download `url` into `dest` once: the first caller downloads under a lock, the others
    wait for the complete file. A short or broken body leaves nothing under the final name."""
    import urllib.parse

    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise JobError(f"not an HTTP(S) URL: {url}", ExitCode.USAGE)
    target = os.path.join(dest, url_file_name(url))
    lock = os.path.join(dest, f".{os.path.basename(target)}.lock")  # hidden from readers
    while not os.path.exists(target):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                age = time.time() - os.stat(lock).st_mtime
            except FileNotFoundError:
                continue
            if age > STALE_LOCK_SECONDS:
                os.unlink(lock)  # its holder died; take over
            time.sleep(0.5)
            continue
        os.close(fd)
        try:
            if not os.path.exists(target):
                _download(url, target, lock, timeout=timeout, limit=limit)
        finally:
            os.unlink(lock)
    return target


def fetch_input(
    *, dest: str, urls: tuple[str, ...] = (), sample_bytes: int = 0, sample_seed: int = 1
) -> list[str]:
    """Download URLs once into DEST and/or write the generated sample; returns the paths."""
    os.makedirs(dest, exist_ok=True)
    paths = [fetch_url(url, dest) for url in urls]
    if sample_bytes:
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "gentext", os.path.join(SCRIPTS_DIR, "gentext.py")
        )
        assert spec and spec.loader
        gentext = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gentext)
        target = os.path.join(dest, f"sample-{sample_seed}-{sample_bytes}.txt")
        if not os.path.exists(target):
            temp = os.path.join(dest, f".{os.path.basename(target)}.tmp-{unique_suffix()}")
            with open(temp, "wb") as out:
                gentext.write_text(out, sample_bytes, sample_seed)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        paths.append(target)
    return paths
