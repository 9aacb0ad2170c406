"""``alsrec tune``: search hyperparameters on held-out data."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from alsrec import ConfigError, evaluation, tuning
from alsrec.backends import get_backend
from alsrec.cli.options import (
    EXIT_OK,
    FORMATTER,
    add_formats,
    fraction,
    nonnegative_int,
    positive_int,
)
from alsrec.cli.output import Report, verdict, write_json
from alsrec.cli.sources import check_file_output, check_output, read_interactions, save_model
from alsrec.cli.training import check_backend
from alsrec.evaluation import METRICS
from alsrec.io.format import artifact_path
from alsrec.progress import ProgressBar

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "run"]

TUNABLE = tuple(m for m in METRICS if m != "popularity_rank")
"""Metrics a search can maximize (popularity rank measures bias, not quality)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``tune`` and its options."""
    parser = sub.add_parser(
        "tune",
        parents=[parents.common, parents.source],
        help="search hyperparameters on held-out data; optionally save the best model",
        description="Staged search over regularization, alpha, factors and iterations (and "
        "the weighting scheme, where the library has one): cheap random trials first, the "
        "best retrained in full, refined locally, then grown to larger factors (--strategy "
        "random for a plain random search). Each trial trains on a seeded "
        "holdout split and is scored on the held-out (validation) part. Prints every trial, "
        "the best parameters, the spread and each parameter's effect. With --test-fraction, "
        "a final test split is set aside first: the search never sees it, and the chosen "
        "model is scored on it once, next to popularity. --params-out writes the chosen "
        "hyperparameters for 'alsrec train --params'; -o trains them on the data (all of "
        "it, or all but the final test split) and saves the model.",
        epilog="Examples:\n"
        "  alsrec tune events.csv --user-col user_id --item-col item_id --budget 30\n"
        "  alsrec tune events.csv --test-fraction 0.2 --params-out best.json\n"
        "  alsrec train events.csv --params best.json -o model/\n"
        "  alsrec tune events.csv --jobs 2 --metric map -k 20 --format json -o model/",
        formatter_class=FORMATTER,
    )
    _search_options(parser.add_argument_group("search"))
    parser.add_argument(
        "-o",
        "--output",
        metavar="MODEL_DIR",
        help="train the best parameters on all the data (all but the test split with "
        "--test-fraction) and save the model here",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace MODEL_DIR and the --params-out FILE if they exist",
    )
    parser.add_argument(
        "--params-out",
        metavar="FILE",
        help="write the chosen hyperparameters to FILE as JSON, for 'alsrec train --params' "
        "(an existing FILE is refused unless --force; never DATA)",
    )
    add_formats(parser, ("table", "json"))
    parser.set_defaults(handler=run)


def _search_options(group: argparse._ArgumentGroup) -> None:
    """The options of the search itself and of the final test split."""
    group.add_argument(
        "--budget",
        type=positive_int,
        default=None,
        help="number of trials at most (default: 40 staged, 20 random)",
    )
    group.add_argument(
        "--strategy",
        choices=("auto", "staged", "random"),
        default="auto",
        help="staged search (auto, the default) or plain random search",
    )
    group.add_argument(
        "--metric", choices=TUNABLE, default="ndcg", help="what to maximize (default: ndcg)"
    )
    group.add_argument("-k", type=positive_int, default=10, help="list length (default: 10)")
    group.add_argument(
        "--validation-fraction",
        type=fraction,
        default=0.2,
        help="share of each user's items held out for validation in each trial (default: 0.2)",
    )
    group.add_argument(
        "--test-fraction",
        type=fraction,
        default=None,
        help="first set aside this share of each user's items as a final test split that the "
        "search never sees, and score the chosen model on it (default: none)",
    )
    group.add_argument(
        "--bootstrap",
        type=nonnegative_int,
        default=1000,
        help="bootstrap resamples for the final test's intervals; 0 for none (default: 1000)",
    )
    group.add_argument(
        "--splits",
        type=positive_int,
        default=None,
        help="validation splits to average each trial over (default: 2 staged, 1 random)",
    )
    group.add_argument(
        "--random-state",
        type=nonnegative_int,
        default=0,
        help="seed of the draws, the splits and the models (default: 0)",
    )
    group.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        help="trials run at once in worker processes, -1 for one per core (default: 1)",
    )
    group.add_argument("--backend", default="numpy", help="training backend (default: numpy)")
    group.add_argument(
        "--no-progress", action="store_true", help="do not draw the progress bar on stderr"
    )


def _jobs(text: str) -> int:
    """An argparse type: worker processes, a whole number >= 1 or -1 (one per core)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 1, or -1 for every core, got {value}"
        )
    return value


