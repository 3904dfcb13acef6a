// mnist_train: trains softmax regression on MNIST, reports test accuracy, and saves
// the model, a metrics JSON and an HTML report. The library does the work; this
// program parses options and prints. With --checkpoint it saves its whole state after every
// epoch (and on Ctrl-C), and --resume continues a stopped run to the same weights, bitwise.
// --optimizer lbfgs minimizes the L2-regularized objective with the full-batch solver instead
// (logreg/lbfgs.hpp): scikit-learn's LogisticRegression answer.
#include "common/command_line.hpp"
#include "common/console.hpp"
#include "common/output_paths.hpp"
#include "common/outputs.hpp"
#include "common/stop_signal.hpp"
#include "common/train_options.hpp"
#ifdef LOGREG_HAVE_MPI
#include "mnist_train_distributed.hpp"  // --distributed (built only when MPI is found)
#endif

#include <logreg/io/atomic_file.hpp>
#include <logreg/io/checkpoint.hpp>
#include <logreg/io/mnist.hpp>
#include <logreg/io/report.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <csignal>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

using Scalar = float;

struct Options {
    std::string data = logreg::io::default_mnist_dir();
    int epochs = 10;
    long long batch_size = 64;
    double lr = 0.5;  // with the cosine schedule: 92.5-92.6% on 4 seeds (see docs/mnist.md)
    std::string optimizer = "sgd";
    double momentum = 0.0;  // SGD
    bool nesterov = false;  // SGD
    double beta1 = 0.9;     // Adam, AdamW (PyTorch's defaults)
    double beta2 = 0.999;
    double eps = 1e-8;
    bool amsgrad = false;
    double weight_decay = 0.0;  // AdamW: 0.01 unless given (PyTorch's default)
    double l2 = 0.0;            // lbfgs: the penalty (l2 / 2) ||W||^2
    double tol = 1e-4;          // lbfgs: converged when every gradient entry is at most tol
    int max_iter = 100;         // lbfgs
    std::string schedule = "cosine";
    std::string init = "uniform";
    std::string normalize = "unit";
    double val_split = 0.1;
    unsigned long long seed = 0;
    int threads = 1;
    std::string save, report, metrics_json;
    std::string checkpoint, resume;
    long long limit_train = 0;  // hidden, for tests: train on the first N images only (0: all)
    bool quiet = false;
    bool distributed = false;  // --distributed: data-parallel over MPI (mnist_train_distributed.hpp)
    double mpi_timeout = 300;  // seconds a collective may take before the peers are presumed dead
};

using examples::install_stop_handler;
using examples::stop_requested;

/// A one-line progress bar redrawn in place (only when stdout is a terminal).
class ProgressBar {
public:
    explicit ProgressBar(bool enabled) : enabled_(enabled) {}

