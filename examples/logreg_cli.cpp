// logreg: the command-line tool for your own data (CSV or NumPy files).
//
//   logreg train   --data train.csv [--label COL] [--test test.csv | --test-split 0.25 --stratify]
//                  [--optimizer lbfgs|sgd|adam|adamw ...] --save model.safetensors
//   logreg predict --model model.safetensors --data x.csv --output predictions.csv
//   logreg eval    --model model.safetensors --data test.csv [--label COL]
//   logreg info    model.safetensors
//
// The library does the work (logreg/io/csv.hpp, npy.hpp, split.hpp, pipeline.hpp); this program
// parses options and prints. The preprocessing is always fitted on the training rows only, and the
// model file holds it with the class names, so predict and eval take raw rows. Any bad input ends
// with one line "logreg: error: ..." naming the file, line, column or option, exit code 2, and no
// output file written.
#include "common/command_line.hpp"
#include "common/console.hpp"
#include "common/output_paths.hpp"
#include "common/outputs.hpp"
#include "common/stop_signal.hpp"
#include "common/train_options.hpp"

#include <logreg/io/atomic_file.hpp>
#include <logreg/io/checkpoint.hpp>
#include <logreg/io/csv.hpp>
#include <logreg/io/npy.hpp>
#include <logreg/io/report.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>
#include <logreg/pipeline.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

using Scalar = float;

/// Where a table comes from and how to read it (train, eval and predict share these options).
struct TableOptions {
    std::string data;
    std::string format = "auto";  // csv, npy, or from the file name
    std::string labels;           // npy: the label array, when not a column of --data
    std::string test_labels;      // npy: the label array of --test
    std::string label = "-1";     // the label column: a header name or an index (-1: the last)
    bool no_header = false;
    std::size_t skip_lines = 0;
    std::string delimiter;  // csv: empty = ',' (a tab for .tsv files)
};

struct Options {
    TableOptions table;
    std::string test;         // train: a separate test file
    double test_split = 0.0;  // train: or this fraction of --data held out for testing
    bool stratify = false;    // train: keep class proportions in every part
    double val_split = 0.0;   // train (mini-batch): held out for validation and early stopping
    int patience = 0;         // train (mini-batch): early stopping
    std::string optimizer = "lbfgs";
    double C = 1.0;  // lbfgs: scikit-learn's inverse regularization strength
    double l2 = -1;  // lbfgs: the penalty directly (l2 = 1 / (C n)); -1: from --C
    double tol = 1e-4;
    int max_iter = 100;
    int epochs = 100;
    long long batch_size = 32;
    double lr = 0.1;
    double momentum = 0.0;
    bool nesterov = false;
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    bool amsgrad = false;
    double weight_decay = 0.0;
    std::string schedule = "constant";
    std::string init = "zeros";
    std::string normalize = "standard";
    std::string class_weight = "none";  // or balanced: n / (classes * n_c) over the training rows
    double label_smoothing = 0.0;
    unsigned long long seed = 0;
    int threads = 1;
    std::string save, report, metrics_json;  // train (metrics also eval)
    std::string checkpoint, resume;          // train
    std::string model, output;               // predict, eval, info
    bool quiet = false;
};

[[noreturn]] void fail(const std::string& message) {
    throw logreg::InvalidParameter(message);
}

/// csv or npy, from --format or the file name (.csv, .tsv, .txt, .npy, each optionally .gz).
std::string format_of(const TableOptions& t, const std::string& path) {
    if (t.format != "auto") return t.format;
    std::string name = path;
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) name.resize(name.size() - 3);
    const auto dot = name.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    if (ext == "npy") return "npy";
    if (ext == "csv" || ext == "tsv" || ext == "txt") return "csv";
    fail("cannot tell the format of '" + path + "' from its name; give --format csv or --format npy");
}

logreg::io::CsvOptions csv_options(const TableOptions& t, const std::string& path) {
    logreg::io::CsvOptions c;
    auto ends_with = [&](const char* suffix) {
        const std::string x(suffix);
        return path.size() >= x.size() && path.compare(path.size() - x.size(), x.size(), x) == 0;
    };
    if (t.delimiter.empty())
        c.delimiter = ends_with(".tsv") || ends_with(".tsv.gz") ? '\t' : ',';
    else if (t.delimiter == "\\t" || t.delimiter == "tab")
        c.delimiter = '\t';
    else if (t.delimiter.size() == 1)
        c.delimiter = t.delimiter[0];
    else
        fail("--delimiter '" + t.delimiter + "' is not one character (use \\t for a tab)");
    c.header = !t.no_header;
    c.skip_lines = t.skip_lines;
    c.label = logreg::io::CsvColumn::parse(t.label);
    return c;
}

