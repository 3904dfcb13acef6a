// Checkpoints and interruptions: a run stopped at any batch and resumed from its checkpoint ends
// with bitwise the weights of an uninterrupted run; bad checkpoints are refused without touching
// the trainer; a diverging run leaves the last good checkpoint as it was. Also the API rows of
// docs/robustness.md that no other test covers.
#include "test_support.hpp"

#include <logreg/io/checkpoint.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace checkpoint_test {

using namespace logreg;
using logreg_test::contains;
namespace fs = std::filesystem;

namespace {

/// A file in this process's own temporary folder, removed when the process exits: ctest runs the
/// float and double cases of a test in parallel processes, which must not share checkpoint files.
std::string temp_file(const std::string& name) {
    static const logreg_test::TempDir dir("logreg-robustness");
    return dir / name;
}

std::vector<char> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TrainOptions options(int epochs, int threads) {
    TrainOptions o;
    o.epochs = epochs;
    o.batch_size = 10;  // 100 rows, 80 for training: 8 batches per epoch
    o.seed = 5;
    o.threads = threads;
    o.validation_fraction = 0.2;
    o.sgd.lr = 0.2;
    o.sgd.momentum = 0.9;
    o.sgd.nesterov = true;
    o.sgd.weight_decay = 1e-3;
    o.schedule = Schedule::cosine(7 * 8);
    o.schedule_per_step = true;
    return o;
}

}  // namespace

/// The resume test of any optimizer: stopped after batch `stop_at` (counting over the whole run;
/// 8 batches per epoch), checkpointed, loaded into a new trainer with a fresh optimizer of the same
/// kind, trained to the end: bitwise the weights and the optimizer state of the uninterrupted run.
template <typename Scalar, typename Optimizer>
void resume_is_bitwise(const Optimizer& fresh, int threads, int epochs, std::initializer_list<int> stops) {
    const auto data = logreg_test::blobs<Scalar>(100, 6, 3, 52);
    const auto pre = Preprocessor<Scalar>::identity(6);
    Trainer<Scalar, Optimizer> whole(LinearSoftmax<Scalar>(6, 3, Init::uniform, 9), options(epochs, threads), fresh);
    whole.fit(data, pre);
    for (const int stop_at : stops) {
        CAPTURE(threads, stop_at, Optimizer::name);
        const std::string path = temp_file(std::string("resume-") + Optimizer::name + ".ckpt");
        std::atomic<bool> stop{false};
        int batches = 0;
        Trainer<Scalar, Optimizer> first(LinearSoftmax<Scalar>(6, 3, Init::uniform, 9), options(epochs, threads),
                                         fresh);
        Callbacks cb;
        cb.on_batch = [&](const BatchRecord&) {
            if (++batches == stop_at) stop = true;
            return true;
        };
        cb.stop = &stop;
        first.set_callbacks(cb);
        REQUIRE(first.fit(data, pre).reason == StopReason::interrupted);
        REQUIRE(first.epochs_done() * 8 + first.position().batches_done_in_epoch == stop_at);
        io::save_checkpoint(path, first, {{"run", "test"}});

        Trainer<Scalar, Optimizer> second(LinearSoftmax<Scalar>(6, 3), options(epochs, threads), fresh);
        REQUIRE(io::load_checkpoint(path, second).at("run") == "test");
        REQUIRE(second.epochs_done() == first.epochs_done());
        second.set_options(options(epochs - second.epochs_done(), threads));
        REQUIRE(second.fit(data, pre).reason == StopReason::max_epochs);
        REQUIRE(second.epochs_done() == epochs);
        REQUIRE(second.model().weight() == whole.model().weight());
        REQUIRE(second.model().bias() == whole.model().bias());
        const OptimizerState<Scalar> a = second.optimizer().state(), b = whole.optimizer().state();
        REQUIRE(a.steps == b.steps);
        REQUIRE(a.matrices == b.matrices);
        REQUIRE(a.vectors == b.vectors);
    }
}

TEMPLATE_TEST_CASE("a run interrupted at any batch and resumed from its checkpoint ends bitwise equal",
                   "[checkpoint][resume]", float, double) {
    for (const int threads : {1, 2})
        resume_is_bitwise<TestType>(SGD<TestType>(options(7, threads).sgd), threads, 7, {1, 8, 13, 16, 30, 55});
}

