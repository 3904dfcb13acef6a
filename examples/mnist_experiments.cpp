// mnist_experiments: trains softmax regression on MNIST with a grid of settings and prints the
// test accuracy and training time of each as a Markdown table (docs/guide.md, "Results and
// insights"). Each row is one fresh Trainer on all 60,000 training images, evaluated on the
// 10,000 test images; the library does the work, this program picks the settings and prints.
#include "common/command_line.hpp"
#include "common/console.hpp"
#include "common/output_paths.hpp"

#include <logreg/io/atomic_file.hpp>
#include <logreg/io/mnist.hpp>
#include <logreg/logreg.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Scalar = float;
using logreg::Index;
using logreg::Normalization;
using Kind = logreg::Schedule::Kind;

struct Options {
    std::string data = logreg::io::default_mnist_dir();
    bool quick = false;
    int threads = 1;
    unsigned long long seed = 0;
    std::string output;
};

/// One run of the grid and the reason it is there.
struct Setting {
    double lr;
    Index batch;
    Normalization norm;
    double momentum;
    Kind schedule;
    int epochs;
    const char* shows;
};

struct Result {
    double test_accuracy = 0, train_accuracy = 0, seconds = 0;
    bool diverged = false;
};

std::vector<Setting> grid(bool quick) {
    const Normalization unit = Normalization::unit, standard = Normalization::standard;
    const Kind constant = Kind::constant, cosine = Kind::cosine;
    if (quick)  // the CI's short mode: two settings, one epoch each
        return {{0.001, 64, unit, 0.0, constant, 1, "a tutorial's settings"},
                {0.5, 64, unit, 0.0, cosine, 1, "our default rate"}};
    return {
        // A typical tutorial: lr 0.001, batch 64, pixels / 255, plain SGD, a few epochs.
        {0.001, 64, unit, 0.0, constant, 1, "a tutorial's settings"},
        {0.001, 64, unit, 0.0, constant, 2, "a tutorial's settings"},
        {0.001, 64, unit, 0.0, constant, 5, "a tutorial's settings"},
        {0.001, 64, unit, 0.0, constant, 10, "a tutorial's settings"},
        {0.001, 64, unit, 0.0, constant, 30, "a tutorial's settings, longer"},
        // The same two epochs with one change each.
        {0.1, 64, unit, 0.0, constant, 2, "2 epochs: 100x the rate"},
        {0.001, 16, unit, 0.0, constant, 2, "2 epochs: 4x the steps"},
        {0.001, 64, standard, 0.0, constant, 2, "2 epochs: standardized pixels"},
        {0.001, 64, unit, 0.9, constant, 2, "2 epochs: momentum 0.9"},
        // Ten epochs at larger rates.
        {0.01, 64, unit, 0.0, constant, 10, "larger rate"},
        {0.1, 64, unit, 0.0, constant, 10, "larger rate"},
        {0.5, 64, unit, 0.0, constant, 10, "larger rate"},
        {2.0, 64, unit, 0.0, constant, 10, "too large a rate"},
        // mnist_train's defaults (without its 10% validation hold-out), then longer runs: the plateau.
        {0.5, 64, unit, 0.0, cosine, 10, "mnist_train's defaults"},
        {0.5, 64, unit, 0.0, cosine, 30, "defaults, 3x longer"},
        {0.5, 64, unit, 0.0, cosine, 100, "defaults, 10x longer"},
        // Batch size: the same epochs are more or fewer steps.
        {0.1, 16, unit, 0.0, constant, 10, "smaller batch"},
        {0.1, 256, unit, 0.0, constant, 10, "larger batch"},
        {0.1, 1024, unit, 0.0, constant, 10, "larger batch"},
        {1.6, 1024, unit, 0.0, constant, 10, "larger batch, rate x16"},
        // Standardized pixels (per-pixel mean 0, std 1 over the training set).
        {0.01, 64, standard, 0.0, constant, 10, "standardized"},
        {0.1, 64, standard, 0.0, constant, 10, "standardized"},
        // Momentum 0.9 multiplies the step by about 1 / (1 - 0.9) = 10.
        {0.05, 64, unit, 0.9, cosine, 10, "momentum"},
    };
}