/// The labelled table at `path`; `classes` non-empty fixes the class of each label (a test file).
logreg::io::Table<Scalar> load_table(const TableOptions& t, const std::string& path,
                                     const std::vector<std::string>& classes, const std::string& labels) {
    using namespace logreg;
    if (format_of(t, path) == "csv") {
        if (!labels.empty()) fail("--labels " + labels + " applies to NumPy data; a CSV table holds its labels");
        io::CsvOptions c = csv_options(t, path);
        c.classes = classes;
        return io::read_csv<Scalar>(path, c);
    }
    io::NpyOptions n;
    n.classes = classes;
    if (!labels.empty()) return io::read_npy<Scalar>(path, labels, n);
    const io::CsvColumn column = io::CsvColumn::parse(t.label);
    if (!column.index())
        fail("--label " + t.label + ": a NumPy array has no column names; give the label column's index or --labels");
    return io::read_npy<Scalar>(path, *column.index(), n);
}

/// Raw feature rows for predict: every column, or all but the --label column when one is given.
logreg::RowMatrix<Scalar> load_features(const TableOptions& t, bool drop_label, logreg::Index expected) {
    using namespace logreg;
    RowMatrix<Scalar> x;
    if (format_of(t, t.data) == "csv") {
        io::CsvFeatures<Scalar> f = io::read_csv_features<Scalar>(t.data, csv_options(t, t.data), drop_label);
        x = std::move(f.features);
    } else {
        x = io::read_npy_matrix<Scalar>(t.data);
        if (drop_label) {
            const io::CsvColumn column = io::CsvColumn::parse(t.label);
            if (!column.index() || *column.index() >= x.cols() || *column.index() < -x.cols())
                fail(detail::cat("--label ", t.label, ": not a column index of --data ", t.data, " (", x.cols(),
                                 " columns)"));
            const Index c = *column.index() < 0 ? x.cols() + *column.index() : *column.index();
            RowMatrix<Scalar> kept(x.rows(), x.cols() - 1);
            kept.leftCols(c) = x.leftCols(c);
            kept.rightCols(x.cols() - 1 - c) = x.rightCols(x.cols() - 1 - c);
            x = std::move(kept);
        }
    }
    if (x.cols() != expected)
        fail(detail::cat("--data ", t.data, " has ", x.cols(), " feature columns but the model expects ", expected,
                         x.cols() == expected + 1 && !drop_label ? " (name its label column with --label)" : ""));
    return x;
}

std::string joined(const std::vector<std::string>& names, std::size_t most = 12) {
    std::string s;
    for (std::size_t i = 0; i < names.size() && i < most; ++i) s += (i ? " " : "") + examples::printable(names[i]);
    if (names.size() > most) s += " ... (" + std::to_string(names.size()) + ")";
    return s;
}

nlohmann::json settings_json(const Options& o, const std::string& split) {
    nlohmann::json j;
    j["data"] = o.table.data;
    if (!o.test.empty()) j["test"] = o.test;
    j["split"] = split;
    j["optimizer"] = o.optimizer;
    if (o.optimizer == "lbfgs") {
        if (o.l2 >= 0)
            j["l2"] = o.l2;
        else
            j["C"] = o.C;
        j["tol"] = o.tol;
        j["max_iter"] = o.max_iter;
    } else {
        j["epochs"] = o.epochs;
        j["batch_size"] = o.batch_size;
        j["lr"] = o.lr;
        j["weight_decay"] = o.weight_decay;
        j["schedule"] = o.schedule;
        if (o.val_split > 0) j["val_split"] = o.val_split;
        if (o.patience > 0) j["patience"] = o.patience;
    }
    j["init"] = o.init;
    j["normalize"] = o.normalize;
    if (o.class_weight != "none") j["class_weight"] = o.class_weight;
    if (o.label_smoothing > 0) j["label_smoothing"] = o.label_smoothing;
    j["seed"] = o.seed;
    j["threads"] = o.threads;
    return j;
}

/// The settings that determine the weights, as a checkpoint records them (the files may move).
std::string resume_key(const Options& o, const std::string& split) {
    nlohmann::json j = settings_json(o, split);
    j.erase("data");
    j.erase("test");
    return j.dump();
}