TEMPLATE_TEST_CASE("Adam and AdamW runs resumed from a checkpoint end bitwise equal", "[checkpoint][resume][adam]",
                   float, double) {
    AdamParams adam;
    adam.lr = 0.05;
    adam.weight_decay = 1e-3;
    adam.amsgrad = true;
    AdamWParams adamw;
    adamw.lr = 0.05;
    for (const int threads : {1, 2}) {
        resume_is_bitwise<TestType>(Adam<TestType>(adam), threads, 4, {1, 8, 13, 30});
        resume_is_bitwise<TestType>(AdamW<TestType>(adamw), threads, 4, {1, 8, 13, 30});
    }
}

TEST_CASE("a checkpoint of one optimizer is refused by a trainer with another", "[checkpoint][reject][adam]") {
    const auto data = logreg_test::blobs<float>(100, 6, 3, 53);
    const auto pre = Preprocessor<float>::identity(6);
    Trainer<float> sgd(LinearSoftmax<float>(6, 3, Init::uniform, 2), options(1, 1));
    sgd.fit(data, pre);
    const std::string path = temp_file("sgd-for-adam.ckpt");
    io::save_checkpoint(path, sgd);
    Trainer<float, Adam<float>> adam(LinearSoftmax<float>(6, 3, Init::uniform, 3), options(1, 1));
    REQUIRE_THROWS_WITH(io::load_checkpoint(path, adam),
                        contains("the checkpoint holds the state of the optimizer 'sgd' but the trainer uses 'adam'"));
    REQUIRE(adam.optimizer().steps() == 0);

    // amsgrad's maxima present in the file but not wanted by the trainer: refused, trainer unchanged.
    AdamParams ams;
    ams.amsgrad = true;
    Trainer<float, Adam<float>> with_max(LinearSoftmax<float>(6, 3, Init::uniform, 2), options(1, 1), Adam<float>(ams));
    with_max.fit(data, pre);
    const std::string ams_path = temp_file("amsgrad.ckpt");
    io::save_checkpoint(ams_path, with_max);
    REQUIRE_THROWS_WITH(io::load_checkpoint(ams_path, adam), contains("has the amsgrad maxima but amsgrad is off"));
    REQUIRE(adam.optimizer().steps() == 0);
}

TEST_CASE("fit() after an interruption continues the same epoch in the same process", "[checkpoint][resume]") {
    const auto data = logreg_test::blobs<double>(100, 6, 3, 52);
    const auto pre = Preprocessor<double>::identity(6);
    Trainer<double> whole(LinearSoftmax<double>(6, 3, Init::uniform, 9), options(3, 1));
    whole.fit(data, pre);
    std::atomic<bool> stop{false};
    Trainer<double> t(LinearSoftmax<double>(6, 3, Init::uniform, 9), options(3, 1));
    Callbacks cb;
    cb.on_batch = [&](const BatchRecord& b) {
        stop = b.epoch == 2 && b.batch == 4;
        return true;
    };
    cb.stop = &stop;
    t.set_callbacks(cb);
    const TrainReport r = t.fit(data, pre);
    REQUIRE(r.reason == StopReason::interrupted);
    REQUIRE(r.interrupted_epoch == 2);
    REQUIRE(r.interrupted_batch == 4);
    REQUIRE_THAT(r.message, contains("interrupted at epoch 2 after batch 5 of 8"));
    t.set_options(options(2, 1));  // epoch 2 (rest of it) and 3
    stop = false;
    cb.stop = nullptr;
    t.set_callbacks(cb);
    t.fit(data, pre);
    REQUIRE(t.model().weight() == whole.model().weight());
    // Resuming with other data (fewer batches per epoch than already done) is refused.
    Trainer<double> u(LinearSoftmax<double>(6, 3), options(1, 1));
    TrainerState<double> resumed = u.state();
    resumed.position.batches_done_in_epoch = 9;
    u.restore(resumed);
    REQUIRE_THROWS_WITH(u.fit(data, pre), contains("9 batches done"));
}

