// The training scenarios of training_scenarios.hpp through the in-memory source (Trainer::fit on a
// Dataset) and the memory-mapped one (io::fit_mapped). The MPI shard runs them in
// tests/distributed/mpi_scenarios.cpp.
#include "training_scenarios.hpp"

#include <logreg/io/mmap_idx.hpp>

#include <algorithm>
#include <fstream>
#include <string>

namespace {

using namespace logreg;

struct InMemoryPath {
    Dataset<std::uint8_t> train = scenarios::data(), shifted = scenarios::data(true);
    TrainReport fit(Trainer<float>& t) { return t.fit(train, scenarios::pre()); }
    TrainReport fit_validated(Trainer<float>& t) { return t.fit(train, shifted, scenarios::pre()); }
    void save(const Trainer<float>& t, const std::string& name) { io::save_checkpoint(scenarios::file(name), t); }
    void load(Trainer<float>& t, const std::string& name) { io::load_checkpoint(scenarios::file(name), t); }
};

void write_be32(std::ofstream& out, std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out.write(b, 4);
}

/// Writes the rows of `d` as raw IDX files of 4x4 images; returns true.
bool write_idx_files(const Dataset<std::uint8_t>& d) {
    std::ofstream images(scenarios::file("images-idx3-ubyte"), std::ios::binary);
    write_be32(images, 0x803);
    write_be32(images, static_cast<std::uint32_t>(d.size()));
    write_be32(images, 4);
    write_be32(images, 4);
    images.write(reinterpret_cast<const char*>(d.features().data()), d.features().size());
    std::ofstream labels(scenarios::file("labels-idx1-ubyte"), std::ios::binary);
    write_be32(labels, 0x801);
    write_be32(labels, static_cast<std::uint32_t>(d.size()));
    for (Index i = 0; i < d.size(); ++i) labels.put(static_cast<char>(d.labels()[i]));
    return images.good() && labels.good();
}

/// The same rows as raw IDX files, mapped 50 rows at a time so that batches straddle windows.
struct MappedPath : InMemoryPath {
    TrainReport fit(Trainer<float>& t) { return io::fit_mapped(t, mapped, scenarios::pre()); }
    TrainReport fit_validated(Trainer<float>& t) {
        return io::fit_mapped(t, mapped, scenarios::pre(), [&](const LinearSoftmax<float>& m) {
            return evaluate(m, shifted, scenarios::pre(), t.loss());
        });
    }
    bool written = write_idx_files(train);  // before `mapped` opens the files
    io::MmapIdxDataset mapped{scenarios::file("images-idx3-ubyte"), scenarios::file("labels-idx1-ubyte"),
                              scenarios::classes, 50 * scenarios::features};
};

}  // namespace

TEST_CASE("training scenarios: in-memory Dataset", "[scenarios]") {
    const int threads = GENERATE(1, 2);
    const bool per_step = GENERATE(true, false);
    CAPTURE(threads, per_step);
    InMemoryPath path;
    scenarios::run_all(path, threads, per_step);
}

TEST_CASE("training scenarios: memory-mapped IDX file", "[scenarios][mmap]") {
    const int threads = GENERATE(1, 2);
    const bool per_step = GENERATE(true, false);
    CAPTURE(threads, per_step);
    MappedPath path;
    scenarios::run_all(path, threads, per_step);
}

TEST_CASE("the mapped source hands out every row once per epoch, in batches that straddle windows", "[mmap]") {
    MappedPath path;
    io::MappedBatches source(path.mapped);
    Rng rng(1);
    for (int epoch : {0, 1}) {
        const Index batches = source.begin_epoch(EpochInfo{epoch, 16, true, 3, &rng});
        REQUIRE(batches == 15);
        std::vector<std::string> seen, expected;  // each row's bytes and label
        for (Index b = 0; b < batches; ++b) {
            const BatchView<std::uint8_t> v = source.next_batch();
            REQUIRE(v.count == 16);
            for (Index i = 0; i < v.count; ++i) {
                const auto* row = v.features->row(v.rows[i]).data();
                seen.emplace_back(row, row + scenarios::features);
                seen.back().push_back(static_cast<char>((*v.labels)[v.rows[i]]));
            }
        }
        for (Index i = 0; i < scenarios::rows; ++i) {
            const auto* row = path.train.features().row(i).data();
            expected.emplace_back(row, row + scenarios::features);
            expected.back().push_back(static_cast<char>(path.train.labels()[i]));
        }
        std::sort(seen.begin(), seen.end());
        std::sort(expected.begin(), expected.end());
        REQUIRE(seen == expected);
    }
    // seek(k) gives the batches that k calls of next_batch() would have skipped to.
    for (Index k : {Index{0}, Index{3}, Index{7}, Index{14}}) {
        io::MappedBatches a(path.mapped), b(path.mapped);
        a.begin_epoch(EpochInfo{2, 16, true, 3, &rng});
        b.begin_epoch(EpochInfo{2, 16, true, 3, &rng});
        for (Index i = 0; i < k; ++i) a.next_batch();
        const RowMatrix<std::uint8_t> expected = a.next_batch().features->topRows(16);
        b.seek(k);
        REQUIRE(b.next_batch().features->topRows(16) == expected);
    }
}

namespace {

/// A user's source: every row of a Dataset in order, with no sample-weight vector at all (null).
struct PlainRows {
    using feature_type = std::uint8_t;
    const Dataset<std::uint8_t>* data;
    IndexVector rows;
    Index batch = 16, at = 0, bad_row = -1;
    Index num_features() const { return data->num_features(); }
    Index num_classes() const { return data->num_classes(); }
    Index max_batch_rows(Index) const { return batch; }
    Index begin_epoch(const EpochInfo&) {
        at = 0;
        return data->size() / batch;
    }
    void seek(Index b) { at = b * batch; }
    BatchView<std::uint8_t> next_batch() {
        BatchView<std::uint8_t> v;
        v.features = &data->features();
        v.labels = &data->labels();
        v.rows = rows.data() + at;
        v.count = batch;
        at += batch;
        return v;
    }
};

}  // namespace

TEST_CASE("a user's batch source: null sample weights mean unweighted, bad rows are refused", "[scenarios]") {
    const Dataset<std::uint8_t> data = scenarios::data();
    PlainRows source{&data, iota(data.size())};
    Trainer<float> t = scenarios::trainer(2, 1, false);
    REQUIRE(t.fit(source, scenarios::pre()).reason == StopReason::max_epochs);
    Trainer<float> same = scenarios::trainer(2, 1, false);
    TrainOptions in_order = scenarios::options(2, 1, false);
    in_order.shuffle = false;
    same.set_options(in_order);
    same.fit(data, scenarios::pre());
    REQUIRE(same.model().weight() == t.model().weight());  // the same batches, unweighted

    source.rows[20] = data.size();  // one past the end, in the second batch
    Trainer<float> u = scenarios::trainer(1, 1, false);
    REQUIRE_THROWS_WITH(u.fit(source, scenarios::pre()),
                        logreg_test::contains("the batch source handed out row 240 (of 240)"));
}