/// Loads --resume into `fitter` after checking that it was made with the same settings.
template <typename Fitter>
void resume_from(const Options& o, Fitter& fitter, const std::string& key) {
    const std::map<std::string, std::string> extra = logreg::io::load_checkpoint(o.resume, fitter);
    const auto it = extra.find("training_options");
    if (it == extra.end())
        throw logreg::FormatError("--resume " + o.resume + ": the checkpoint was not written by logreg train");
    if (it->second != key)
        throw logreg::InvalidParameter("--resume " + o.resume + ": the checkpoint was made with other settings (" +
                                       it->second + "); resume with the options of the interrupted run");
}

/// Per-class scores and the confusion matrix, for the metrics JSON.
nlohmann::json classification_json(const logreg::ClassificationReport& cls, const std::vector<std::string>& names) {
    nlohmann::json per_class = nlohmann::json::array();
    for (std::size_t c = 0; c < cls.classes.size(); ++c) {
        const auto& s = cls.classes[c];
        per_class.push_back({{"class", names[c]},
                             {"precision", s.precision},
                             {"recall", s.recall},
                             {"f1", s.f1},
                             {"support", s.support}});
    }
    nlohmann::json confusion = nlohmann::json::array();
    for (logreg::Index t = 0; t < cls.confusion.rows(); ++t) {
        nlohmann::json row = nlohmann::json::array();
        for (logreg::Index p = 0; p < cls.confusion.cols(); ++p) row.push_back(cls.confusion(t, p));
        confusion.push_back(row);
    }
    return {{"per_class", per_class}, {"confusion", confusion}};
}

nlohmann::json rows_json(const logreg::IndexVector& rows) {
    nlohmann::json a = nlohmann::json::array();
    for (logreg::Index i = 0; i < rows.size(); ++i) a.push_back(rows[i]);
    return a;
}

// ---- train ------------------------------------------------------------------------------------

/// The training rows, the test rows (both of `data`, or the test rows of a separate file) and a
/// description of the split.
struct Parts {
    logreg::IndexVector train, test;
    std::string description;
};

Parts split_rows(const Options& o, const logreg::Dataset<Scalar>& data) {
    using namespace logreg;
    Parts p;
    if (o.test_split > 0) {
        const ThreeWaySplit s = o.stratify ? stratified_split(data, 0.0, o.test_split, o.seed)
                                           : train_validation_test_split(data.size(), 0.0, o.test_split, o.seed);
        p.train = s.train;
        p.test = s.test;
        p.description = detail::cat(o.stratify ? "stratified" : "random", " ", o.test_split, " of --data for testing");
    } else {
        p.train = iota(data.size());
        p.description = o.test.empty() ? "no test set" : "test set from --test";
    }
    return p;
}

