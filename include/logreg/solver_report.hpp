// logreg/solver_report.hpp - what the full-batch L-BFGS solver (logreg/lbfgs.hpp) reports: why it
// stopped and one record per iteration. Plain values, like train_report.hpp, so that code which
// only shows or stores them (io/report.hpp, the programs' metrics JSON) needs no solver.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace logreg {

/// Why LBFGS::fit() returned.
enum class SolverStop {
    gradient_tol,      ///< converged: the gradient's largest entry is at most tol
    objective_change,  ///< converged: the objective's relative decrease was at most ftol
    max_iter,          ///< ran max_iter iterations without converging
    line_search,       ///< no step along the search direction lowered the objective (numerical limit)
    callback,          ///< the iteration callback returned false
    interrupted        ///< the stop flag was set
};

inline const char* to_string(SolverStop s) {
    switch (s) {
        case SolverStop::gradient_tol:
            return "gradient_tol";
        case SolverStop::objective_change:
            return "objective_change";
        case SolverStop::max_iter:
            return "max_iter";
        case SolverStop::line_search:
            return "line_search_failed";
        case SolverStop::callback:
            return "callback";
        case SolverStop::interrupted:
            return "interrupted";
    }
    return "?";
}

/// True for the two convergence tests.
inline bool converged(SolverStop s) {
    return s == SolverStop::gradient_tol || s == SolverStop::objective_change;
}

/// One line of the solver's history; iteration 0 is the starting point.
struct SolverIteration {
    int iteration = 0;           ///< counting across fit() calls of one solver
    double objective = 0;        ///< mean loss + (l2 / 2) ||W||^2 after the iteration
    double loss = 0;             ///< the mean loss part of the objective
    double gradient_norm = 0;    ///< largest absolute entry of the objective's gradient (W and b)
    double step = 0;             ///< line-search step length along the search direction (0 for iteration 0)
    int evaluations = 0;         ///< loss-and-gradient evaluations of this iteration
    double seconds = 0;          ///< wall time of this iteration
    double elapsed_seconds = 0;  ///< wall time since fit() started, this iteration included
};

/// What LBFGS::fit() returns.
struct SolverReport {
    SolverStop reason = SolverStop::max_iter;
    std::string message;
    std::vector<SolverIteration> history;                         ///< the starting point, then one record per iteration
    int iterations = 0;                                           ///< iterations run in this call
    int evaluations = 0;                                          ///< loss-and-gradient evaluations in this call
    double objective = std::numeric_limits<double>::quiet_NaN();  ///< at the returned model
    double gradient_norm = std::numeric_limits<double>::quiet_NaN();  ///< at the returned model (max |entry|)
    double seconds = 0;
};

}  // namespace logreg
