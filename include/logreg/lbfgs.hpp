// logreg/lbfgs.hpp - full-batch L-BFGS: the minimizer of the L2-regularized mean loss, the answer
// scikit-learn's LogisticRegression(solver="lbfgs") returns, beside the mini-batch Trainer.
//
// The objective (docs/math.md "The regularized objective") is
//   F(W, b) = mean loss over the training rows (sample weights when given) + (l2 / 2) ||W||_F^2,
// the bias unpenalized: scikit-learn's multinomial objective with C = 1 / (l2 * sum of the sample weights)
// (1 / (l2 * n_samples) unweighted).
// Every evaluation of F and its gradient is one pass of the mini-batch engine
// (detail/batch_gradient.hpp) over all rows, on all threads - or, for mostly-zero data, of the
// sparse pass (detail/sparse_gradient.hpp); the search direction comes from the
// two-loop recursion (detail/lbfgs_memory.hpp) and the step from a strong Wolfe line search
// (detail/line_search.hpp). docs/design.md says why this is not LBFGSpp.
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/dataset.hpp>
#include <logreg/detail/batch_gradient.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/lbfgs_memory.hpp>
#include <logreg/detail/line_search.hpp>
#include <logreg/detail/sparse_gradient.hpp>
#include <logreg/detail/thread_pool.hpp>
#include <logreg/error.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/loss.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/solver_report.hpp>
#include <logreg/trainer_state.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace logreg {

/// Options of the L-BFGS solver; validate() names the first bad field. The defaults are those of
/// scikit-learn's lbfgs solver (SciPy's L-BFGS-B: 10 pairs, 20 evaluations per line search,
/// ftol = 1e7 x machine epsilon), except that tol applies to the gradient of the mean objective.
struct LBFGSOptions {
    double l2 = 0.0;                      ///< penalty (l2 / 2) ||W||_F^2 on the weights, not the bias; >= 0
    double tol = 1e-4;                    ///< converged when every gradient entry is at most tol in magnitude
    double ftol = 2.220446049250313e-09;  ///< converged when (F_prev - F) / max(|F_prev|, |F|, 1) <= ftol
    int max_iter = 100;                   ///< iterations per fit() call
    int memory = 10;                      ///< correction pairs kept (SciPy's maxcor)
    int max_linesearch = 20;              ///< loss-and-gradient evaluations per line search (SciPy's maxls)
    int threads = 1;                      ///< threads of each evaluation
    /// Skip the zeros of sparse data (at most half the entries nonzero, a preprocessor without
    /// offsets, e.g. pixels / 255): the same objective, computed from a compressed copy of the rows.
    bool sparse = true;

    void validate() const {
        if (!(l2 >= 0 && std::isfinite(l2)))
            throw InvalidParameter(detail::cat("LBFGSOptions: 'l2' is ", l2, "; it must be finite and >= 0"));
        if (!(tol >= 0 && std::isfinite(tol)))
            throw InvalidParameter(detail::cat("LBFGSOptions: 'tol' is ", tol, "; it must be finite and >= 0"));
        if (!(ftol >= 0 && ftol < 1))
            throw InvalidParameter(detail::cat("LBFGSOptions: 'ftol' is ", ftol, "; it must satisfy 0 <= ftol < 1"));
        if (max_iter < 0)
            throw InvalidParameter(detail::cat("LBFGSOptions: 'max_iter' is ", max_iter, "; it must be >= 0"));
        if (memory < 1 || memory > 1000)
            throw InvalidParameter(detail::cat("LBFGSOptions: 'memory' is ", memory, "; it must be in [1, 1000]"));
        if (max_linesearch < 1 || max_linesearch > 1000)
            throw InvalidParameter(
                detail::cat("LBFGSOptions: 'max_linesearch' is ", max_linesearch, "; it must be in [1, 1000]"));
        if (threads < 1 || threads > 1024)
            throw InvalidParameter(detail::cat("LBFGSOptions: 'threads' is ", threads, "; it must be in [1, 1024]"));
    }
};

/// Minimizes the regularized objective over a whole data set, starting from the model it holds
/// (a warm start: e.g. the model of a few SGD epochs). Keeps the model and its curvature pairs
/// between fit() calls, so a second call continues the first; state()/restore() carry both
/// through a checkpoint (io/checkpoint.hpp).
template <typename Scalar, typename Loss = CrossEntropy<Scalar>>
class LBFGS {
    static_assert(detail::check_loss<Loss, Scalar>());

public:
    using loss_type = Loss;
    /// Stored in checkpoints, like an optimizer's name.
    static constexpr const char* name = "lbfgs";
    /// Called after every iteration; return false to stop (reason: callback).
    using IterationCallback = std::function<bool(const SolverIteration&)>;