template <typename Fitter, typename MakeReport>
int train_and_report(const Options& o, Fitter& fitter, const logreg::io::Table<Scalar>& table,
                     const logreg::io::Table<Scalar>* test_file, const Parts& parts, MakeReport&& fit) {
    using namespace logreg;
    const auto result = fit(fitter);
    const auto& report = result.report;
    const Pipeline<Scalar>& pipeline = result.pipeline;
    bool interrupted = examples::stop_requested.load();
    if constexpr (std::is_same_v<std::decay_t<decltype(report)>, TrainReport>)
        interrupted = interrupted || report.reason == StopReason::interrupted;
    else
        interrupted = interrupted || report.reason == SolverStop::interrupted;
    if (interrupted) {
        std::string saved = " (no --checkpoint given: the progress is lost)";
        if (!o.checkpoint.empty()) {
            io::save_checkpoint(o.checkpoint, fitter, {{"training_options", resume_key(o, parts.description)}});
            saved = "; checkpoint saved to " + o.checkpoint + " (continue with the same options and --resume " +
                    o.checkpoint + ")";
        }
        std::cerr << "logreg: interrupted" << saved << "\n";
        return 130;  // the shell's convention for a program stopped by SIGINT
    }
    double seconds = 0;
    if constexpr (std::is_same_v<std::decay_t<decltype(report)>, TrainReport>) {
        for (const auto& e : report.history) seconds += e.seconds;
        if (report.reason == StopReason::diverged) {
            std::cerr << "logreg: error: " << report.message << " (lower --lr)\n";
            return 3;
        }
    } else {
        seconds = report.seconds;
        std::cout << "objective " << detail::cat(report.objective) << ": " << report.message << "\n";
    }

    const Dataset<Scalar>& test_data = test_file ? test_file->data : table.data;
    const IndexVector* test_rows = test_file ? nullptr : (parts.test.size() > 0 ? &parts.test : nullptr);
    const bool have_test = test_file || parts.test.size() > 0;
    Evaluation ev;
    ClassificationReport cls;
    if (have_test) {
        ev = pipeline.evaluate(test_data, test_rows);
        cls = classification_report(ev.predictions, ev.labels, static_cast<int>(pipeline.num_classes()));
        std::printf("test accuracy %.4f  test loss %.4f  (%zu test rows, %.3fs training)\n", ev.accuracy, ev.loss,
                    static_cast<std::size_t>(ev.labels.size()), seconds);
        if (!o.quiet) examples::print_classification(std::cout, cls, pipeline.class_names());
    } else {
        const Evaluation tr = pipeline.evaluate(table.data, &parts.train);
        std::printf("train accuracy %.4f  train loss %.4f  (no test set; %.3fs training)\n", tr.accuracy, tr.loss,
                    seconds);
    }

    const nlohmann::json settings = settings_json(o, parts.description);
    if (!o.save.empty()) {
        std::map<std::string, std::string> extra = {{"training_options", settings.dump()},
                                                    {"train_rows", std::to_string(parts.train.size())}};
        if (have_test) extra["test_accuracy"] = detail::cat(ev.accuracy);
        if (!table.feature_names.empty()) extra["feature_names"] = nlohmann::json(table.feature_names).dump();
        io::save_pipeline(o.save, pipeline, extra);
        std::cout << "model saved to " << o.save << "\n";
    }
    io::ReportData rd;
    nlohmann::json j;
    examples::add_history(j, rd, report);
    if (!o.metrics_json.empty()) {
        j["options"] = settings;
        j["classes"] = pipeline.class_names();
        j["train_seconds"] = seconds;
        j["train_rows"] = rows_json(parts.train);
        if (parts.test.size() > 0) j["test_rows"] = rows_json(parts.test);
        if (have_test) {
            j["test_accuracy"] = ev.accuracy;
            j["test_loss"] = ev.loss;
            j.update(classification_json(cls, pipeline.class_names()));
        }
        io::write_file_atomically(o.metrics_json, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
        std::cout << "metrics written to " << o.metrics_json << "\n";
    }
    if (!o.report.empty()) {
        rd.title = "logreg on " + o.table.data;
        rd.class_names = pipeline.class_names();
        if (have_test) {
            rd.confusion = cls.confusion;
            rd.test_accuracy = ev.accuracy;
            rd.test_loss = ev.loss;
        }
        for (const auto& [key, value] : settings.items()) rd.settings[key] = value.dump();
        rd.settings["train_seconds"] = detail::cat(seconds);
        io::write_html_report(o.report, rd);
        std::cout << "report written to " << o.report << "\n";
    }
    return 0;
}

int run_train(const Options& o) {
    using namespace logreg;
    examples::print_build_info(std::cout, o.threads);
    const io::Table<Scalar> table = load_table(o.table, o.table.data, {}, o.table.labels);
    std::optional<io::Table<Scalar>> test_file;
    if (!o.test.empty()) {
        if (!o.table.labels.empty() && o.table.test_labels.empty())
            fail("--test " + o.test + ": give its label array with --test-labels (--labels names the training labels)");
        test_file = load_table(o.table, o.test, table.class_names, o.table.test_labels);
        if (test_file->data.num_features() != table.data.num_features())
            fail(detail::cat("--test ", o.test, " has ", test_file->data.num_features(),
                             " feature columns but --data has ", table.data.num_features()));
    }
    const Parts parts = split_rows(o, table.data);
    const Index d = table.data.num_features();
    const int k = table.data.num_classes();
    std::cout << "data: " << o.table.data << " (" << table.data.size() << " rows, " << d << " features, " << k
              << " classes: " << joined(table.class_names) << ")\n";
    std::cout << "split: " << parts.description << " (" << parts.train.size() << " train"
              << (parts.test.size() > 0 ? detail::cat(", ", parts.test.size(), " test") : std::string())
              << (test_file ? detail::cat(", ", test_file->data.size(), " test from ", o.test) : std::string())
              << " rows; seed " << o.seed << ")\n";
    const Normalization norm = parse_normalization(o.normalize);
    // Validation rows come out of the training part, after the test rows (mini-batch optimizers):
    // neither the preprocessor nor the class weights see them.
    IndexVector train_rows = parts.train, val_rows;
    if (o.val_split > 0) {
        const Split v = train_validation_split(parts.train.size(), o.val_split, o.seed);
        train_rows.resize(v.train.size());
        val_rows.resize(v.validation.size());
        for (Index i = 0; i < v.train.size(); ++i) train_rows[i] = parts.train[v.train[i]];
        for (Index i = 0; i < v.validation.size(); ++i) val_rows[i] = parts.train[v.validation[i]];
    }
    // Unit normalization of your own data: divide by the largest magnitude of the training rows.
    double unit_max = 0.0;
    if (norm == Normalization::unit)
        for (Index i = 0; i < train_rows.size(); ++i)
            unit_max =
                std::max(unit_max, static_cast<double>(table.data.features().row(train_rows[i]).cwiseAbs().maxCoeff()));
    if (!(unit_max > 0)) unit_max = 1.0;  // all zeros: nothing to scale
    const LinearSoftmax<Scalar> model(d, k, parse_init(o.init), o.seed);
    CrossEntropyOptions loss;
    loss.label_smoothing = o.label_smoothing;
    if (o.class_weight == "balanced") {  // scikit-learn's class_weight="balanced", from the training rows
        Vector<double> count = Vector<double>::Zero(k);
        for (Index i = 0; i < train_rows.size(); ++i) count[table.data.labels()[train_rows[i]]] += 1;
        loss.class_weights.resize(k);
        for (int c = 0; c < k; ++c)
            loss.class_weights[c] = count[c] > 0 ? static_cast<double>(train_rows.size()) / (k * count[c]) : 0.0;
    }
    const io::Table<Scalar>* test_ptr = test_file ? &*test_file : nullptr;
    const std::string key = resume_key(o, parts.description);

    if (o.optimizer == "lbfgs") {
        LBFGSOptions lo;
        lo.l2 = o.l2 >= 0 ? o.l2 : 1.0 / (o.C * static_cast<double>(parts.train.size()));
        lo.tol = o.tol;
        lo.max_iter = o.max_iter;
        lo.threads = o.threads;
        LBFGS<Scalar> solver(model, lo, loss);
        if (!o.resume.empty()) {
            resume_from(o, solver, key);
            LBFGSOptions rest = lo;
            rest.max_iter = std::max(0, o.max_iter - solver.iterations_done());
            solver.set_options(rest);
            std::cout << "resumed from " << o.resume << " after iteration " << solver.iterations_done() << "\n";
        }
        solver.set_callback([&](const SolverIteration& it) {
            if (!o.quiet)
                std::printf("iter %4d  objective %.8f  gradient %.3e  %.3fs\n", it.iteration, it.objective,
                            it.gradient_norm, it.elapsed_seconds);
            if (!o.checkpoint.empty()) io::save_checkpoint(o.checkpoint, solver, {{"training_options", key}});
            return true;
        });
        solver.set_stop_flag(&examples::stop_requested);
        return train_and_report(o, solver, table, test_ptr, parts, [&](auto& f) {
            return fit_pipeline(f, table.data, parts.train, IndexVector(), norm, table.class_names, unit_max);
        });
    }
    // The validation rows are split off below (after the test rows), not by validation_fraction.
    TrainOptions t = examples::train_options(o);
    t.validation_fraction = 0;
    t.patience = o.patience;
    t.validate();
    auto run = [&](auto optimizer) {
        Trainer<Scalar, decltype(optimizer)> trainer(model, t, std::move(optimizer), loss);
        if (!o.resume.empty()) {
            resume_from(o, trainer, key);
            TrainOptions rest = t;
            rest.epochs = std::max(0, o.epochs - trainer.epochs_done());
            if (rest.epochs == 0)
                throw InvalidParameter("--resume " + o.resume + ": the run already finished its --epochs");
            trainer.set_options(rest);
            std::cout << "resumed from " << o.resume << " after epoch " << trainer.epochs_done() << "\n";
        }
        Callbacks cb;
        cb.on_epoch = [&](const EpochRecord& e) {
            if (!o.quiet) {
                std::printf("epoch %3d  train loss %.4f", e.epoch, e.train_loss);
                if (std::isfinite(e.val_loss)) std::printf("  val loss %.4f  val acc %.4f", e.val_loss, e.val_accuracy);
                std::printf("  lr %.4g  %.3fs\n", e.lr, e.seconds);
            }
            if (!o.checkpoint.empty()) io::save_checkpoint(o.checkpoint, trainer, {{"training_options", key}});
            return true;
        };
        cb.stop = &examples::stop_requested;
        trainer.set_callbacks(cb);
        return train_and_report(o, trainer, table, test_ptr, parts, [&](auto& f) {
            return fit_pipeline(f, table.data, train_rows, val_rows, norm, table.class_names, unit_max);
        });
    };
    return examples::with_optimizer<Scalar>(o, run);
}

// ---- predict, eval, info ------------------------------------------------------------------------

/// A CSV field: quoted (RFC 4180) when it holds the delimiter, a quote, a line break or edge spaces.
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' ')))
        return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

