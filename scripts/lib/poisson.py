"""The emerging test of `accord trends` (accord_node::trends::TEST), for the oracles:
Poisson z of the last bucket against the mean of the earlier ones."""
import math


def poisson_test(values):
    """(z, emerging) of a series' counts: z rounded to 6 decimals, None with fewer
    than 4 earlier buckets; emerging when z >= 3 and the last count >= 5."""
    hist, x = values[:-1], values[-1]
    if len(hist) < 4:
        return None, False
    m = sum(hist) / len(hist)
    z = round((x - m) / math.sqrt(max(m, 1.0)) * 1e6) / 1e6
    return z, z >= 3.0 and x >= 5
