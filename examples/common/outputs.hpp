// examples/common/outputs.hpp - what mnist_train writes after training (local and --distributed):
// the model file, the metrics JSON and the HTML report, each written atomically.
#pragma once

#include "console.hpp"

#include <logreg/io/atomic_file.hpp>
#include <logreg/io/report.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>

namespace examples {

/// JSON has no NaN: missing validation values become null.
inline nlohmann::json number_or_null(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

/// The mini-batch trainer's history: one row per epoch, every batch's loss for the report.
inline void add_history(nlohmann::json& j, logreg::io::ReportData& rd, const logreg::TrainReport& report) {
    j["stop_reason"] = to_string(report.reason);
    j["epochs"] = nlohmann::json::array();
    for (const auto& e : report.history) {
        nlohmann::json row;
        row["epoch"] = e.epoch;
        row["train_loss"] = e.train_loss;
        row["val_loss"] = number_or_null(e.val_loss);
        row["val_accuracy"] = number_or_null(e.val_accuracy);
        row["lr"] = e.lr;
        row["seconds"] = e.seconds;
        j["epochs"].push_back(row);
    }
    rd.batch_losses = report.batch_losses;
    rd.epochs = report.history;
    rd.settings["stop_reason"] = report.message;
}

/// The full-batch solver's history: one row per iteration (iteration 0: the starting point).
inline void add_history(nlohmann::json& j, logreg::io::ReportData& rd, const logreg::SolverReport& report) {
    j["stop_reason"] = to_string(report.reason);
    nlohmann::json solver;
    solver["converged"] = logreg::converged(report.reason);
    solver["message"] = report.message;
    solver["objective"] = report.objective;
    solver["gradient_max"] = report.gradient_norm;
    solver["evaluations"] = report.evaluations;
    solver["iterations"] = nlohmann::json::array();
    for (const auto& it : report.history) {
        nlohmann::json row;
        row["iteration"] = it.iteration;
        row["objective"] = it.objective;
        row["loss"] = it.loss;
        row["gradient_max"] = it.gradient_norm;
        row["step"] = it.step;
        row["evaluations"] = it.evaluations;
        row["seconds"] = it.seconds;
        row["elapsed_seconds"] = it.elapsed_seconds;
        solver["iterations"].push_back(row);
    }
    j["solver"] = solver;
    rd.iterations = report.history;
    rd.settings["stop_reason"] = report.message;
}

/// Writes --save, --metrics-json and --report (those given in `o`); `settings` are the options
/// recorded in all three; `report` is a TrainReport or a SolverReport.
template <typename Options, typename Scalar, typename Report>
void write_outputs(const Options& o, const nlohmann::json& settings, const std::string& title,
                   const logreg::LinearSoftmax<Scalar>& model, const logreg::Preprocessor<Scalar>& pre,
                   const logreg::Dataset<std::uint8_t>& test, const logreg::Evaluation& ev,
                   const logreg::ClassificationReport& cls, const Report& report, double train_seconds) {
    using namespace logreg;
    if (!o.save.empty()) {
        io::ModelMetadata meta;
        meta.class_names = digit_names();
        meta.extra["dataset"] = "MNIST";
        meta.extra["test_accuracy"] = std::to_string(ev.accuracy);
        meta.extra["training_options"] = settings.dump();
        io::save_model(o.save, model, pre, meta);
        std::cout << "model saved to " << o.save << "\n";
    }
    io::ReportData rd;
    nlohmann::json j;
    add_history(j, rd, report);
    if (!o.metrics_json.empty()) {
        j["test_accuracy"] = ev.accuracy;
        j["test_loss"] = ev.loss;
        j["train_seconds"] = train_seconds;
        j["options"] = settings;
        nlohmann::json per_class = nlohmann::json::array();
        for (const auto& s : cls.classes) {
            nlohmann::json row;
            row["precision"] = s.precision;
            row["recall"] = s.recall;
            row["f1"] = s.f1;
            row["support"] = s.support;
            per_class.push_back(row);
        }
        j["per_class"] = per_class;
        io::write_file_atomically(o.metrics_json, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
        std::cout << "metrics written to " << o.metrics_json << "\n";
    }
    if (!o.report.empty()) {
        rd.title = title;
        rd.confusion = cls.confusion;
        rd.class_names = digit_names();
        rd.test_accuracy = ev.accuracy;
        rd.test_loss = ev.loss;
        const RowMatrix<Scalar> probabilities = model.predict_proba(pre.transform(test.features()));
        rd.samples = io::pick_samples(test.features(), 28, 28, ev.labels, ev.predictions, probabilities, 24, 24);
        for (const auto& [key, value] : settings.items()) rd.settings[key] = value.dump();
        rd.settings["train_seconds"] = std::to_string(train_seconds);
        io::write_html_report(o.report, rd);
        std::cout << "report written to " << o.report << "\n";
    }
}

}  // namespace examples