    explicit LBFGS(LinearSoftmax<Scalar> model, LBFGSOptions options = {}, Loss loss = Loss())
        : model_(std::move(model)), options_(options), loss_(std::move(loss)) {
        options_.validate();
        if (model_.num_classes() < 2) throw InvalidParameter("LBFGS: the model is empty; construct it with a shape");
        loss_.validate(model_.num_classes());
    }

    const LinearSoftmax<Scalar>& model() const { return model_; }
    const LBFGSOptions& options() const { return options_; }
    const Loss& loss() const { return loss_; }
    /// Iterations completed over all fit() calls.
    int iterations_done() const { return iterations_done_; }

    /// Changes options between fit() calls; the curvature pairs are kept unless `memory` changes.
    void set_options(const LBFGSOptions& options) {
        options.validate();
        if (options.memory != options_.memory) memory_ = detail::LBFGSMemory<Scalar>();
        options_ = options;
    }

    void set_callback(IterationCallback cb) { callback_ = std::move(cb); }
    /// Checked after every iteration; once true, fit() stops (reason: interrupted) at the last
    /// iterate, which state() saves. An atomic, so a signal handler may set it.
    void set_stop_flag(const std::atomic<bool>* stop) { stop_ = stop; }

    /// Forgets the curvature pairs: the next iteration is a steepest-descent step.
    void reset_memory() { memory_.clear(); }

    /// Starts the next fit() from `model` (same shape), forgetting the curvature pairs.
    void set_model(LinearSoftmax<Scalar> model) {
        if (model.num_classes() != model_.num_classes() || model.num_features() != model_.num_features())
            throw ShapeError(detail::cat("LBFGS::set_model: the model is ", model.num_classes(), "x",
                                         model.num_features(), " but the solver's is ", model_.num_classes(), "x",
                                         model_.num_features()));
        model_ = std::move(model);
        memory_.clear();
    }

    /// Model, iterations done and curvature pairs (oldest first), as "weight_s<i>", "bias_s<i>",
    /// "weight_y<i>" and "bias_y<i>".
    TrainerState<Scalar> state() const {
        TrainerState<Scalar> s;
        s.model = model_;
        s.position.epochs_done = iterations_done_;
        s.optimizer_name = name;
        s.optimizer.steps = iterations_done_;
        const Index c = model_.num_classes(), d = model_.num_features();
        for (int i = 0; i < memory_.count(); ++i) {
            for (const char* part : {"s", "y"}) {
                const auto v = part[0] == 's' ? memory_.s(i) : memory_.y(i);
                const std::string key = part + std::to_string(i);
                s.optimizer.matrices.emplace("weight_" + key, Eigen::Map<const RowMatrix<Scalar>>(v.data(), c, d));
                s.optimizer.vectors.emplace("bias_" + key, v.tail(c));
            }
        }
        return s;
    }

