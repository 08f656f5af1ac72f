"""資源開発: where new resources would reach the most people, existing ones kept open.

Pure functions (no I/O): a :class:`SitingProblem` of the (demand point, facility) pairs within
the walking threshold, built from bounded network searches (:func:`build_problem`), solved
exactly by HiGHS (:func:`solve_mclp`, :func:`solve_pmedian`, :func:`solve_lscp`) with a greedy
solution and its gap alongside; :func:`plan_sites` runs the whole chain on workspace frames and
:func:`closure_impact` answers "what if this resource closes".

Examples
--------
>>> import numpy as np
>>> cost = np.array([[1.0, 20.0, 20.0], [20.0, 5.0, 20.0], [20.0, 20.0, 3.0]])
>>> problem = SitingProblem.from_cost_matrix(cost, [10, 30, 20], n_existing=1, max_minutes=15)
>>> sol = solve_mclp(problem, 1)
>>> sol.chosen.tolist(), sol.objective
([0], 40.0)
"""

from scgeo.analysis.siting._closures import closure_impact
from scgeo.analysis.siting._frames import (
    CANDIDATE_COLUMNS,
    DEMANDS,
    MODELS,
    SITE_COLUMNS,
    Demand,
    SitingResult,
    build_problem,
    demand_points,
    gain_area,
    grid_candidates,
    plan_sites,
    speed_sensitivity,
)
from scgeo.analysis.siting._problem import SitingProblem, merge_rows
from scgeo.analysis.siting._solve import (
    Solution,
    evaluate,
    greedy_mclp,
    greedy_pmedian,
    marginal_order,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "DEMANDS",
    "MODELS",
    "SITE_COLUMNS",
    "Demand",
    "SitingProblem",
    "SitingResult",
    "Solution",
    "build_problem",
    "closure_impact",
    "demand_points",
    "evaluate",
    "gain_area",
    "greedy_mclp",
    "greedy_pmedian",
    "grid_candidates",
    "marginal_order",
    "merge_rows",
    "plan_sites",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
    "speed_sensitivity",
]
