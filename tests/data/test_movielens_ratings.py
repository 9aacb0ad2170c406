"""movielens_ratings: Liang et al.'s preprocessing through the one CSV reader."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from alsrec import ConfigError, DataError
from alsrec.data import movielens_ratings

if TYPE_CHECKING:
    import pathlib


def write(
    path: pathlib.Path, rows: list[str], header: str = "userId,movieId,rating,timestamp"
) -> pathlib.Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def ratings(tmp_path: pathlib.Path) -> pathlib.Path:
    # User 1: five ratings >= 4 and one 3.5; user 2: four ratings >= 4; user 3: six, all low.
    rows = [
        f"1,{m},{r},100" for m, r in zip(range(10, 16), [4.0, 4.5, 5.0, 4.0, 4.0, 3.5], strict=True)
    ]
    rows += [f"2,{m},5.0,100" for m in range(10, 14)]
    rows += [f"3,{m},3.0,100" for m in range(10, 16)]
    return write(tmp_path / "ratings.csv", rows)


def test_liang_preprocessing(tmp_path: pathlib.Path) -> None:
    data = movielens_ratings(ratings(tmp_path))
    assert data.users.ids.tolist() == [1]
    assert data.items.ids.tolist() == [10, 11, 12, 13, 14]
    assert data.matrix.data.tolist() == [1.0] * 5


def test_thresholds_and_rating_weights(tmp_path: pathlib.Path) -> None:
    path = ratings(tmp_path)
    data = movielens_ratings(path, min_user_interactions=4, binary=False)
    assert data.users.ids.tolist() == [1, 2]
    assert sorted(set(data.matrix.data.tolist())) == [4.0, 4.5, 5.0]
    low = movielens_ratings(path, min_rating=3.0, min_user_interactions=6)
    assert low.users.ids.tolist() == [1, 3]


def test_other_layouts_by_column_names(tmp_path: pathlib.Path) -> None:
    rows = [f"7\t{m}\t5\t0" for m in range(5)]
    path = write(
        tmp_path / "ml.inter", rows, "user_id:token\titem_id:token\trating:float\ttimestamp:float"
    )
    data = movielens_ratings(
        path, user="user_id:token", item="item_id:token", rating="rating:float", delimiter="\t"
    )
    assert data.nnz == 5


@pytest.mark.parametrize("bad", [0, -1.0, "4", True, float("nan")])
def test_bad_min_rating(tmp_path: pathlib.Path, bad: object) -> None:
    with pytest.raises(ConfigError, match="min_rating must be a number > 0"):
        movielens_ratings(ratings(tmp_path), min_rating=bad)  # type: ignore[arg-type]


def test_bad_min_user_interactions(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="min_user_interactions must be an integer >= 1"):
        movielens_ratings(ratings(tmp_path), min_user_interactions=0)


def test_nothing_left_is_a_data_error(tmp_path: pathlib.Path) -> None:
    path = ratings(tmp_path)
    with pytest.raises(DataError, match=r"reaches min_rating \(5.5; the highest is 5.0\)"):
        movielens_ratings(path, min_rating=5.5)
    with pytest.raises(DataError, match=r"No user of .* has 7 ratings >= 4.0"):
        movielens_ratings(path, min_user_interactions=7)


def test_missing_column_comes_from_the_csv_reader(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path / "r.csv", ["1,2,5"], "user,movie,stars")
    with pytest.raises(DataError, match="There is no column 'userId'"):
        movielens_ratings(path)


def test_a_file_without_header_by_position(tmp_path: pathlib.Path) -> None:
    # MovieLens-100k's u.data: tab-separated, no header row
    lines = [f"1\t{m}\t5\t881250949" for m in range(1, 7)] + ["2\t1\t4\t881250950"]
    path = tmp_path / "u.data"
    path.write_text("\n".join(lines) + "\n")
    data = movielens_ratings(
        path, header=False, min_user_interactions=1, user=0, item=1, rating=2, delimiter="\t"
    )
    assert data.nnz == 7  # the first line is a rating, not a header
    with pytest.raises(DataError, match=r"looks like a value.*header=False"):
        # header=True would swallow the first rating
        movielens_ratings(path, user=0, item=1, rating=2, delimiter="\t")


def test_binary_takes_a_bool_only(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="binary must be True or False"):
        movielens_ratings(ratings(tmp_path), binary="no")  # type: ignore[arg-type]


def test_the_datasets_module_offers_it_too() -> None:
    import alsrec.datasets

    assert alsrec.datasets.movielens_ratings is movielens_ratings


def test_the_advice_for_a_bad_rating_can_be_followed(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ratings.csv"
    rows = ["userId,movieId,rating,timestamp"] + [f"1,{m},5,0" for m in range(6)] + ["2,1,0,0"]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"on_bad_rows='skip'"):
        movielens_ratings(path)
    data = movielens_ratings(path, on_bad_rows="skip")  # the keyword the message names
    assert data.users.ids.tolist() == [1] and data.nnz == 6