    /// Continues from a state() of a solver with the same model shape. Checks everything first and
    /// throws InvalidParameter (naming what does not fit) with the solver unchanged.
    void restore(const TrainerState<Scalar>& s) {
        if (s.optimizer_name != name)
            throw InvalidParameter(
                detail::cat("LBFGS::restore: the state holds the optimizer '", s.optimizer_name, "', not 'lbfgs'"));
        const Index c = model_.num_classes(), d = model_.num_features();
        if (s.model.num_classes() != c || s.model.num_features() != d)
            throw InvalidParameter(detail::cat("LBFGS::restore: the state's model is ", s.model.num_classes(), "x",
                                               s.model.num_features(), " but the solver's is ", c, "x", d));
        if (s.position.epochs_done < 0 || s.position.batches_done_in_epoch != 0)
            throw InvalidParameter(detail::cat("LBFGS::restore: ", s.position.epochs_done, " iterations done and ",
                                               s.position.batches_done_in_epoch,
                                               " batches: not a state of a full-batch solver"));
        const auto pairs = static_cast<int>(s.optimizer.matrices.size() / 2);
        if (pairs > options_.memory || s.optimizer.matrices.size() != 2 * static_cast<std::size_t>(pairs) ||
            s.optimizer.vectors.size() != s.optimizer.matrices.size())
            throw InvalidParameter(detail::cat("LBFGS::restore: the state holds ", s.optimizer.matrices.size(),
                                               " matrices and ", s.optimizer.vectors.size(),
                                               " vectors; expected two of each per curvature pair, at most ",
                                               options_.memory, " pairs"));
        detail::LBFGSMemory<Scalar> memory;
        memory.reset(c * d + c, options_.memory);
        Vector<Scalar> sv(c * d + c), yv(c * d + c);
        for (int i = 0; i < pairs; ++i) {
            for (const auto& [part, v] : {std::pair{"s", &sv}, std::pair{"y", &yv}}) {
                const std::string key = part + std::to_string(i);
                const auto m = s.optimizer.matrices.find("weight_" + key);
                const auto b = s.optimizer.vectors.find("bias_" + key);
                if (m == s.optimizer.matrices.end() || b == s.optimizer.vectors.end())
                    throw InvalidParameter("LBFGS::restore: the state has no weight_" + key + " and bias_" + key);
                if (m->second.rows() != c || m->second.cols() != d || b->second.size() != c)
                    throw InvalidParameter("LBFGS::restore: weight_" + key + " or bias_" + key +
                                           " does not have the model's shape");
                v->head(c * d) = Eigen::Map<const Vector<Scalar>>(m->second.data(), c * d);
                v->tail(c) = b->second;
            }
            if (!memory.add(sv, yv))
                throw InvalidParameter(detail::cat("LBFGS::restore: curvature pair ", i, " has s'y <= 0"));
        }
        model_ = s.model;
        iterations_done_ = s.position.epochs_done;
        memory_ = std::move(memory);
    }

    /// Runs up to options().max_iter iterations on every row of `data`.
    template <typename Feature>
    SolverReport fit(const Dataset<Feature>& data, const Preprocessor<Scalar>& pre) {
        return fit_rows(data, iota(data.size()), pre);
    }

    /// Runs up to options().max_iter iterations on the rows `rows` of `data`.
    template <typename Feature>
    SolverReport fit_rows(const Dataset<Feature>& data, const IndexVector& rows, const Preprocessor<Scalar>& pre) {
        const auto start = Clock::now();  // the time includes the set-up (the sparse copy of the rows)
        Problem<Feature> p = problem(data, rows, pre);
        SolverReport report;
        report.history.reserve(static_cast<std::size_t>(options_.max_iter) + 1);
        const auto finish = [&](SolverStop reason, std::string message) {
            unpack(x_, model_);  // the model holds the last trial point until here
            report.reason = reason;
            report.message = std::move(message);
            report.objective = f_;
            report.gradient_norm = g_.cwiseAbs().maxCoeff();
            report.seconds = seconds_since(start);
            return std::move(report);
        };
        pack(model_, x_);
        f_ = evaluate(p, x_, g_, loss_part_);
        report.evaluations = 1;
        if (!std::isfinite(f_) || !g_.allFinite())
            throw NumericalError(
                detail::cat("LBFGS: the objective or its gradient is not finite at the starting "
                            "point (objective ",
                            f_, "); start from a smaller model"));
        record(report, 0.0, 1, start, start);
        if (report.history.back().gradient_norm <= options_.tol)
            return finish(SolverStop::gradient_tol, gradient_message(report));
        const detail::WolfeOptions wolfe{1e-4, 0.9, options_.max_linesearch};
        for (int it = 0; it < options_.max_iter;) {
            const auto iteration_start = Clock::now();
            memory_.direction(g_, d_);
            double slope = dot(g_, d_);
            if (!(slope < 0)) {  // rounding made H g useless: restart from steepest descent
                memory_.clear();
                d_ = -g_;
                slope = dot(g_, d_);
            }
            const double d_norm = std::sqrt(dot(d_, d_));
            // Without curvature pairs the direction has no natural scale (SciPy's L-BFGS-B starts
            // with 1 / ||d||); afterwards the quasi-Newton step of length 1 usually fits.
            const double initial_step = memory_.count() == 0 ? std::min(1.0, 1.0 / d_norm) : 1.0;
            const auto phi = [&](double step) {
                xt_ = x_ + static_cast<Scalar>(step) * d_;
                const double f = evaluate(p, xt_, gt_, trial_loss_);
                return detail::LinePoint{step, f, dot(gt_, d_)};
            };
            const detail::LineSearchResult ls =
                detail::strong_wolfe_search(phi, detail::LinePoint{0.0, f_, slope}, initial_step, wolfe);
            report.evaluations += ls.evaluations;
            int evaluations = ls.evaluations;
            if (ls.point.step == 0) {
                if (memory_.count() > 0) {  // retry once along the steepest descent
                    memory_.clear();
                    continue;
                }
                return finish(SolverStop::line_search,
                              detail::cat("the line search found no step that lowers the objective after ",
                                          iterations_done_, " iterations (objective ", f_, ", gradient max |entry| ",
                                          g_.cwiseAbs().maxCoeff(), "): the limit of the precision"));
            }
            if (!ls.last_evaluated) {
                phi(ls.point.step);
                ++report.evaluations;
                ++evaluations;
            }
            s_ = xt_ - x_;
            y_ = gt_ - g_;
            memory_.add(s_, y_);
            x_.swap(xt_);
            g_.swap(gt_);
            const double f_prev = f_;
            f_ = ls.point.value;
            loss_part_ = trial_loss_;
            ++it;
            ++iterations_done_;
            ++report.iterations;
            record(report, ls.point.step, evaluations, iteration_start, start);
            const SolverIteration& last = report.history.back();
            if (last.gradient_norm <= options_.tol) return finish(SolverStop::gradient_tol, gradient_message(report));
            if ((f_prev - f_) <= options_.ftol * std::max({std::abs(f_prev), std::abs(f_), 1.0}))
                return finish(SolverStop::objective_change,
                              detail::cat("converged after ", iterations_done_, " iterations: the objective fell by ",
                                          f_prev - f_, " (relative to it at most ftol = ", options_.ftol, ")"));
            if (callback_ && !callback_(last))
                return finish(SolverStop::callback,
                              detail::cat("stopped by a callback after iteration ", iterations_done_));
            if (stop_ && stop_->load())
                return finish(SolverStop::interrupted, detail::cat("interrupted after iteration ", iterations_done_));
        }
        return finish(SolverStop::max_iter, detail::cat("reached max_iter = ", options_.max_iter,
                                                        " iterations without converging (gradient "
                                                        "max |entry| ",
                                                        g_.cwiseAbs().maxCoeff(), " > tol = ", options_.tol, ")"));
    }