def _trial_bar(label: str, err: TextIO) -> Callable[[int, int, tuning.Trial], None]:
    """A progress callback for ``tuning.search``: one bar step per finished trial."""
    start = time.perf_counter()
    best = -math.inf
    bar: ProgressBar | None = None

    def callback(done: int, total: int, trial: tuning.Trial) -> None:
        nonlocal best, bar
        if bar is None:
            bar = ProgressBar("tune", total, err)
        if not math.isnan(trial.value):
            best = max(best, trial.value)
        bar.step(
            done,
            f"trial {trial.index:>{len(str(total - 1))}}: {label} {trial.value:.4f}  "
            f"best {best:.4f}  {time.perf_counter() - start:6.1f} s",
        )

    return callback


def run(args: argparse.Namespace, io: Streams) -> int:
    """Search, print the report, score on the final test split, write what was asked."""
    target, params_out = _check_outputs(args)
    get_backend(args.backend)  # an unknown name is refused before the data is read
    check_backend(args.backend)
    out = Report(io.out)  # a closed pipe ('| head') stops the report, not the saves
    data = read_interactions(args)
    if args.format == "table":
        print(f"Read {data.summary()}", file=out)
    final_test = None
    if args.test_fraction is not None:
        data, final_test = evaluation.holdout_split(
            data, args.test_fraction, random_state=args.random_state
        )
        if args.format == "table":
            print(
                f"Final test split: {final_test.nnz} interactions set aside "
                f"({args.test_fraction:g} of each user's items); the search uses the other "
                f"{data.nnz}.",
                file=out,
            )
    report = tuning.search(
        data,
        metric=args.metric,
        k=args.k,
        budget=args.budget,
        strategy=args.strategy,
        splits=args.splits,
        test_fraction=args.validation_fraction,
        random_state=args.random_state,
        n_jobs=args.jobs,
        backend=args.backend,
        refit=target is not None or final_test is not None,
        progress=None if args.no_progress else _trial_bar(f"{args.metric}@{args.k}", io.err),
    )
    final = None
    if final_test is not None:
        assert report.best_model is not None
        final = evaluation.evaluate(
            report.best_model,
            final_test,
            args.k,
            bootstrap=args.bootstrap,
            random_state=args.random_state,
        )
    if params_out is not None:
        write_json(params_out, report.best_params.to_dict())
    if target is not None:
        assert report.best_model is not None
        save_model(report.best_model, target, args.force)
    _print(args, out, report, final, target, params_out)
    out.flush()
    return EXIT_OK


def _check_outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """``-o`` and ``--params-out``, checked before the data is read."""
    target = None if args.output is None else artifact_path(args.output)  # as save() expands
    if target is not None:
        check_output(target, args.force, args.data)
    params_out = None if args.params_out is None else Path(args.params_out)
    if params_out is not None:
        check_file_output(params_out, args.force, "--params-out", args.data)
        if target is not None and params_out.resolve().is_relative_to(target.resolve()):
            raise ConfigError(
                f"--params-out {args.params_out!r} is inside the -o directory "
                f"{args.output!r}, which saving the model replaces; write it elsewhere."
            )
    return target, params_out


def _print(
    args: argparse.Namespace,
    out: Report,
    report: tuning.TuningReport,
    final: evaluation.EvaluationReport | None,
    target: Path | None,
    params_out: Path | None,
) -> None:
    what = "all but the final test split" if final is not None else "all the data"
    if args.format == "json":
        payload = report.to_dict()
        payload["final_test"] = None
        if final is not None:
            payload["final_test"] = {
                "test_fraction": args.test_fraction,
                "random_state": args.random_state,
                **final.to_dict(),
                "verdict": verdict(final, args.metric),
            }
        payload["params_out"] = None if params_out is None else str(params_out)
        payload["saved_to"] = None if target is None else str(target)
        out.write(json.dumps(payload, indent=2) + "\n")
        return
    out.write(f"{report}\n")
    if final is not None:
        out.write(
            "\nThe chosen parameters, trained on all but the final test split and scored once "
            "on it (never seen by the search):\n"
        )
        out.write(f"{final}\n{verdict(final, args.metric)['text']}\n")
    if params_out is not None:
        out.write(f"Wrote the chosen hyperparameters to {params_out}\n")
    if target is not None:
        out.write(f"Refit the best parameters on {what}; saved to {target}\n")