int run_predict(const Options& o, bool drop_label) {
    using namespace logreg;
    const Pipeline<Scalar> p = io::load_pipeline<Scalar>(o.model);
    const RowMatrix<Scalar> x = load_features(o.table, drop_label, p.num_features());
    const RowMatrix<Scalar> prob = p.predict_proba(x);
    const LabelVector pred = p.predict(x);
    auto write = [&](std::ostream& out) {
        out << "class";
        for (const std::string& name : p.class_names()) out << ',' << csv_field(name);
        out << '\n';
        char buf[32];
        for (Index i = 0; i < x.rows(); ++i) {
            out << csv_field(p.class_names()[static_cast<std::size_t>(pred[i])]);
            for (Index c = 0; c < prob.cols(); ++c) {
                std::snprintf(buf, sizeof buf, ",%.6g", static_cast<double>(prob(i, c)));
                out << buf;
            }
            out << '\n';
        }
    };
    if (o.output.empty() || o.output == "-") {
        write(std::cout);
    } else {
        io::write_file_atomically(o.output, write);
        std::cerr << "predictions for " << x.rows() << " rows written to " << o.output << "\n";
    }
    return 0;
}

int run_eval(const Options& o) {
    using namespace logreg;
    const Pipeline<Scalar> p = io::load_pipeline<Scalar>(o.model);
    const io::Table<Scalar> t = load_table(o.table, o.table.data, p.class_names(), o.table.labels);
    if (t.data.num_features() != p.num_features())
        fail(detail::cat("--data ", o.table.data, " has ", t.data.num_features(),
                         " feature columns but the model expects ", p.num_features()));
    const Evaluation ev = p.evaluate(t.data);
    const ClassificationReport cls =
        classification_report(ev.predictions, ev.labels, static_cast<int>(p.num_classes()));
    std::printf("accuracy %.4f  loss %.4f  (%zu rows)\n", ev.accuracy, ev.loss,
                static_cast<std::size_t>(t.data.size()));
    examples::print_classification(std::cout, cls, p.class_names());
    if (!o.metrics_json.empty()) {
        nlohmann::json j = classification_json(cls, p.class_names());
        j["model"] = o.model;
        j["data"] = o.table.data;
        j["accuracy"] = ev.accuracy;
        j["loss"] = ev.loss;
        j["rows"] = t.data.size();
        io::write_file_atomically(o.metrics_json, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
        std::cout << "metrics written to " << o.metrics_json << "\n";
    }
    return 0;
}

int run_info(const Options& o) {
    using namespace logreg;
    const io::LoadedModel<double> m = io::load_model<double>(o.model);
    const Pipeline<double> p = m.pipeline();
    std::cout << "model: " << o.model << "\n"
              << "shape: " << p.num_features() << " features -> " << p.num_classes() << " classes\n"
              << "classes: " << joined(p.class_names(), 50) << "\n"
              << "preprocessing: " << to_string(p.preprocessor().kind());
    if (p.preprocessor().kind() == Normalization::unit)
        std::cout << " (x * " << detail::cat(p.preprocessor().scale()[0]) << ")";
    if (p.preprocessor().kind() == Normalization::standard)
        std::cout << " (per-feature mean and standard deviation of the training rows)";
    std::cout << "\n";
    for (const auto& [key, value] : m.metadata.extra) {
        if (key == "training_options") {
            nlohmann::json settings;
            try {
                settings = nlohmann::json::parse(value);
            } catch (const nlohmann::json::exception&) {
            }
            if (settings.is_object()) {
                std::cout << "training options:\n";
                for (const auto& [k, v] : settings.items())
                    std::cout << "  " << examples::printable(k) << ": " << examples::printable(v.dump()) << "\n";
                continue;
            }
        }
        std::cout << examples::printable(key) << ": " << examples::printable(value) << "\n";
    }
    return 0;
}

void add_table_options(CLI::App* cmd, TableOptions& t, bool labels_default_last) {
    cmd->add_option("--format", t.format, "csv or npy (default: from the file name: .csv .tsv .txt .npy, .gz too)")
        ->check(CLI::IsMember({"auto", "csv", "npy"}));
    cmd->add_option("--label", t.label,
                    labels_default_last
                        ? "the label column: a header name or an index, -1 the last (default)"
                        : "a label column to leave out (name or index); default: every column is a feature");
    cmd->add_option("--labels", t.labels, "npy: the label array, when the labels are not a column of --data");
    cmd->add_flag("--no-header", t.no_header, "csv: the first row is data, not column names");
    cmd->add_option("--skip-lines", t.skip_lines, "csv: lines to skip before the table (a comment or count line)")
        ->check(CLI::Range(0, 1000000));
    cmd->add_option("--delimiter", t.delimiter, "csv: the field delimiter (default ','; '\\t' for tabs)");
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"logreg: multinomial logistic regression on your own data (CSV or NumPy files)"};
    app.require_subcommand(1);

    CLI::App* train = app.add_subcommand("train", "train a model on a table; report test accuracy; save it");
    train->add_option("--data", o.table.data, "the training table (.csv or .npy, optionally gzip-compressed)")
        ->required();
    add_table_options(train, o.table, true);
    auto* test = train->add_option("--test", o.test, "a separate test table (same columns)");
    train->add_option("--test-labels", o.table.test_labels, "npy: the label array of --test, with --labels");
    auto* test_split = train->add_option("--test-split", o.test_split, "fraction of --data held out for testing")
                           ->check(CLI::Range(0.0, 0.99));
    test->excludes(test_split);
    train->add_flag("--stratify", o.stratify, "keep each class's share in the train and test parts");
    train
        ->add_option("--optimizer", o.optimizer,
                     "lbfgs: the L2-regularized optimum, as scikit-learn's LogisticRegression (default); sgd, adam, "
                     "adamw: mini-batches")
        ->check(CLI::IsMember({"lbfgs", "sgd", "adam", "adamw"}));
    auto* c_opt = train->add_option("--C", o.C, "lbfgs: inverse regularization strength, l2 = 1 / (C * train rows)")
                      ->check(CLI::PositiveNumber);
    auto* l2_opt = train->add_option("--l2", o.l2, "lbfgs: the penalty (l2 / 2) ||W||^2 on the mean loss")
                       ->check(CLI::NonNegativeNumber);
    c_opt->excludes(l2_opt);
    std::vector<CLI::Option*> lbfgs_only = {c_opt, l2_opt};
    lbfgs_only.push_back(train->add_option("--tol", o.tol, "lbfgs: stop when every gradient entry is at most this")
                             ->check(CLI::NonNegativeNumber));
    lbfgs_only.push_back(
        train->add_option("--max-iter", o.max_iter, "lbfgs: the most iterations")->check(CLI::Range(0, 1000000)));
    std::vector<CLI::Option*> minibatch_only = {
        train->add_option("--epochs", o.epochs, "epochs")->check(CLI::Range(1, 1000000)),
        train->add_option("--batch-size", o.batch_size, "rows per mini-batch")->check(CLI::Range(1LL, 1LL << 30)),
        train->add_option("--lr", o.lr, "learning rate (default 0.1 for sgd, 0.001 for adam and adamw)")
            ->check(CLI::PositiveNumber),
        train->add_option("--momentum", o.momentum, "sgd: momentum in [0, 1)")->check(CLI::Range(0.0, 0.999999)),
        train->add_flag("--nesterov", o.nesterov, "sgd: Nesterov momentum"),
        train->add_option("--beta1", o.beta1, "adam, adamw: first-moment decay")->check(CLI::Range(0.0, 0.999999)),
        train->add_option("--beta2", o.beta2, "adam, adamw: second-moment decay")->check(CLI::Range(0.0, 0.999999)),
        train->add_option("--eps", o.eps, "adam, adamw: added to the denominator")->check(CLI::PositiveNumber),
        train->add_flag("--amsgrad", o.amsgrad, "adam, adamw: AMSGrad"),
        train->add_option("--weight-decay", o.weight_decay, "weight decay (adamw: decoupled; default 0.01 there)")
            ->check(CLI::NonNegativeNumber),
        train->add_option("--schedule", o.schedule, "learning-rate schedule")
            ->check(CLI::IsMember({"constant", "step", "exp", "cosine"})),
        train->add_option("--val-split", o.val_split, "fraction of the training part held out for validation")
            ->check(CLI::Range(0.0, 0.99)),
        train->add_option("--patience", o.patience, "early stopping after this many epochs without improvement")
            ->check(CLI::Range(0, 1000000)),
    };
    train
        ->add_option("--normalize", o.normalize,
                     "standard: per-feature mean and std of the training rows (default); unit: divide by the largest "
                     "magnitude; none")
        ->check(CLI::IsMember({"none", "unit", "standard"}));
    train
        ->add_option("--class-weight", o.class_weight,
                     "balanced: weigh each class by rows / (classes * its rows), as scikit-learn; none (default)")
        ->check(CLI::IsMember({"none", "balanced"}));
    train->add_option("--label-smoothing", o.label_smoothing, "label smoothing of the cross-entropy, in [0, 1)")
        ->check(CLI::Range(0.0, 0.999999));
    train->add_option("--init", o.init, "initial weights (zeros or uniform)")
        ->check(CLI::IsMember({"zeros", "uniform"}));
    train->add_option("--seed", o.seed, "seed of the split, the shuffles and the initial weights")
        ->check(examples::unsigned_64());
    train->add_option("--threads", o.threads, "threads")->check(CLI::Range(1, 1024));
    train->add_option("--save", o.save, "write the model (preprocessing, weights, class names) to FILE");
    train->add_option("--metrics-json", o.metrics_json,
                      "write a JSON summary (history, split rows, test metrics) to FILE");
    train->add_option("--report", o.report, "write an HTML report to FILE");
    train->add_option("--checkpoint", o.checkpoint,
                      "save the training state to FILE after every epoch (iteration) and on Ctrl-C");
    train->add_option("--resume", o.resume, "continue the run saved in checkpoint FILE (same options)");
    train->add_flag("--quiet", o.quiet, "print only the results");

    CLI::App* predict = app.add_subcommand("predict", "predict the class and class probabilities of every row");
    predict->add_option("--model", o.model, "a model saved by logreg train")->required();
    predict->add_option("--data", o.table.data, "the rows to predict (.csv or .npy)")->required();
    add_table_options(predict, o.table, false);
    predict->add_option("--output", o.output,
                        "write a CSV (class, one probability column per class) to FILE; default stdout");

    CLI::App* eval = app.add_subcommand("eval", "accuracy, loss, confusion matrix and per-class scores on a table");
    eval->add_option("--model", o.model, "a model saved by logreg train")->required();
    eval->add_option("--data", o.table.data, "a labelled table with the training file's columns")->required();
    add_table_options(eval, o.table, true);
    eval->add_option("--metrics-json", o.metrics_json, "write the metrics as JSON to FILE");

    CLI::App* info = app.add_subcommand("info", "what a model file holds: shape, classes, preprocessing, settings");
    info->add_option("model", o.model, "a model file")->required();

    if (const int rc = examples::parse_command_line(app, argc, argv); rc >= 0) return rc;
    const bool predict_label_given = predict->parsed() && predict->get_option("--label")->count() > 0;
    if (train->parsed()) {
        const bool lbfgs = o.optimizer == "lbfgs";
        for (CLI::Option* opt : lbfgs ? minibatch_only : lbfgs_only)
            if (opt->count() > 0) {
                std::cerr << "logreg: error: " << opt->get_name() << " applies to "
                          << (lbfgs ? "--optimizer sgd, adam or adamw" : "--optimizer lbfgs") << ", not to --optimizer "
                          << o.optimizer << "\n";
                return 2;
            }
        if (o.stratify && o.test_split == 0) {
            std::cerr << "logreg: error: --stratify needs --test-split\n";
            return 2;
        }
        if (o.patience > 0 && o.val_split == 0) {
            std::cerr << "logreg: error: --patience needs --val-split (early stopping watches the validation loss)\n";
            return 2;
        }
        if (!lbfgs && train->get_option("--lr")->count() == 0 && o.optimizer != "sgd") o.lr = 1e-3;
        if (o.optimizer == "adamw" && train->get_option("--weight-decay")->count() == 0) o.weight_decay = 0.01;
    }
    try {
        const std::vector<examples::NamedPath> inputs = {{"--data", o.table.data},
                                                         {"--labels", o.table.labels},
                                                         {"--test", o.test},
                                                         {"--model", o.model},
                                                         {"--resume", o.resume}};
        examples::check_output_paths({{"--save", o.save},
                                      {"--metrics-json", o.metrics_json},
                                      {"--report", o.report},
                                      {"--checkpoint", o.checkpoint},
                                      {"--output", o.output == "-" ? std::string() : o.output}},
                                     inputs, {{"--checkpoint", "--resume"}});
        examples::install_stop_handler();
        if (train->parsed()) return run_train(o);
        if (predict->parsed()) return run_predict(o, predict_label_given);
        if (eval->parsed()) return run_eval(o);
        return run_info(o);
    } catch (const logreg::Error& e) {
        std::cerr << "logreg: error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "logreg: unexpected error: " << e.what() << "\n";
        return 2;
    }
}
