"""Metadata and training-data provenance: recorded by fit, saved, loaded, inspected."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from alsrec import ArtifactError, ConfigError, Interactions, Recommender
from alsrec.cli import main
from alsrec.io import inspect_artifact, read_manifest
from alsrec.io.format import MANIFEST_DIGEST, manifest_digest

if TYPE_CHECKING:
    from pathlib import Path


def _fitted() -> Recommender:
    df = pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "c", "c"],
            "item_id": ["x", "y", "x", "z", "z"],
            "ts": [1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_003_600, 1_700_000_050],
        }
    )
    data = Interactions.from_frame(df, timestamp="ts")
    return Recommender(factors=2, iterations=2, random_state=0).fit(data)


def test_fit_records_training_provenance() -> None:
    training = _fitted().model_.provenance.training
    assert training is not None
    tiny = Interactions.from_frame(pd.DataFrame({"user_id": [1], "item_id": [2]}))
    assert training["source"] == tiny.source
    assert training["rows_read"] == 5 and training["interactions"] == 4
    assert training["time_range"] == ["2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z"]


def test_save_metadata_round_trip_and_inspect(tmp_path: Path) -> None:
    rec = _fitted()
    path = rec.save(tmp_path / "m", metadata={"run": "nightly-42", "ndcg": 0.31, "tags": ["a"]})
    manifest = read_manifest(path)
    assert manifest["metadata"] == {"run": "nightly-42", "ndcg": 0.31, "tags": ["a"]}
    assert manifest["training"]["rows_read"] == 5
    loaded = Recommender.load(path)
    report = loaded.inspect()
    assert report.metadata == manifest["metadata"] and report.created == manifest["created"]
    text = str(inspect_artifact(path))
    for expected in ("created: ", "by alsrec ", "training data: ", "5 rows read", "nightly-42"):
        assert expected in text
    assert inspect_artifact(path).to_dict()["training"]["interactions"] == 4
    again = loaded.save(tmp_path / "again")  # the loaded metadata is kept
    assert read_manifest(again)["metadata"] == manifest["metadata"]


def test_cli_inspect_shows_provenance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _fitted().save(tmp_path / "m", metadata={"owner": "team-recs"})
    main(["inspect", str(path)])
    out = capsys.readouterr().out
    assert "team-recs" in out and "training data" in out


@pytest.mark.parametrize(
    ("metadata", "where"),
    [
        ({"when": object()}, "metadata['when']"),
        ({"x": float("nan")}, "finite"),
        ({1: 2}, "key"),
        ({"n": 10**5000}, "metadata['n'] is an integer of more than 4,300 digits"),
        ({"n": [-(10**4300)]}, "metadata['n'][0] is an integer of more than"),
    ],
)
def test_bad_metadata_is_a_config_error(tmp_path: Path, metadata: object, where: str) -> None:
    rec = _fitted()
    with pytest.raises(ConfigError, match=where.replace("[", r"\[").replace("]", r"\]")):
        rec.save(tmp_path / "m", metadata=metadata)  # type: ignore[arg-type]
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("training", {"dropped": [1]}, "'dropped' is not an object"),
        ("training", {"time_range": 5}, "'time_range' is neither null nor a list"),
        ("training", {"time_range": ["2024-01-01T00:00:00Z"]}, "'time_range'"),
        ("training", {"rows_read": "5"}, "'rows_read' is not an integer"),
        ("training", [1], "invalid 'training' \\[1\\]: expected an object"),
        ("origin", [1], "invalid 'origin' \\[1\\]: expected an object"),
        ("metadata", "x", "invalid 'metadata' x: expected an object"),
    ],
)
def test_malformed_provenance_in_the_manifest_is_an_artifact_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: object, problem: str
) -> None:
    # An edited or damaged manifest whose checksum was recomputed: inspect() and
    # 'alsrec inspect' crashed on it (AttributeError/TypeError, "internal error").
    path = _fitted().save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    manifest[key] = value
    manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    match = rf"manifest\.json: .*{problem}"
    with pytest.raises(ArtifactError, match=match):
        Recommender.load(path)
    with pytest.raises(ArtifactError, match=match):
        inspect_artifact(path)
    assert main(["inspect", str(path)]) == 3
    err = capsys.readouterr().err
    assert "manifest.json" in err and "internal error" not in err
