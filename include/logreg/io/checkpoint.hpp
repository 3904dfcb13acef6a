// logreg/io/checkpoint.hpp - save and restore a Trainer's (or the L-BFGS solver's) whole state, so
// that training can stop (Ctrl-C, a crash, a killed job) and continue to bitwise the same weights as
// an uninterrupted run.
//
// A checkpoint is a safetensors file (see safetensors.hpp):
//   tensors   weight [classes, features], bias [classes] (the model, in the trainer's Scalar type);
//             optimizer.<name> for each tensor of the optimizer's state() (SGD: weight_buffer and
//             bias_buffer once momentum has started; Adam/AdamW: the moments; L-BFGS: its curvature
//             pairs weight_s<i>, bias_s<i>, weight_y<i>, bias_y<i>), shaped like W or b
//   metadata  format = "logreg.checkpoint", logreg_version, scalar (F32/F64), optimizer (its name),
//             epochs_done, batches_done_in_epoch, schedule_steps, optimizer_steps,
//             rng (the std::mt19937_64 state as text, as operator<< writes it), and the caller's extras
//             (e.g. the options the run was started with, to refuse a resume with other options).
// Checkpoints of logreg 0.1.0 (no "optimizer" entry, SGD's optimizer_has_buffers) load as SGD.
// It is written with write_file_atomically: a reader, or a process killed at any moment, sees the
// previous checkpoint or the new one, never a mix.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/train.hpp>
#include <logreg/trainer_state.hpp>

#include <cstdint>
#include <limits>
#include <locale>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace logreg::io {

/// The value of the "format" metadata entry of a checkpoint file.
inline constexpr const char* checkpoint_format = "logreg.checkpoint";

namespace detail {

inline const std::set<std::string>& reserved_checkpoint_keys() {
    static const std::set<std::string> keys = {"format",
                                               "logreg_version",
                                               "scalar",
                                               "optimizer",
                                               "epochs_done",
                                               "batches_done_in_epoch",
                                               "schedule_steps",
                                               "optimizer_steps",
                                               "optimizer_has_buffers",
                                               "rng"};
    return keys;
}

/// What a checkpoint can hold: a Trainer or an LBFGS solver, anything with state(), restore() and model().
template <typename T, typename = void>
struct is_checkpointable : std::false_type {};
template <typename T>
struct is_checkpointable<T, std::void_t<decltype(std::declval<const T&>().state().model.weight()),
                                        decltype(std::declval<T&>().restore(std::declval<const T&>().state())),
                                        decltype(std::declval<const T&>().model().num_classes())>> : std::true_type {};

/// The Scalar of a Trainer's or solver's model.
template <typename T>
using scalar_of = typename std::decay_t<decltype(std::declval<const T&>().model().bias())>::Scalar;

inline std::string rng_text(const logreg::detail::Rng& rng) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << rng;
    return out.str();
}

}  // namespace detail

/// Writes the trainer's state (model, optimizer state, step and epoch counters, RNG) to `path`,
/// atomically, with `extra` as additional metadata. Call it between fit() calls or from an
/// on_epoch callback (the state is consistent there), or after fit() returned
/// StopReason::interrupted. Throws InvalidParameter for a reserved extra key, NumericalError for
/// a non-finite model, IoError if writing fails (the previous file then stays as it was).
template <typename Fitter, std::enable_if_t<detail::is_checkpointable<Fitter>::value, int> = 0>
void save_checkpoint(const std::string& path, const Fitter& trainer,
                     const std::map<std::string, std::string>& extra = {}) {
    using Scalar = detail::scalar_of<Fitter>;
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "logreg::io::save_checkpoint: checkpoints store float or double models");
    const TrainerState<Scalar> state = trainer.state();
    if (!state.model.all_finite())
        throw NumericalError("save_checkpoint '" + path + "': the model has non-finite parameters");
    for (const auto& [key, value] : extra)
        if (detail::reserved_checkpoint_keys().count(key))
            throw InvalidParameter("save_checkpoint '" + path + "': metadata key '" + key + "' is reserved by logreg");
    SafetensorsWriter w;
    w.add("weight", state.model.weight());
    w.add("bias", state.model.bias());
    for (const auto& [name, m] : state.optimizer.matrices) w.add("optimizer." + name, m);
    for (const auto& [name, v] : state.optimizer.vectors) w.add("optimizer." + name, v);
    for (const auto& [key, value] : extra) w.set_metadata(key, value);
    w.set_metadata("format", checkpoint_format);
    w.set_metadata("logreg_version", logreg::version);
    w.set_metadata("scalar", dtype_of<Scalar>());
    w.set_metadata("epochs_done", std::to_string(state.position.epochs_done));
    w.set_metadata("batches_done_in_epoch", std::to_string(state.position.batches_done_in_epoch));
    w.set_metadata("schedule_steps", std::to_string(state.position.schedule_steps));
    w.set_metadata("optimizer", state.optimizer_name);
    w.set_metadata("optimizer_steps", std::to_string(state.optimizer.steps));
    w.set_metadata("rng", detail::rng_text(state.rng));
    w.save(path);
}