    void update(const logreg::BatchRecord& b) {
        if (!enabled_) return;
        const auto now = Clock::now();
        if (b.batch == 0) epoch_start_ = now;
        const bool last = b.batch + 1 == b.batches_in_epoch;
        if (!last && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
        last_draw_ = now;
        const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
        const double rate = elapsed > 0 ? static_cast<double>(b.samples_done) / elapsed : 0.0;
        const double frac = static_cast<double>(b.batch + 1) / static_cast<double>(b.batches_in_epoch);
        const int width = 30, filled = static_cast<int>(frac * width);
        std::printf("\repoch %d [%s%s] %lld/%lld  loss %.4f  %.0f samples/s  ETA %.1fs   ", b.epoch,
                    std::string(static_cast<std::size_t>(filled), '#').c_str(),
                    std::string(static_cast<std::size_t>(width - filled), '.').c_str(),
                    static_cast<long long>(b.batch + 1), static_cast<long long>(b.batches_in_epoch), b.loss, rate,
                    frac > 0 ? elapsed / frac - elapsed : 0.0);
        std::fflush(stdout);
    }
    void end_epoch() {
        if (enabled_) std::printf("\r%120s\r", "");
    }

private:
    using Clock = std::chrono::steady_clock;
    bool enabled_;
    Clock::time_point epoch_start_{}, last_draw_{};
};

nlohmann::json options_json(const Options& o) {
    nlohmann::json j;
    j["data"] = o.data;
    if (o.optimizer == "lbfgs") {  // a full-batch solver: none of the mini-batch settings apply
        j["optimizer"] = o.optimizer;
        j["l2"] = o.l2;
        j["tol"] = o.tol;
        j["max_iter"] = o.max_iter;
        j["init"] = o.init;
        j["normalize"] = o.normalize;
        j["seed"] = o.seed;
        j["threads"] = o.threads;
        j["scalar"] = "float32";
        if (o.limit_train > 0) j["limit_train"] = o.limit_train;
        return j;
    }
    j["epochs"] = o.epochs;
    j["batch_size"] = o.batch_size;
    j["optimizer"] = o.optimizer;
    j["lr"] = o.lr;
    if (o.optimizer == "sgd") {
        j["momentum"] = o.momentum;
        j["nesterov"] = o.nesterov;
    } else {
        j["beta1"] = o.beta1;
        j["beta2"] = o.beta2;
        j["eps"] = o.eps;
        j["amsgrad"] = o.amsgrad;
    }
    j["weight_decay"] = o.weight_decay;
    j["schedule"] = o.schedule;
    j["init"] = o.init;
    j["normalize"] = o.normalize;
    j["val_split"] = o.val_split;
    j["seed"] = o.seed;
    j["threads"] = o.threads;
    j["scalar"] = "float32";
    if (o.limit_train > 0) j["limit_train"] = o.limit_train;
    return j;
}

/// The options that determine the weights, as a checkpoint records them ("data" may move).
std::string resume_key(const Options& o) {
    nlohmann::json j = options_json(o);
    j.erase("data");
    return j.dump();
}

/// "--lr 0.5 here, 0.1 in the checkpoint" for every option that differs.
std::string option_differences(const std::string& saved_text, const Options& o) {
    nlohmann::json saved, now = nlohmann::json::parse(resume_key(o));
    try {
        saved = nlohmann::json::parse(saved_text);
    } catch (const nlohmann::json::exception&) {
        return "the checkpoint's training_options are not valid JSON";
    }
    std::string diff;
    for (const auto& [key, value] : now.items()) {
        const std::string was = saved.contains(key) ? saved[key].dump() : "(not set)";
        if (was != value.dump())
            diff += (diff.empty() ? "" : ", ") + key + " " + value.dump() + " here, " + was + " in the checkpoint";
    }
    for (const auto& [key, value] : saved.items())
        if (!now.contains(key))
            diff += (diff.empty() ? "" : ", ") + key + " " + value.dump() + " in the checkpoint only";
    return diff;
}

/// The training images (all, or the first --limit-train) and the test images.
std::pair<logreg::Dataset<std::uint8_t>, logreg::Dataset<std::uint8_t>> load_data(const Options& o) {
    using namespace logreg;
    auto train = io::load_mnist(o.data, io::MnistSplit::train);
    if (o.limit_train > 0) {
        if (o.limit_train > train.size())
            throw InvalidParameter(
                detail::cat("--limit-train ", o.limit_train, " is more than the ", train.size(), " training images"));
        train = train.subset(iota(static_cast<Index>(o.limit_train)));
    }
    auto test = io::load_mnist(o.data, io::MnistSplit::test);
    if (!o.quiet)
        std::cout << "data: " << o.data << " (" << train.size() << " train, " << test.size() << " test images)\n";
    return {std::move(train), std::move(test)};
}

template <typename Optimizer>
int run_with(const Options& o, Optimizer optimizer) {
    using namespace logreg;
    examples::print_build_info(std::cout, o.threads);

    auto train = io::load_mnist(o.data, io::MnistSplit::train);
    if (o.limit_train > 0) {
        if (o.limit_train > train.size())
            throw InvalidParameter(
                detail::cat("--limit-train ", o.limit_train, " is more than the ", train.size(), " training images"));
        train = train.subset(iota(static_cast<Index>(o.limit_train)));
    }
    const auto test = io::load_mnist(o.data, io::MnistSplit::test);
    if (!o.quiet)
        std::cout << "data: " << o.data << " (" << train.size() << " train, " << test.size() << " test images)\n";

    TrainOptions topt = examples::train_options(o);

    // The split is made here (not inside fit) so that standardization sees the training part only.
    const Split split = o.val_split > 0 ? train_validation_split(train.size(), o.val_split, o.seed)
                                        : Split{iota(train.size()), IndexVector()};
    const Normalization norm = parse_normalization(o.normalize);
    const Preprocessor<Scalar> pre = norm == Normalization::standard
                                         ? Preprocessor<Scalar>::standard(train, split.train)
                                     : norm == Normalization::unit ? Preprocessor<Scalar>::unit(784)
                                                                   : Preprocessor<Scalar>::identity(784);

    Trainer<Scalar, Optimizer> trainer(LinearSoftmax<Scalar>(784, 10, parse_init(o.init), o.seed), topt,
                                       std::move(optimizer));
    ProgressBar bar(!o.quiet && isatty(STDOUT_FILENO));
    Callbacks cb;
    cb.on_batch = [&](const BatchRecord& b) {
        bar.update(b);
        return true;
    };
    cb.on_epoch = [&](const EpochRecord& e) {
        bar.end_epoch();
        if (!o.quiet) {
            std::printf("epoch %3d  train loss %.4f", e.epoch, e.train_loss);
            if (std::isfinite(e.val_loss)) std::printf("  val loss %.4f  val acc %.4f", e.val_loss, e.val_accuracy);
            std::printf("  lr %.4g  %.3fs\n", e.lr, e.seconds);
            std::fflush(stdout);
        }
        return true;
    };
    const std::map<std::string, std::string> checkpoint_extra = {{"training_options", resume_key(o)}};
    if (!o.resume.empty()) {
        // Validated in full before anything changes; the options must be those of the saved run,
        // because the split, the preprocessing and the schedule derive from them.
        const std::map<std::string, std::string> extra = io::load_checkpoint(o.resume, trainer);
        const auto it = extra.find("training_options");
        if (it == extra.end())
            throw FormatError("--resume " + o.resume +
                              ": the checkpoint was not written by mnist_train (no training_options)");
        if (const auto p = extra.find("processes"); p != extra.end())
            throw InvalidParameter("--resume " + o.resume + ": the checkpoint was written by mpirun -np " + p->second +
                                   " mnist_train --distributed; resume it the same way");
        if (it->second != checkpoint_extra.at("training_options"))
            throw InvalidParameter("--resume " + o.resume + ": the checkpoint was made with other options (" +
                                   option_differences(it->second, o) +
                                   "); resume with the options of the interrupted run");
        TrainOptions rest = topt;
        rest.epochs = o.epochs - trainer.epochs_done();
        trainer.set_options(rest);
        if (!o.quiet)
            std::cout << "resumed from " << o.resume << " after epoch " << trainer.epochs_done()
                      << (trainer.position().batches_done_in_epoch > 0
                              ? detail::cat(" and ", trainer.position().batches_done_in_epoch, " batches of epoch ",
                                            trainer.epochs_done() + 1)
                              : std::string())
                      << "\n";
    }
    if (!o.checkpoint.empty()) {
        const auto on_epoch = cb.on_epoch;
        cb.on_epoch = [&, on_epoch](const EpochRecord& e) {
            const bool go_on = on_epoch(e);
            io::save_checkpoint(o.checkpoint, trainer, checkpoint_extra);
            return go_on;
        };
    }
    cb.stop = &stop_requested;
    trainer.set_callbacks(cb);
    const TrainReport report = trainer.fit_rows(train, split.train, o.val_split > 0 ? &train : nullptr,
                                                o.val_split > 0 ? &split.validation : nullptr, pre);
    if (report.reason == StopReason::diverged) {
        std::cerr << "mnist_train: error: " << report.message << "\n";
        std::error_code ec;
        if (!o.checkpoint.empty() && std::filesystem::exists(o.checkpoint, ec))
            std::cerr << "mnist_train: the checkpoint " << o.checkpoint << " is unchanged (the last good epoch)\n";
        return 3;
    }
    if (report.reason == StopReason::interrupted || stop_requested.load()) {
        bar.end_epoch();
        std::string saved = " (no --checkpoint given: the progress is lost)";
        if (!o.checkpoint.empty()) {
            io::save_checkpoint(o.checkpoint, trainer, checkpoint_extra);
            saved = "; checkpoint saved to " + o.checkpoint + " (continue with the same options and --resume " +
                    o.checkpoint + ")";
        }
        std::cerr << "mnist_train: " << (report.reason == StopReason::interrupted ? report.message : "interrupted")
                  << saved << "\n";
        return 130;  // the shell's convention for a program stopped by SIGINT
    }
    double train_seconds = 0;
    for (const auto& e : report.history) train_seconds += e.seconds;

    const Evaluation ev = evaluate(trainer.model(), test, pre);
    const ClassificationReport cls = classification_report(ev.predictions, ev.labels, 10);
    std::printf("test accuracy %.4f  test loss %.4f  (%zu epochs, %.2fs training, %.1f ms/epoch)\n", ev.accuracy,
                ev.loss, report.history.size(), train_seconds,
                1000 * train_seconds / static_cast<double>(std::max<std::size_t>(1, report.history.size())));
    if (!o.quiet) examples::print_classification(std::cout, cls, examples::digit_names());
    if (report.reason != StopReason::max_epochs) std::cout << report.message << "\n";

    examples::write_outputs(o, options_json(o), "logreg on MNIST", trainer.model(), pre, test, ev, cls, report,
                            train_seconds);
    return 0;
}

/// --optimizer lbfgs: the full-batch solver on every training image; one line per iteration.
int run_lbfgs(const Options& o) {
    using namespace logreg;
    examples::print_build_info(std::cout, o.threads);
    const auto data = load_data(o);
    const Dataset<std::uint8_t>& train = data.first;
    const Dataset<std::uint8_t>& test = data.second;
    const Normalization norm = parse_normalization(o.normalize);
    const Preprocessor<Scalar> pre = norm == Normalization::standard
                                         ? Preprocessor<Scalar>::standard(train, iota(train.size()))
                                     : norm == Normalization::unit ? Preprocessor<Scalar>::unit(784)
                                                                   : Preprocessor<Scalar>::identity(784);
    LBFGSOptions lo;
    lo.l2 = o.l2;
    lo.tol = o.tol;
    lo.max_iter = o.max_iter;
    lo.threads = o.threads;
    LBFGS<Scalar> solver(LinearSoftmax<Scalar>(784, 10, parse_init(o.init), o.seed), lo);
    const std::map<std::string, std::string> checkpoint_extra = {{"training_options", resume_key(o)}};
    if (!o.resume.empty()) {
        const std::map<std::string, std::string> extra = io::load_checkpoint(o.resume, solver);
        const auto it = extra.find("training_options");
        if (it == extra.end())
            throw FormatError("--resume " + o.resume +
                              ": the checkpoint was not written by mnist_train (no training_options)");
        if (it->second != checkpoint_extra.at("training_options"))
            throw InvalidParameter("--resume " + o.resume + ": the checkpoint was made with other options (" +
                                   option_differences(it->second, o) +
                                   "); resume with the options of the interrupted run");
        LBFGSOptions rest = lo;
        rest.max_iter = std::max(0, o.max_iter - solver.iterations_done());
        solver.set_options(rest);
        if (!o.quiet)
            std::cout << "resumed from " << o.resume << " after iteration " << solver.iterations_done() << "\n";
    }
    const auto print = [&](const SolverIteration& it) {
        if (!o.quiet)
            std::printf("iter %4d  objective %.8f  gradient %.3e  step %-9.3g evals %d  %.3fs\n", it.iteration,
                        it.objective, it.gradient_norm, it.step, it.evaluations, it.elapsed_seconds);
        std::fflush(stdout);
    };
    solver.set_callback([&](const SolverIteration& it) {
        print(it);
        if (!o.checkpoint.empty()) io::save_checkpoint(o.checkpoint, solver, checkpoint_extra);
        return true;
    });
    solver.set_stop_flag(&stop_requested);
    const SolverReport report = solver.fit(train, pre);
    if (report.reason == SolverStop::interrupted) {
        std::string saved = " (no --checkpoint given: the progress is lost)";
        if (!o.checkpoint.empty())
            saved = "; checkpoint saved to " + o.checkpoint + " (continue with the same options and --resume " +
                    o.checkpoint + ")";
        std::cerr << "mnist_train: " << report.message << saved << "\n";
        return 130;
    }
    // The last iteration's line was printed by the callback, unless fit() stopped on a convergence test.
    if (!report.history.empty() && (report.iterations == 0 || converged(report.reason))) print(report.history.back());
    if (!o.checkpoint.empty()) io::save_checkpoint(o.checkpoint, solver, checkpoint_extra);
    const double train_seconds = report.seconds;
    const Evaluation ev = evaluate(solver.model(), test, pre);
    const ClassificationReport cls = classification_report(ev.predictions, ev.labels, 10);
    std::printf("test accuracy %.4f  test loss %.4f  (%d iterations, %.2fs training, %.1f ms/iteration)\n", ev.accuracy,
                ev.loss, report.iterations, train_seconds,
                1000 * train_seconds / static_cast<double>(std::max(1, report.iterations)));
    std::cout << "objective " << detail::cat(report.objective) << ": " << report.message << "\n";
    if (!o.quiet) examples::print_classification(std::cout, cls, examples::digit_names());
    examples::write_outputs(o, options_json(o), "logreg on MNIST (L-BFGS)", solver.model(), pre, test, ev, cls, report,
                            train_seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Train multinomial logistic regression (softmax regression) on MNIST with logreg"};
    app.add_option("--data", o.data, "MNIST folder (default: $LOGREG_MNIST_DIR, then ./data/mnist)");
    std::vector<CLI::Option*> sgd_only, adam_only, minibatch_only, lbfgs_only;
    minibatch_only.push_back(
        app.add_option("--epochs", o.epochs, "epochs to train")->check(CLI::Range(1, 100000))->capture_default_str());
    minibatch_only.push_back(app.add_option("--batch-size", o.batch_size, "samples per mini-batch")
                                 ->check(CLI::Range(1LL, 1LL << 30))
                                 ->capture_default_str());
    app.add_option("--optimizer", o.optimizer,
                   "sgd (torch.optim.SGD), adam (Adam), adamw (AdamW), or lbfgs: the full-batch L-BFGS solver of "
                   "the L2-regularized objective (scikit-learn's LogisticRegression)")
        ->check(CLI::IsMember({"sgd", "adam", "adamw", "lbfgs"}))
        ->capture_default_str();
    auto* lr = app.add_option("--lr", o.lr, "learning rate (> 0; default 0.5 for sgd, 0.001 for adam and adamw)")
                   ->check(CLI::PositiveNumber);
    minibatch_only.push_back(lr);
    lbfgs_only.push_back(app.add_option("--l2", o.l2,
                                        "lbfgs: penalty (l2 / 2) ||W||^2 on the mean loss, >= 0; scikit-learn's "
                                        "C = 1 / (l2 * training images)")
                             ->check(CLI::NonNegativeNumber)
                             ->capture_default_str());
    lbfgs_only.push_back(app.add_option("--tol", o.tol, "lbfgs: stop when every gradient entry is at most this")
                             ->check(CLI::NonNegativeNumber)
                             ->capture_default_str());
    lbfgs_only.push_back(app.add_option("--max-iter", o.max_iter, "lbfgs: the most iterations")
                             ->check(CLI::Range(0, 1000000))
                             ->capture_default_str());
    sgd_only.push_back(app.add_option("--momentum", o.momentum, "SGD momentum in [0, 1)")
                           ->check(CLI::Range(0.0, 0.999999))
                           ->capture_default_str());
    sgd_only.push_back(app.add_flag("--nesterov", o.nesterov, "Nesterov momentum (needs --momentum > 0)"));
    adam_only.push_back(app.add_option("--beta1", o.beta1, "Adam/AdamW: first-moment decay in [0, 1)")
                            ->check(CLI::Range(0.0, 0.999999))
                            ->capture_default_str());
    adam_only.push_back(app.add_option("--beta2", o.beta2, "Adam/AdamW: second-moment decay in [0, 1)")
                            ->check(CLI::Range(0.0, 0.999999))
                            ->capture_default_str());
    adam_only.push_back(app.add_option("--eps", o.eps, "Adam/AdamW: added to the denominator (> 0)")
                            ->check(CLI::PositiveNumber)
                            ->capture_default_str());
    adam_only.push_back(app.add_flag("--amsgrad", o.amsgrad, "Adam/AdamW: AMSGrad (the maximum second moment)"));
    auto* weight_decay = app.add_option("--weight-decay", o.weight_decay,
                                        "weight decay (>= 0): L2 in the gradient for sgd and adam, decoupled for "
                                        "adamw (default 0, for adamw 0.01)")
                             ->check(CLI::NonNegativeNumber);
    minibatch_only.push_back(weight_decay);
    minibatch_only.push_back(app.add_option("--schedule", o.schedule, "learning-rate schedule")
                                 ->check(CLI::IsMember({"constant", "step", "exp", "cosine"}))
                                 ->capture_default_str());
    auto* init = app.add_option("--init", o.init, "initial weights (default: uniform; zeros for lbfgs)")
                     ->check(CLI::IsMember({"zeros", "uniform"}));
    app.add_option("--normalize", o.normalize, "unit: pixels/255; standard: per-pixel mean/std of the train part")
        ->check(CLI::IsMember({"unit", "standard"}))
        ->capture_default_str();
    minibatch_only.push_back(
        app.add_option("--val-split", o.val_split, "fraction of the training set held out for validation, in [0, 1)")
            ->check(CLI::Range(0.0, 0.99))
            ->capture_default_str());
    app.add_option("--seed", o.seed, "seed for initialisation, shuffling and the split")
        ->check(examples::unsigned_64())
        ->capture_default_str();
    app.add_option("--threads", o.threads, "threads used for training")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    app.add_option("--save", o.save, "write the trained model (safetensors) to FILE");
    app.add_option("--report", o.report, "write an HTML report with plots and sample digits to FILE");
    app.add_option("--metrics-json", o.metrics_json, "write a JSON summary of the run to FILE");
    app.add_option("--checkpoint", o.checkpoint,
                   "save the training state to FILE after every epoch and on Ctrl-C (atomically)");
    app.add_option("--resume", o.resume, "continue the run saved in checkpoint FILE (same options)");
    app.add_option("--limit-train", o.limit_train, "train on the first N training images (for tests)")
        ->check(CLI::Range(1LL, 1LL << 40))
        ->group("");  // hidden from --help
    app.add_flag("--quiet", o.quiet, "print only the final accuracy line");
#ifdef LOGREG_HAVE_MPI
    app.add_flag("--distributed", o.distributed,
                 "data-parallel training over MPI: mpirun -np P mnist_train --distributed");
    app.add_option("--mpi-timeout", o.mpi_timeout, "with --distributed: seconds before a silent rank counts as dead")
        ->check(CLI::Range(1e-3, logreg::distributed::Communicator::max_timeout_seconds))
        ->capture_default_str();
#endif
    if (const int rc = examples::parse_command_line(app, argc, argv); rc >= 0) return rc;
    // Options of another optimizer are refused rather than silently ignored.
    if (o.optimizer == "lbfgs") {
        for (CLI::Option* option : sgd_only) minibatch_only.push_back(option);
        for (CLI::Option* option : adam_only) minibatch_only.push_back(option);
        for (CLI::Option* option : minibatch_only)
            if (option->count() > 0) {
                std::cerr << "mnist_train: error: " << option->get_name()
                          << " applies to the mini-batch optimizers (sgd, adam, adamw), not to --optimizer lbfgs, "
                             "which fits the whole training set (--l2, --tol, --max-iter)\n";
                return 2;
            }
        if (o.distributed) {
            std::cerr << "mnist_train: error: --distributed applies to the mini-batch optimizers, not to "
                         "--optimizer lbfgs\n";
            return 2;
        }
        if (init->count() == 0) o.init = "zeros";  // scikit-learn's start
    } else {
        for (CLI::Option* option : lbfgs_only)
            if (option->count() > 0) {
                std::cerr << "mnist_train: error: " << option->get_name() << " applies to --optimizer lbfgs, not to "
                          << "--optimizer " << o.optimizer << "\n";
                return 2;
            }
    }
    for (CLI::Option* option : o.optimizer == "sgd" ? adam_only : sgd_only)
        if (option->count() > 0) {
            std::cerr << "mnist_train: error: " << option->get_name() << " applies to --optimizer "
                      << (o.optimizer == "sgd" ? "adam and adamw" : "sgd") << ", not to --optimizer " << o.optimizer
                      << "\n";
            return 2;
        }
    if (o.optimizer != "sgd" && lr->count() == 0) o.lr = 1e-3;  // PyTorch's default for Adam and AdamW
    if (o.optimizer == "adamw" && weight_decay->count() == 0) o.weight_decay = 0.01;
    install_stop_handler();
    try {
        std::vector<examples::NamedPath> inputs = examples::mnist_inputs(o.data);
        inputs.push_back({"--resume", o.resume});
        examples::check_output_paths({{"--save", o.save},
                                      {"--report", o.report},
                                      {"--metrics-json", o.metrics_json},
                                      {"--checkpoint", o.checkpoint}},
                                     inputs, {{"--checkpoint", "--resume"}});
        if (o.optimizer == "lbfgs") return run_lbfgs(o);
#ifdef LOGREG_HAVE_MPI
        if (o.distributed)
            return examples::run_distributed(o, options_json(o),
                                             {&stop_requested, resume_key(o),
                                              [&](const std::string& saved) { return option_differences(saved, o); }});
#endif
        return examples::with_optimizer<Scalar>(o, [&](auto optimizer) { return run_with(o, std::move(optimizer)); });
    } catch (const logreg::Error& e) {
        std::cerr << "mnist_train: error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "mnist_train: unexpected error: " << e.what() << "\n";
        return 2;
    }
}