    /// The objective at the current model on the rows `rows` of `data` (all rows if null), and
    /// its gradient in `gradient` if given: what fit() minimizes, for checks.
    template <typename Feature>
    double objective(const Dataset<Feature>& data, const Preprocessor<Scalar>& pre,
                     Gradient<Scalar>* gradient = nullptr, const IndexVector* rows = nullptr) {
        Problem<Feature> p = problem(data, rows ? *rows : iota(data.size()), pre);
        Vector<Scalar> x(n_params()), g(n_params());
        pack(model_, x);
        double loss = 0;
        const double f = evaluate(p, x, g, loss);
        unpack(x, model_);
        if (gradient) {
            gradient->resize(model_.num_classes(), model_.num_features());
            unpack_gradient(g, *gradient);
        }
        return f;
    }

private:
    using Clock = std::chrono::steady_clock;

    template <typename Feature>
    struct Problem {
        const Dataset<Feature>* data;
        IndexVector rows;
        const Preprocessor<Scalar>* pre;
    };

    static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

    template <typename A, typename B>
    static double dot(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
        return a.template cast<double>().dot(b.template cast<double>());
    }

    Index n_params() const { return model_.num_classes() * model_.num_features() + model_.num_classes(); }

    // Checks the data, sizes every buffer and starts the threads: the iterations allocate nothing.
    template <typename Feature>
    Problem<Feature> problem(const Dataset<Feature>& data, IndexVector rows, const Preprocessor<Scalar>& pre) {
        model_.check_features(data.num_features());
        pre.check_features(data.num_features());
        if (data.num_classes() != model_.num_classes())
            throw ShapeError(detail::cat("LBFGS: the data has ", data.num_classes(), " classes but the model has ",
                                         model_.num_classes()));
        if (rows.size() == 0) throw DataError("LBFGS: no training samples");
        for (Index i = 0; i < rows.size(); ++i)
            if (rows[i] < 0 || rows[i] >= data.size())
                throw InvalidParameter(detail::cat("LBFGS: row ", rows[i], " is out of range [0, ", data.size(), ")"));
        const int threads = detail::BatchGradient<Scalar>::threads_for(rows.size(), options_.threads);
        if (!pool_ || pool_->size() != threads) pool_ = std::make_unique<detail::ThreadPool>(threads);
        sparse_rows_ = options_.sparse && detail::SparseGradient<Scalar>::suitable(data, rows, pre);
        if (sparse_rows_)
            sparse_.build(data, rows, model_.num_classes(), threads);
        else
            engine_.reserve(rows.size(), model_.num_features(), model_.num_classes(), threads);
        const Index n = n_params();
        for (Vector<Scalar>* v : {&x_, &g_, &xt_, &gt_, &d_, &s_, &y_}) v->resize(n);
        if (memory_.size() != n || memory_.capacity() != options_.memory) memory_.reset(n, options_.memory);
        return Problem<Feature>{&data, std::move(rows), &pre};
    }