/// Restores a checkpoint written by save_checkpoint into `trainer`, whose model must have the
/// same shape and Scalar type; returns the extra metadata. Everything is validated before the
/// trainer is touched: on any error (IoError, FormatError naming the file and the entry,
/// NumericalError) the trainer is unchanged.
template <typename Fitter, std::enable_if_t<detail::is_checkpointable<Fitter>::value, int> = 0>
std::map<std::string, std::string> load_checkpoint(const std::string& path, Fitter& trainer) {
    using Scalar = detail::scalar_of<Fitter>;
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "logreg::io::load_checkpoint: checkpoints store float or double models");
    using logreg::detail::cat;
    const SafetensorsFile f(path);
    const auto& md = f.metadata();
    auto meta = [&](const std::string& key) -> const std::string& {
        const auto it = md.find(key);
        if (it == md.end()) throw f.error("it is not a logreg checkpoint: metadata '" + key + "' is missing");
        return it->second;
    };
    if (meta("format") != checkpoint_format)
        throw f.error("format is '" + detail::excerpt(meta("format")) + "'; expected '" + checkpoint_format +
                      "' (a model file saved with --save is not a checkpoint)");
    if (meta("scalar") != dtype_of<Scalar>())
        throw f.error("the checkpoint holds " + detail::excerpt(meta("scalar")) + " parameters but the trainer uses " +
                      dtype_of<Scalar>() + ": resuming would not continue bitwise");
    auto count = [&](const std::string& key, std::int64_t max) {
        std::int64_t v = 0;
        if (!detail::parse_count(meta(key), v) || v > max)
            throw f.error("metadata " + key + " is '" + detail::excerpt(meta(key)) + "'; expected an integer in [0, " +
                          std::to_string(max) + "]");
        return v;
    };
    const auto epochs_done = static_cast<int>(count("epochs_done", std::numeric_limits<int>::max()));
    const Index batches_done = static_cast<Index>(count("batches_done_in_epoch", std::int64_t{1} << 40));
    const long long schedule_steps = count("schedule_steps", std::int64_t{1} << 60);
    const long long optimizer_steps = count("optimizer_steps", std::int64_t{1} << 60);
    const auto optimizer_entry = md.find("optimizer");
    const std::string optimizer_name = optimizer_entry != md.end() ? optimizer_entry->second : "sgd";  // 0.1.0
    const std::string expected = trainer.state().optimizer_name;
    if (optimizer_name != expected)
        throw f.error("the checkpoint holds the state of the optimizer '" + detail::excerpt(optimizer_name) +
                      "' but the trainer uses '" + expected + "'");

    logreg::detail::Rng rng;
    {
        std::istringstream in(meta("rng"));
        in.imbue(std::locale::classic());
        in >> rng;
        if (!in.fail() && !in.eof()) in >> std::ws;  // reading the last number may already hit the end
        if (in.fail() || !in.eof())
            throw f.error("metadata rng is not the text of a std::mt19937_64 state (corrupt checkpoint?)");
    }

    const Index classes = trainer.model().num_classes(), features = trainer.model().num_features();
    // Checks a tensor's dtype and shape, then converts it straight into `out` (and checks finiteness).
    auto tensor = [&](const std::string& name, std::int64_t rows, std::int64_t cols, Scalar* out) {
        const TensorInfo& t = f.info(name);
        const std::vector<std::int64_t> want =
            cols < 0 ? std::vector<std::int64_t>{rows} : std::vector<std::int64_t>{rows, cols};
        if (t.dtype != dtype_of<Scalar>())
            throw f.error("tensor '" + detail::excerpt(name) + "' has dtype " + t.dtype + "; expected " +
                          dtype_of<Scalar>());
        if (t.shape != want)
            throw f.error("tensor '" + detail::excerpt(name) + "' has shape " + detail::shape_text(t.shape) +
                          " but the model needs " + detail::shape_text(want) + " (a checkpoint of another model?)");
        detail::model_tensor(f, name, out);
    };
    TrainerState<Scalar> restored;
    restored.model = LinearSoftmax<Scalar>(features, classes);
    tensor("weight", classes, features, restored.model.weight().data());
    tensor("bias", classes, -1, restored.model.bias().data());
    // The optimizer's tensors: 2-D ones shaped like W, 1-D ones like b; the optimizer itself
    // checks their names on a scratch copy, before the trainer is touched.
    OptimizerState<Scalar> state;
    state.steps = optimizer_steps;
    for (const auto& [name, t] : f.tensors()) {
        if (name == "weight" || name == "bias") continue;
        if (name.rfind("optimizer.", 0) != 0)
            throw f.error("unexpected tensor '" + detail::excerpt(name) + "' in a checkpoint");
        const std::string key = name.substr(10);
        if (t.shape.size() == 2) {
            RowMatrix<Scalar> m(classes, features);
            tensor(name, classes, features, m.data());
            state.matrices.emplace(key, std::move(m));
        } else {
            Vector<Scalar> v(classes);
            tensor(name, classes, -1, v.data());
            state.vectors.emplace(key, std::move(v));
        }
    }
    restored.position = TrainPosition{epochs_done, batches_done, schedule_steps};
    restored.rng = rng;
    restored.optimizer_name = optimizer_name;
    restored.optimizer = std::move(state);
    try {
        trainer.restore(restored);  // checks everything before it changes the trainer
    } catch (const InvalidParameter& e) {
        // The optimizer's message may quote a tensor name from the file: keep it short.
        throw f.error("the optimizer state does not fit: " + detail::excerpt(e.what(), 300));
    }

    std::map<std::string, std::string> extra;
    for (const auto& [key, value] : md)
        if (!detail::reserved_checkpoint_keys().count(key)) extra[key] = value;
    return extra;
}

}  // namespace logreg::io