namespace {

/// The batches of fit_rows(data, rows), except that batch `batch` of epoch `epoch` (1-based) has overflowing
/// features: a batch source of a user's own, wrapping the library's.
struct PoisonedBatches {
    using feature_type = double;
    PoisonedBatches(const Dataset<double>& data, IndexVector rows, int bad_epoch, Index bad_batch)
        : inner(data, std::move(rows)),
          poison(RowMatrix<double>::Constant(1, data.num_features(), std::numeric_limits<double>::max()),
                 LabelVector::Zero(1), static_cast<int>(data.num_classes())),
          epoch(bad_epoch),
          batch(bad_batch) {}
    Index num_features() const { return inner.num_features(); }
    Index num_classes() const { return inner.num_classes(); }
    Index max_batch_rows(Index batch_size) const { return inner.max_batch_rows(batch_size); }
    Index begin_epoch(const EpochInfo& info) {
        current_epoch = info.epoch + 1;
        next = 0;
        return inner.begin_epoch(info);
    }
    void seek(Index b) {
        next = b;
        inner.seek(b);
    }
    BatchView<double> next_batch() {
        BatchView<double> v = inner.next_batch();
        if (current_epoch == epoch && next++ == batch)
            v = BatchView<double>{&poison.features(), &poison.labels(), &poison.sample_weights(), &zero, 1};
        return v;
    }

    DatasetBatches<double> inner;
    Dataset<double> poison;
    int epoch, current_epoch = 0;
    Index batch, next = 0, zero = 0;
};

}  // namespace

TEST_CASE("a diverging run leaves the last good checkpoint intact", "[checkpoint][divergence]") {
    const auto data = logreg_test::blobs<double>(100, 6, 3, 53);
    const auto pre = Preprocessor<double>::identity(6);
    const std::string path = temp_file("diverge.ckpt");
    fs::remove(path);
    Trainer<double> t(LinearSoftmax<double>(6, 3, Init::uniform, 1), options(5, 1));
    Callbacks cb;
    cb.on_epoch = [&](const EpochRecord&) {
        io::save_checkpoint(path, t);
        return true;
    };
    t.set_callbacks(cb);
    // Batch 3 of epoch 3 is a corrupt record (features at the largest double): its loss is NaN.
    PoisonedBatches source(data, train_validation_split(data.size(), 0.2, 5).train, 3, 3);
    const auto good = [&] {
        Trainer<double> probe(LinearSoftmax<double>(6, 3, Init::uniform, 1), options(2, 1));
        probe.fit(data, pre);
        return probe.model().weight();
    }();
    const TrainReport r = t.fit(source, pre);
    REQUIRE(r.reason == StopReason::diverged);
    REQUIRE(r.diverged_epoch == 3);
    REQUIRE(r.diverged_batch == 3);
    REQUIRE_THAT(r.message, contains("diverged at epoch 3, batch 3"));
    REQUIRE_THAT(r.message, contains("smaller learning rate"));
    Trainer<double> back(LinearSoftmax<double>(6, 3), options(5, 1));
    io::load_checkpoint(path, back);
    REQUIRE(back.epochs_done() == 2);
    REQUIRE(back.model().weight() == good);
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
        REQUIRE(e.path().filename().string().find(".tmp-") == std::string::npos);  // no half-written file
}

