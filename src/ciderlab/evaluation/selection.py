"""Which recipe choice each validation measurement supports: the records of
``benchmarks/budget_sweep.py --variants selection`` read as verdicts.

Each record is one model trained on the fixed fold and scored on its *validation* objects.
Variants are named ``"<head>, <choice>, seed <n>"``; ``"<head>, as params.yaml"`` is the
chosen recipe, trained with several seeds. An alternative is called better or worse only
when its mean lies outside the range of the chosen recipe's seeds; otherwise the choice
stands on other grounds (cost, the authors' code) and the table says "within the seeds'
range".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REFERENCE = "as params.yaml"
# The score each head is chosen by, and whether lower is better.
SCORES = {"classifier": ("macro_f1", False), "redshift": ("rms", True)}


def selection_runs(records: list[dict]) -> pd.DataFrame:
    """One row per head and choice: seeds, the score's values, mean and standard deviation."""
    rows = []
    table = pd.DataFrame(records)
    if table.empty:
        raise ValueError("no selection records")
    if "scored_on" not in table or set(table["scored_on"]) != {"validation"}:
        raise ValueError("every selection record must be scored on validation objects")
    table["choice"] = (table["variant"].str.split(", ", n=1).str[1]
                       .str.replace(r", seed \d+$", "", regex=True))
    for (head, choice), group in table.groupby(["head", "choice"], sort=False):
        key, _ = SCORES[head]
        values = group.groupby("seed")[key].first().to_numpy(float)
        rows.append({"head": head, "choice": choice, "score": key,
                     "seeds": sorted(int(s) for s in group["seed"].unique()),
                     "values": values.tolist(), "mean": float(values.mean()),
                     "std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
                     "best_epochs": sorted(int(e) for e in group["best_epoch"].unique()),
                     "training_spectra": int((group["epochs"] * group["samples_per_epoch"])
                                             .iloc[0]),
                     "minutes": float(group["minutes"].mean())})
    return pd.DataFrame(rows)


def verdicts(records: list[dict]) -> pd.DataFrame:
    """``selection_runs`` with, per alternative, its difference from the chosen recipe's mean
    (positive = better) and the verdict: "better", "worse" or "within the seeds' range"
    (outside or inside the chosen recipe's min-max over seeds)."""
    runs = selection_runs(records)
    out = []
    for head, group in runs.groupby("head", sort=False):
        _, lower_is_better = SCORES[head]
        sign = -1.0 if lower_is_better else 1.0
        chosen = group[group["choice"] == REFERENCE]
        if chosen.empty:
            raise ValueError(f"no '{head}, {REFERENCE}' records: the chosen recipe is the "
                             "reference every alternative is judged against")
        reference = chosen.iloc[0]
        low, high = np.min(reference["values"]), np.max(reference["values"])
        for _, run in group.iterrows():
            row = run.to_dict()
            row["difference"] = sign * (run["mean"] - reference["mean"])
            if run["choice"] == REFERENCE:
                row["verdict"] = "chosen"
            elif low <= run["mean"] <= high:
                row["verdict"] = "within the seeds' range"
            else:
                row["verdict"] = "better" if row["difference"] > 0 else "worse"
            out.append(row)
    return pd.DataFrame(out)


def verdict_sentence(records: list[dict], digits: int = 3) -> str:
    """Each alternative's verdict and difference from the chosen recipe, in one line for the
    book's prose ("choice: verdict (+0.021); ...")."""
    judged = verdicts(records)
    return "; ".join(f"{row['choice']}: {row['verdict']} ({row['difference']:+.{digits}f})"
                     for _, row in judged.iterrows() if row["verdict"] != "chosen")


def recipe_price(records: list[dict], free_time: float = 1.1) -> str:
    """The "What is reconstructed" page's verdict on the recipe: the alternatives that score
    better beyond the chosen recipe's seed range, each with its training time relative to the
    chosen recipe's (training spectra), and those of them at most ``free_time`` x the time (no
    reason not to follow them)."""
    judged = verdicts(records)
    chosen = judged[judged["verdict"] == "chosen"].set_index("head")["training_spectra"]
    better = judged[judged["verdict"] == "better"]
    if better.empty:
        return "No alternative beats the chosen recipe beyond the range of its seeds."
    time = better["training_spectra"] / better["head"].map(chosen)
    verdict = ("Beyond the range of the chosen recipe's seeds, these alternatives score better: "
               + "; ".join(f"{r['head']}, {r['choice']} ({r['difference']:+.3f}, at {t:.1f}x "
                           "the training)" for (_, r), t in zip(better.iterrows(), time))
               + ". params.yaml keeps the cheaper recipe where the better one costs training "
               "time the main command does not have; the difference is that price.")
    free = better[time <= free_time]
    if not free.empty:
        verdict += (" Better at no extra time, and not yet followed by params.yaml: "
                    + "; ".join(f"{r['head']}, {r['choice']}" for _, r in free.iterrows()) + ".")
    return verdict
