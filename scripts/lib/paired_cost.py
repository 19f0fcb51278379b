"""The cost of recording more at ingest, from runs paired round by round.

Shared by scripts/bench-hub-trends and scripts/bench-hub-last-file: for rounds of a
load without something (`less`, seconds) and with it (`more`), the cost per round
(1 - less/more), and pooled (1 - the total of `less` / the total of `more`) with a 95%
bootstrap interval over the rounds: the rounds resampled with replacement (fixed
seed), each resample's pooled cost, its 2.5th and 97.5th percentiles. On a 2-core
machine whose speed drifts within minutes only runs side by side compare, so the
rounds, not the runs, are the unit resampled.
"""
import random

RESAMPLES = 4000


def paired_cost(less, more):
    """(per-round costs, pooled cost, interval low, interval high)."""
    pairs = list(zip(less, more))
    per_round = [1 - a / b for a, b in pairs]
    pooled = 1 - sum(a for a, _ in pairs) / sum(b for _, b in pairs)
    rng = random.Random(1)
    resampled = []
    for _ in range(RESAMPLES):
        sample = [rng.choice(pairs) for _ in pairs]
        resampled.append(1 - sum(a for a, _ in sample) / sum(b for _, b in sample))
    resampled.sort()
    low = resampled[int(0.025 * RESAMPLES)]
    high = resampled[int(0.975 * RESAMPLES) - 1]
    return per_round, pooled, low, high
