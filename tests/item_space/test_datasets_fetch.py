"""`fetch` against a real HTTP server on loopback: checksum, resume, conversion, missing datasets."""

from __future__ import annotations

import hashlib
import http.server
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from recagora.experiments.cli.main import main
from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.fetch import FetchError, FetchRecipe, RemoteFile, fetch
from recagora.item_space.datasets.fetch_recipes import RECIPES, keep_train_columns
from recagora.item_space.errors import DatasetMissingError

ITEMS = "".join(f"Item number {i}\t{i}\n" for i in range(2000)).encode()  # ~36 KB: several chunks


class _Server(http.server.ThreadingHTTPServer):
    """Serves `files` (URL path -> bytes); honours Range; can cut the first transfer short."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files, self.cut_after, self.ranges = files, None, []

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        server: _Server = self.server  # type: ignore[assignment]
        body = server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if header := self.headers.get("Range"):
            server.ranges.append(header)
            start = int(header.removeprefix("bytes=").rstrip("-"))
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if server.cut_after is not None:  # an interrupted transfer: send part, then drop
            self.wfile.write(body[start : start + server.cut_after])
            server.cut_after = None
            self.close_connection = True
            return
        self.wfile.write(body[start:])

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server():
    srv = _Server({"/o/r/c1/info/items.txt": ITEMS})
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _recipe(sha: str, **changes) -> FetchRecipe:
    remote = replace(RemoteFile("items.tsv", "o/r", "c1", "info/items.txt", sha), **changes)
    return FetchRecipe("tiny", "tiny-set", (remote,), "o/r", "test")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fetch_writes_the_verified_file_and_skips_it_next_time(server, tmp_path):
    folder = fetch(_recipe(_sha(ITEMS)), root=tmp_path, host=server.host)
    assert (folder / "items.tsv").read_bytes() == ITEMS
    assert not list(folder.glob("*.part"))
    server.files.clear()  # a second fetch must not ask the server for a verified file
    fetch(_recipe(_sha(ITEMS)), root=tmp_path, host=server.host)


def test_a_checksum_mismatch_removes_the_file_and_names_the_source(server, tmp_path):
    with pytest.raises(
        FetchError, match=r"http://127\.0\.0\.1:\d+/o/r/c1/info/items\.txt: SHA-256"
    ):
        fetch(_recipe(_sha(b"something else")), root=tmp_path, host=server.host)
    assert list((tmp_path / "tiny-set").iterdir()) == []


def test_an_interrupted_transfer_resumes_with_a_range_request(server, tmp_path):
    server.cut_after = 10_000
    with pytest.raises(FetchError, match="run the same command again to resume"):
        fetch(_recipe(_sha(ITEMS)), root=tmp_path, host=server.host)
    part = tmp_path / "tiny-set" / "items.tsv.part"
    assert part.stat().st_size == 10_000
    folder = fetch(_recipe(_sha(ITEMS)), root=tmp_path, host=server.host)
    assert server.ranges == ["bytes=10000-"]
    assert (folder / "items.tsv").read_bytes() == ITEMS


def test_a_missing_source_is_one_error_naming_the_address(server, tmp_path):
    with pytest.raises(FetchError, match=r"/o/r/c1/nope\.txt: HTTP 404"):
        fetch(_recipe(_sha(ITEMS), path="nope.txt"), root=tmp_path, host=server.host)


def test_the_training_split_is_converted_before_its_checksum(server, tmp_path):
    flower = b'user_id,history_item_id,item_id,rating\nu1,[2801],3856,5\nu1,"[2801, 3856]",52,4\n'
    server.files["/o/r/c1/train.csv"] = flower
    expected = b'history_item_id,item_id\n[2801],3856\n"[2801, 3856]",52\n'
    recipe = _recipe(_sha(expected), name="train.csv", path="train.csv", convert=keep_train_columns)
    folder = fetch(recipe, root=tmp_path, host=server.host)
    assert (folder / "train.csv").read_bytes() == expected


def test_the_conversion_reproduces_the_shared_training_file(shared_data, tmp_path):
    """Flower's columns around ours, then converted: byte-identical to the pinned file."""
    shared = shared_data / "amazon2018-Video_Games" / "train.csv"
    lines = shared.read_text().splitlines()
    widened = tmp_path / "flower.csv"
    widened.write_text(
        "user_id,history_item_id,item_id,rating\n" + "".join(f"u,{row},5\n" for row in lines[1:])
    )
    keep_train_columns(widened, tmp_path / "train.csv")
    assert _sha((tmp_path / "train.csv").read_bytes()) == RECIPES["video-games"].files[1].sha256


def test_recipes_pin_the_shared_copies(shared_data):
    for recipe in RECIPES.values():
        for remote in recipe.files:
            path = shared_data / recipe.folder / remote.name
            assert _sha(path.read_bytes()) == remote.sha256, path


def test_a_registered_dataset_found_nowhere_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_SHARED_DATA", str(tmp_path / "no-shared"))
    monkeypatch.setenv("RECAGORA_DATA_DIR", str(tmp_path / "no-data"))
    with pytest.raises(DatasetMissingError, match="run `recagora data fetch cds-vinyl`"):
        load_dataset("cds-vinyl")


def test_a_fetched_dataset_is_found_where_fetch_put_it(shared_data, tmp_path, monkeypatch):
    fetched = tmp_path / "data" / "amazon-Games-semantic-ids"
    fetched.mkdir(parents=True)
    for name in ("Games.index.json", "Games.inter.json", "user_sequence.txt"):
        (fetched / name).symlink_to(shared_data / "amazon-Games-semantic-ids" / name)
    monkeypatch.setenv("RECAGORA_SHARED_DATA", str(tmp_path / "no-shared"))
    monkeypatch.setenv("RECAGORA_DATA_DIR", str(tmp_path / "data"))
    dataset = load_dataset("games-semids", cache=False)
    assert len(dataset.catalog) == 16_859


def _mirror(server: _Server, shared_data: Path, name: str, corrupt: str = "") -> None:
    """Serve a recipe's files from the shared copies under their public paths."""
    recipe = RECIPES[name]
    for remote in recipe.files:
        body = (shared_data / recipe.folder / remote.name).read_bytes()
        if remote.name == corrupt:
            body = body[:-1] + b"X"
        server.files[f"/{remote.repo}/{remote.commit}/{remote.path}"] = body


def test_cli_fetches_a_dataset_from_a_mirror(server, shared_data, tmp_path, capsys):
    _mirror(server, shared_data, "games-semids")
    assert (
        main(["data", "fetch", "games-semids", "--root", str(tmp_path), "--host", server.host]) == 0
    )
    out = capsys.readouterr().out
    assert "games-semids: 3 files verified in" in out
    got = sorted(p.name for p in (tmp_path / "amazon-Games-semantic-ids").iterdir())
    assert got == ["Games.index.json", "Games.inter.json", "user_sequence.txt"]


def test_cli_refuses_a_corrupted_file_in_one_line(server, shared_data, tmp_path, capsys):
    _mirror(server, shared_data, "games-semids", corrupt="Games.inter.json")
    argv = ["data", "fetch", "games-semids", "--root", str(tmp_path), "--host", server.host]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Games.inter.json: SHA-256" in err[0]
    kept = sorted(p.name for p in (tmp_path / "amazon-Games-semantic-ids").iterdir())
    assert kept == ["Games.index.json"]  # verified before the bad one; the bad one is gone