TEST_CASE("bad checkpoints are refused with the file and the problem, the trainer unchanged", "[checkpoint][reject]") {
    const auto data = logreg_test::blobs<float>(100, 6, 3, 54);
    Trainer<float> src(LinearSoftmax<float>(6, 3, Init::uniform, 2), options(1, 1));
    src.fit(data, Preprocessor<float>::identity(6));
    const std::string good = temp_file("good.ckpt");
    io::save_checkpoint(good, src);

    Trainer<float> t(LinearSoftmax<float>(6, 3, Init::uniform, 3), options(1, 1));
    const RowMatrix<float> before = t.model().weight();
    auto refused = [&](const std::string& path, const std::string& why) {
        CAPTURE(path, why);
        REQUIRE_THROWS_WITH(io::load_checkpoint(path, t), contains(why));
        REQUIRE(t.model().weight() == before);
        REQUIRE(t.epochs_done() == 0);
        REQUIRE(t.optimizer().steps() == 0);
    };
    refused(temp_file("missing.ckpt"), "missing.ckpt");
    Trainer<float> other(LinearSoftmax<float>(5, 3), options(1, 1));
    REQUIRE_THROWS_WITH(io::load_checkpoint(good, other), contains("shape [3, 6] but the model needs [3, 5]"));
    Trainer<double> wider(LinearSoftmax<double>(6, 3), options(1, 1));
    REQUIRE_THROWS_WITH(io::load_checkpoint(good, wider), contains("holds F32 parameters but the trainer uses F64"));

    const std::string model = temp_file("model.safetensors");
    io::save_model(model, src.model(), Preprocessor<float>::identity(6));
    refused(model, "format is 'logreg.linear_softmax'; expected 'logreg.checkpoint'");

    // Edit one metadata entry of a valid checkpoint (same length, so offsets stay valid).
    std::vector<char> bytes = file_bytes(good);
    auto edited = [&](const std::string& from, const std::string& to, const std::string& name) {
        std::string text(bytes.begin(), bytes.end());
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        REQUIRE(from.size() == to.size());
        text.replace(at, from.size(), to);
        const std::string path = temp_file(name);
        std::ofstream(path, std::ios::binary) << text;
        return path;
    };
    refused(edited("\"epochs_done\":\"1\"", "\"epochs_done\":\"x\"", "epochs.ckpt"), "metadata epochs_done is 'x'");
    {
        std::string text(bytes.begin(), bytes.end());
        const auto at = text.find("\"rng\":\"");
        REQUIRE(at != std::string::npos);
        text[at + 7] = 'x';  // the first digit of the state
        const std::string path = temp_file("rng.ckpt");
        std::ofstream(path, std::ios::binary) << text;
        refused(path, "metadata rng is not");
    }
    refused(edited("\"optimizer\":\"sgd\"", "\"optimizer\":\"ada\"", "opt.ckpt"),
            "the checkpoint holds the state of the optimizer 'ada' but the trainer uses 'sgd'");
    refused(edited("optimizer.bias_buffer", "optimizer.bias_bufxer", "buf.ckpt"),
            "the optimizer state does not fit: SGD::restore: unknown state tensor 'bias_bufxer'");
    // Truncated: the header's offsets reach past the end.
    std::vector<char> cut(bytes.begin(), bytes.end() - 5);
    const std::string cut_path = temp_file("cut.ckpt");
    std::ofstream(cut_path, std::ios::binary).write(cut.data(), static_cast<std::streamsize>(cut.size()));
    refused(cut_path, "cut.ckpt");
}

// ---- API rows of docs/robustness.md not covered elsewhere ----

TEST_CASE("non-finite learning rates are refused by name", "[robustness][api]") {
    for (const double lr : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), 0.0}) {
        TrainOptions o;
        o.sgd.lr = lr;
        REQUIRE_THROWS_WITH(Trainer<float>(LinearSoftmax<float>(3, 2), o), contains("'lr' is"));
    }
}

TEST_CASE("NaN or Inf features are refused by Dataset, partial_fit and evaluate", "[robustness][api]") {
    RowMatrix<float> x = RowMatrix<float>::Ones(4, 3);
    const LabelVector y = LabelVector::Zero(4);
    x(2, 1) = std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_WITH(Dataset<float>(x, y, 2), contains("feature 1 of sample 2 is inf"));
    Trainer<float> t(LinearSoftmax<float>(3, 2), TrainOptions{});
    REQUIRE_THROWS_AS(t.partial_fit(x, y), DataError);
    x(2, 1) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_WITH(t.partial_fit(x, y), contains("nan"));
    REQUIRE(t.model().all_finite());
}

TEST_CASE("a batch size larger than the data is one batch of all rows", "[robustness][api]") {
    const auto data = logreg_test::blobs<double>(30, 4, 3, 55);
    TrainOptions big;
    big.batch_size = 1000;
    big.epochs = 2;
    TrainOptions exact = big;
    exact.batch_size = 30;
    Trainer<double> a(LinearSoftmax<double>(4, 3), big), b(LinearSoftmax<double>(4, 3), exact);
    const TrainReport ra = a.fit(data, Preprocessor<double>::identity(4));
    b.fit(data, Preprocessor<double>::identity(4));
    REQUIRE(ra.batch_losses.size() == 2);
    REQUIRE(a.model().weight() == b.model().weight());
}

TEST_CASE("model and data with different feature counts", "[robustness][api]") {
    const auto data = logreg_test::blobs<float>(10, 4, 2, 56);
    REQUIRE_THROWS_WITH(evaluate(LinearSoftmax<float>(5, 2), data, Preprocessor<float>::identity(4)),
                        contains("4 features but the model has 5"));
}

}  // namespace checkpoint_test
