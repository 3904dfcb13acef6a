// logreg/detail/line_search.hpp - a line search satisfying the strong Wolfe conditions, for the
// L-BFGS solver (logreg/lbfgs.hpp).
//
// Along a descent direction d, phi(a) = f(x + a d) and phi'(a) = grad f(x + a d) . d. A step a
// satisfies the strong Wolfe conditions when
//   phi(a) <= phi(0) + c1 a phi'(0)        (sufficient decrease) and
//   |phi'(a)| <= c2 |phi'(0)|              (curvature),
// which keeps s'y > 0, so the L-BFGS update stays positive definite. The algorithm is Nocedal and
// Wright's (Numerical Optimization, 2nd ed., algorithms 3.5 and 3.6): grow the step until an
// interval is known to hold an acceptable one, then shrink the interval with safeguarded cubic
// interpolation. It is the search of PyTorch's LBFGS(line_search_fn="strong_wolfe") and of
// SciPy's scalar_search_wolfe2, written against the book.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace logreg::detail {

struct WolfeOptions {
    double c1 = 1e-4;          ///< sufficient decrease
    double c2 = 0.9;           ///< curvature (0.9: the usual choice for quasi-Newton directions)
    int max_evaluations = 20;  ///< of phi per search (SciPy's L-BFGS-B: maxls = 20)
};

/// A point of phi: the step, the value and the directional derivative.
struct LinePoint {
    double step = 0;
    double value = 0;
    double slope = 0;
};

struct LineSearchResult {
    bool converged = false;  ///< both strong Wolfe conditions hold at `point`
    LinePoint point;         ///< the step taken: satisfies sufficient decrease unless step == 0
    int evaluations = 0;
    /// True if phi was last evaluated at point.step; otherwise the caller's state is that of
    /// another trial and the caller evaluates point.step again.
    bool last_evaluated = false;
};

/// Minimizer of the cubic through (a, fa, ga) and (b, fb, gb), clamped to [lo, hi]; the
/// interval's midpoint when the cubic has no minimizer or the numbers are not finite.
inline double cubic_minimizer(const LinePoint& a, const LinePoint& b, double lo, double hi) {
    const double d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step);
    const double d2_sq = d1 * d1 - a.slope * b.slope;
    if (d2_sq >= 0 && std::isfinite(d2_sq)) {
        const double d2 = std::sqrt(d2_sq);
        const double t = a.step <= b.step
                             ? b.step - (b.step - a.step) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2))
                             : a.step - (a.step - b.step) * ((a.slope + d2 - d1) / (a.slope - b.slope + 2 * d2));
        if (std::isfinite(t)) return std::clamp(t, lo, hi);
    }
    return 0.5 * (lo + hi);
}

/// Searches along a descent direction from `start` (step 0, phi(0), phi'(0) < 0), first trying
/// `initial_step`. `phi(step)` evaluates and returns the LinePoint; a non-finite value counts as
/// too large a step. Returns the accepted step, or when no step satisfying the strong Wolfe
/// conditions was found within the budget, the best step that decreased phi sufficiently
/// (converged = false), or step 0 if there was none.
template <typename Phi>
LineSearchResult strong_wolfe_search(Phi&& phi, const LinePoint& start, double initial_step,
                                     const WolfeOptions& opt = {}) {
    LineSearchResult r;
    const auto sufficient = [&](const LinePoint& p) {
        return std::isfinite(p.value) && p.value <= start.value + opt.c1 * p.step * start.slope;
    };
    const auto curvature = [&](const LinePoint& p) { return std::abs(p.slope) <= -opt.c2 * start.slope; };
    double last_step = std::numeric_limits<double>::quiet_NaN();
    const auto evaluate = [&](double step) {
        ++r.evaluations;
        last_step = step;
        return phi(step);
    };
    const auto accept = [&](const LinePoint& p, bool converged) {
        r.point = p;
        r.converged = converged;
        r.last_evaluated = p.step == last_step;
        return r;
    };
    LinePoint prev = start, lo, hi;
    double step = initial_step;
    bool bracketed = false;
    // Phase 1 (algorithm 3.5): grow the step until [lo, hi] brackets an acceptable one.
    while (r.evaluations < opt.max_evaluations) {
        const LinePoint p = evaluate(step);
        if (!sufficient(p) || (r.evaluations > 1 && p.value >= prev.value)) {
            lo = prev;
            hi = p;
            bracketed = true;
            break;
        }
        if (curvature(p)) return accept(p, true);
        if (p.slope >= 0) {  // past a minimizer of phi
            lo = p;
            hi = prev;
            bracketed = true;
            break;
        }
        // Still descending: extrapolate, at least a little and at most 10x further.
        const double next = cubic_minimizer(prev, p, p.step + 0.01 * (p.step - prev.step), 10 * p.step);
        prev = p;
        step = next;
    }
    if (!bracketed) return accept(prev, false);  // out of evaluations while still descending
    // Phase 2 (algorithm 3.6): lo always satisfies sufficient decrease and has the lowest value
    // seen; the interval between lo and hi holds a step satisfying both conditions.
    while (r.evaluations < opt.max_evaluations) {
        const double a = std::min(lo.step, hi.step), b = std::max(lo.step, hi.step);
        const double width = b - a;
        if (!(width > std::numeric_limits<double>::epsilon() * b)) break;  // no room left
        // A trial too close to an end of the interval makes little progress: keep it inside.
        const double trial = std::isfinite(hi.value) ? cubic_minimizer(lo, hi, a + 0.1 * width, b - 0.1 * width)
                                                     : lo.step + 0.5 * (hi.step - lo.step);
        const LinePoint p = evaluate(trial);
        if (!sufficient(p) || p.value >= lo.value) {
            hi = p;
            continue;
        }
        if (curvature(p)) return accept(p, true);
        if (p.slope * (hi.step - lo.step) >= 0) hi = lo;
        lo = p;
    }
    // Out of budget: fall back to the best sufficient-decrease step (start itself if none).
    return accept(lo, false);
}

}  // namespace logreg::detail
