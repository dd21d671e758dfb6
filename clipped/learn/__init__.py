"""The learning loop: ranking weights fitted from realised engagement, judged on held-out posts, versioned."""

from clipped.learn.evaluate import Evaluation, accept, evaluate, ndcg_at_k, spearman
from clipped.learn.fit import FitResult, FitSettings, fit_weights
from clipped.learn.loop import LearnStep, learn_step, split_held_out
from clipped.learn.outcomes import PostOutcome, outcomes_from_rows, performance_query
from clipped.learn.versions import LearnRun, Warehouse, learn_ranking_weights, read_latest_weights, record_fit
from clipped.learn.weights import RankingWeights, clamp_weights, default_weights

__all__ = [
    "Evaluation",
    "FitResult",
    "FitSettings",
    "LearnRun",
    "LearnStep",
    "PostOutcome",
    "RankingWeights",
    "Warehouse",
    "accept",
    "clamp_weights",
    "default_weights",
    "evaluate",
    "fit_weights",
    "learn_ranking_weights",
    "learn_step",
    "ndcg_at_k",
    "outcomes_from_rows",
    "performance_query",
    "read_latest_weights",
    "record_fit",
    "spearman",
    "split_held_out",
]