    void pack(const LinearSoftmax<Scalar>& m, Vector<Scalar>& x) const {
        const Index cd = m.weight().size();
        x.head(cd) = Eigen::Map<const Vector<Scalar>>(m.weight().data(), cd);
        x.tail(m.num_classes()) = m.bias();
    }
    void unpack(const Vector<Scalar>& x, LinearSoftmax<Scalar>& m) const {
        const Index cd = m.weight().size();
        Eigen::Map<Vector<Scalar>>(m.weight().data(), cd) = x.head(cd);
        m.bias() = x.tail(m.num_classes());
    }
    void unpack_gradient(const Vector<Scalar>& g, Gradient<Scalar>& out) const {
        const Index cd = out.weight.size();
        Eigen::Map<Vector<Scalar>>(out.weight.data(), cd) = g.head(cd);
        out.bias = g.tail(out.bias.size());
    }

    // F(x) and its gradient into g; the mean-loss part into `loss`. One pass of the engine (or of
    // the sparse one) over every row, then the penalty on the weights (not the bias).
    template <typename Feature>
    double evaluate(const Problem<Feature>& p, const Vector<Scalar>& x, Vector<Scalar>& g, double& loss) {
        unpack(x, model_);
        const LossSums sums =
            sparse_rows_ ? sparse_.compute(model_, loss_, *p.pre, *pool_)
                         : engine_.compute(model_, loss_, p.data->features(), p.data->labels(),
                                           p.data->sample_weights(), p.rows.data(), p.rows.size(), *p.pre, *pool_);
        if (!(sums.weight_sum > 0))
            throw DataError("LBFGS: the samples' total weight is zero: there is nothing to fit");
        const Gradient<Scalar>& grad = sparse_rows_ ? sparse_.gradient() : engine_.gradient();
        const Index cd = model_.weight().size();
        const auto w = x.head(cd);
        g.head(cd) = Eigen::Map<const Vector<Scalar>>(grad.weight.data(), cd) + static_cast<Scalar>(options_.l2) * w;
        g.tail(model_.num_classes()) = grad.bias;
        loss = sums.mean();
        return loss + 0.5 * options_.l2 * dot(w, w);
    }

    void record(SolverReport& report, double step, int evaluations, Clock::time_point iteration_start,
                Clock::time_point start) const {
        SolverIteration r;
        r.iteration = iterations_done_;
        r.objective = f_;
        r.loss = loss_part_;
        r.gradient_norm = g_.cwiseAbs().maxCoeff();
        r.step = step;
        r.evaluations = evaluations;
        r.seconds = seconds_since(iteration_start);
        r.elapsed_seconds = seconds_since(start);
        report.history.push_back(r);
    }

    std::string gradient_message(const SolverReport& report) const {
        return detail::cat("converged after ", iterations_done_, " iterations: gradient max |entry| ",
                           report.history.back().gradient_norm, " <= tol = ", options_.tol);
    }

    LinearSoftmax<Scalar> model_;
    LBFGSOptions options_;
    Loss loss_;
    IterationCallback callback_;
    const std::atomic<bool>* stop_ = nullptr;
    int iterations_done_ = 0;
    detail::LBFGSMemory<Scalar> memory_;
    std::unique_ptr<detail::ThreadPool> pool_;
    detail::BatchGradient<Scalar> engine_;
    detail::SparseGradient<Scalar> sparse_;  // used instead of engine_ for sparse data
    bool sparse_rows_ = false;
    // The current iterate x with F and gradient g; the line search's trial point xt with gt; the
    // direction d; the last step's s = x_new - x and y = g_new - g.
    Vector<Scalar> x_, g_, xt_, gt_, d_, s_, y_;
    double f_ = 0, loss_part_ = 0, trial_loss_ = 0;
};

}  // namespace logreg