Result run_one(const Setting& s, const logreg::Dataset<std::uint8_t>& train, const logreg::Dataset<std::uint8_t>& test,
               const logreg::Preprocessor<Scalar>& pre, const Options& o) {
    using namespace logreg;
    TrainOptions topt;
    topt.epochs = s.epochs;
    topt.batch_size = s.batch;
    topt.seed = o.seed;
    topt.threads = o.threads;
    topt.sgd.lr = s.lr;
    topt.sgd.momentum = s.momentum;
    topt.schedule.kind = s.schedule;
    topt.schedule.t_max = s.epochs;
    Trainer<Scalar> trainer(LinearSoftmax<Scalar>(train.num_features(), train.num_classes(), Init::uniform, o.seed),
                            topt);
    const TrainReport report = trainer.fit(train, pre);
    Result r;
    r.seconds = report.seconds;
    r.diverged = report.reason == StopReason::diverged;
    if (!r.diverged) {
        r.test_accuracy = evaluate(trainer.model(), test, pre).accuracy;
        r.train_accuracy = evaluate(trainer.model(), train, pre).accuracy;
    }
    return r;
}

std::string percent(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * fraction);
    return buf;
}

std::string markdown_table(const std::vector<Setting>& settings, const std::vector<Result>& results) {
    std::ostringstream t;
    t << "| lr | batch | normalization | momentum | schedule | epochs | test accuracy | train accuracy | seconds "
         "| what the row shows |\n"
      << "|---:|---:|---|---:|---|---:|---:|---:|---:|---|\n";
    for (std::size_t i = 0; i < settings.size(); ++i) {
        const Setting& s = settings[i];
        const Result& r = results[i];
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.2f", r.seconds);
        t << "| " << s.lr << " | " << s.batch << " | " << logreg::to_string(s.norm) << " | " << s.momentum << " | "
          << logreg::to_string(s.schedule) << " | " << s.epochs << " | "
          << (r.diverged ? "diverged" : percent(r.test_accuracy)) << " | "
          << (r.diverged ? "diverged" : percent(r.train_accuracy)) << " | " << seconds << " | " << s.shows << " |\n";
    }
    return t.str();
}

int run(const Options& o) {
    using namespace logreg;
    examples::print_build_info(std::cout, o.threads);
    const auto train = io::load_mnist(o.data, io::MnistSplit::train);
    const auto test = io::load_mnist(o.data, io::MnistSplit::test);
    std::cout << "data: " << o.data << " (" << train.size() << " train, " << test.size() << " test images)\n\n";

    const auto unit = Preprocessor<Scalar>::unit(train.num_features());
    const auto standard = Preprocessor<Scalar>::standard(train, iota(train.size()));
    const std::vector<Setting> settings = grid(o.quick);
    std::vector<Result> results;
    double total = 0;
    for (const Setting& s : settings) {
        results.push_back(run_one(s, train, test, s.norm == Normalization::standard ? standard : unit, o));
        const Result& r = results.back();
        total += r.seconds;
        std::fprintf(stderr, "[%2zu/%zu] lr %g batch %lld %s momentum %g %s %d epochs: %s in %.2fs\n", results.size(),
                     settings.size(), s.lr, static_cast<long long>(s.batch), to_string(s.norm), s.momentum,
                     to_string(s.schedule), s.epochs, r.diverged ? "diverged" : percent(r.test_accuracy).c_str(),
                     r.seconds);
    }
    const std::string table = markdown_table(settings, results);
    std::cout << table << "\n";
    std::printf("%zu runs, %.1f s of training in total (seed %llu, %d thread%s)\n", settings.size(), total, o.seed,
                o.threads, o.threads == 1 ? "" : "s");
    std::fflush(stdout);
    if (!o.output.empty()) {
        io::write_file_atomically(o.output, [&](std::ostream& out) { out << table; });
        std::cout << "table written to " << o.output << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Train softmax regression on MNIST with a grid of settings and print a Markdown table"};
    app.add_option("--data", o.data, "MNIST folder (default: $LOGREG_MNIST_DIR, then ./data/mnist)");
    app.add_flag("--quick", o.quick, "two settings, one epoch each (a few seconds: the CI's short mode)");
    app.add_option("--threads", o.threads, "threads used for training")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed for initialisation and shuffling")
        ->check(examples::unsigned_64())
        ->capture_default_str();
    app.add_option("--output", o.output, "also write the Markdown table to FILE (atomically)");
    if (const int rc = examples::parse_command_line(app, argc, argv); rc >= 0) return rc;
    try {
        examples::check_output_paths({{"--output", o.output}}, examples::mnist_inputs(o.data));
        return run(o);
    } catch (const logreg::Error& e) {
        std::cerr << "mnist_experiments: error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "mnist_experiments: unexpected error: " << e.what() << "\n";
        return 2;
    }
}
