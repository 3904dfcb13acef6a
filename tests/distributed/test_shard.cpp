// The MPI-free parts of distributed training: shards, the batch plan, the Trainer's reducer hook,
// and reading a row range of an IDX file (raw: by offset; gzip: by decompressing up to it).
#include "test_support.hpp"

#include <logreg/distributed/shard.hpp>
#include <logreg/io/idx.hpp>
#include <logreg/io/mnist.hpp>

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <vector>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace shard_test {

using namespace logreg;
using namespace logreg::distributed;

TEST_CASE("shards are contiguous, disjoint and cover every row", "[distributed]") {
    for (Index n : {0, 1, 7, 100, 60000})
        for (int p : {1, 2, 3, 8}) {
            Index next = 0;
            for (int r = 0; r < p; ++r) {
                const RowRange s = shard_range(n, p, r);
                REQUIRE(s.begin == next);
                REQUIRE(s.count >= n / p);
                REQUIRE(s.count <= n / p + 1);
                next += s.count;
            }
            REQUIRE(next == n);
        }
    REQUIRE_THROWS_AS(shard_range(10, 2, 2), InvalidParameter);
}

TEST_CASE("the batch plan gives B rows per step across ranks and exhausts every shard together", "[distributed]") {
    for (Index batch : {1, 2, 3, 64, 1000})
        for (const std::vector<Index>& sizes :
             {std::vector<Index>{20000, 20000, 20000}, {18000, 18001}, {5, 0, 7}, {1}, {33, 34, 33, 35}}) {
            BatchPlan plan(sizes, batch);
            const Index total = std::accumulate(sizes.begin(), sizes.end(), Index{0});
            std::vector<Index> used(sizes.size(), 0);
            Index steps = 0, seen = 0;
            for (;;) {
                const std::vector<Index>& c = plan.next();
                if (c.empty()) break;
                const Index step_rows = std::accumulate(c.begin(), c.end(), Index{0});
                REQUIRE(step_rows == std::min(batch, total - seen));  // exactly B, the last step the rest
                for (std::size_t r = 0; r < c.size(); ++r) {
                    REQUIRE(c[r] >= 0);
                    used[r] += c[r];
                    REQUIRE(used[r] <= sizes[r]);
                }
                seen += step_rows;
                ++steps;
            }
            REQUIRE(steps == (total + batch - 1) / batch);
            for (std::size_t r = 0; r < sizes.size(); ++r) REQUIRE(used[r] == sizes[r]);
        }
}

TEST_CASE("balanced shards get balanced local batches", "[distributed]") {
    BatchPlan plan({20000, 20000, 20000}, 64);
    const std::vector<Index>& c = plan.next();
    for (Index k : c) {
        REQUIRE(k >= 21);
        REQUIRE(k <= 22);
    }
}

TEST_CASE("shard orders are seeded per epoch and rank", "[distributed]") {
    REQUIRE(shard_order(100, 1, 0, 0) == shard_order(100, 1, 0, 0));
    REQUIRE(shard_order(100, 1, 0, 0) != shard_order(100, 1, 0, 1));
    REQUIRE(shard_order(100, 1, 0, 0) != shard_order(100, 1, 1, 0));
    REQUIRE(shard_order(100, 1, 0, 0, false) == iota(100));
}

// A combining reduction sees the gradient as a sum: one that pretends two identical ranks
// contributed (sum doubled, weight doubled) must give the same steps as none, up to rounding.
struct DoublingReduction {
    static constexpr bool combines = true;
    int calls = 0;
    void reduce(Gradient<float>& g, LossSums& s, StopRequest& stop) {
        ++calls;
        REQUIRE(s.weight_sum == Approx(50));
        REQUIRE(stop == StopRequest::none);
        g.weight *= 2.0f;
        g.bias *= 2.0f;
        s.loss_sum *= 2;
        s.weight_sum *= 2;
    }
    StopRequest agree(StopRequest local) { return local; }
};

TEST_CASE("a combining reduction receives sums and the step divides by the global weight", "[distributed]") {
    const Dataset<float> data = logreg_test::blobs<float>(200, 6, 3, 41);
    TrainOptions opt;
    opt.batch_size = 50;
    opt.epochs = 2;
    opt.sgd.lr = 0.3;
    opt.sgd.momentum = 0.5;
    Trainer<float> plain(LinearSoftmax<float>(6, 3, Init::uniform, 3), opt);
    Trainer<float> hooked(LinearSoftmax<float>(6, 3, Init::uniform, 3), opt);
    const auto pre = Preprocessor<float>::identity(6);
    DatasetBatches<float> a_source(data), h_source(data);
    DoublingReduction doubling;
    const TrainReport a = plain.fit(a_source, pre);
    const TrainReport h = hooked.fit(h_source, pre, {}, doubling);
    REQUIRE(doubling.calls == 8);
    REQUIRE(h.batch_losses.size() == a.batch_losses.size());
    for (std::size_t i = 0; i < a.batch_losses.size(); ++i)
        REQUIRE(h.batch_losses[i] == Approx(a.batch_losses[i]).epsilon(1e-6));
    REQUIRE(logreg_test::rel_error(hooked.model().weight(), plain.model().weight()) < 1e-6);
    REQUIRE(logreg_test::rel_error(hooked.model().bias(), plain.model().bias()) < 1e-6);
}

namespace {

// A small IDX image file (n images of 3x2), raw and gzip-compressed, with a label file.
struct IdxFiles {
    std::filesystem::path dir, raw, gz, labels;
    RowMatrix<std::uint8_t> images;
};

void put_be32(std::vector<std::uint8_t>& v, std::uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
}

IdxFiles write_idx_files(Index n) {
    IdxFiles f;
    f.dir = std::filesystem::temp_directory_path() / ("logreg_test_shard_" + std::to_string(::getpid()));
    std::filesystem::create_directories(f.dir);
    f.raw = f.dir / "images-idx3-ubyte";
    f.gz = f.dir / "images-idx3-ubyte.gz";
    f.labels = f.dir / "labels-idx1-ubyte";
    f.images.resize(n, 6);
    std::vector<std::uint8_t> img = {0, 0, 8, 3}, lab = {0, 0, 8, 1};
    put_be32(img, static_cast<std::uint32_t>(n));
    put_be32(img, 3);
    put_be32(img, 2);
    put_be32(lab, static_cast<std::uint32_t>(n));
    for (Index i = 0; i < n; ++i) {
        for (Index j = 0; j < 6; ++j) {
            f.images(i, j) = static_cast<std::uint8_t>((i * 7 + j * 13) % 251);
            img.push_back(f.images(i, j));
        }
        lab.push_back(static_cast<std::uint8_t>(i % 10));
    }
    std::ofstream(f.raw, std::ios::binary)
        .write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    std::ofstream(f.labels, std::ios::binary)
        .write(reinterpret_cast<const char*>(lab.data()), static_cast<std::streamsize>(lab.size()));
    gzFile gz = gzopen(f.gz.string().c_str(), "wb");
    gzwrite(gz, img.data(), static_cast<unsigned>(img.size()));
    gzclose(gz);
    return f;
}

}  // namespace

TEST_CASE("a row range of an IDX file equals the same rows of the whole file", "[distributed][idx]") {
    const Index n = 30000;  // gzip: more than one 64 KiB buffer to skip
    const IdxFiles f = write_idx_files(n);
    REQUIRE(io::read_idx_images_info(f.raw.string()).count == n);
    REQUIRE(io::read_idx_images_info(f.gz.string()).gzip);
    for (const auto& [begin, count] : std::vector<std::pair<Index, Index>>{{0, 5}, {12345, 100}, {n - 3, 3}, {7, 0}}) {
        const RowMatrix<std::uint8_t> want = f.images.middleRows(begin, count);
        REQUIRE(io::read_idx_image_rows(f.raw.string(), begin, count) == want);
        REQUIRE(io::read_idx_image_rows(f.gz.string(), begin, count) == want);
        const LabelVector lab = io::read_idx_label_rows(f.labels.string(), begin, count);
        for (Index i = 0; i < count; ++i) REQUIRE(lab[i] == (begin + i) % 10);
    }
    REQUIRE_THROWS_AS(io::read_idx_image_rows(f.raw.string(), n - 1, 2), InvalidParameter);
    REQUIRE_THROWS_AS(io::read_idx_label_rows(f.labels.string(), 0, 10, 5), FormatError);
    std::filesystem::remove_all(f.dir);
}

TEST_CASE("the shards of the real MNIST files concatenate to the whole training set", "[distributed][mnist]") {
    const std::string dir = logreg_test::mnist_dir_or_skip();
    if (dir.empty()) return;
    const io::MnistFiles files = io::find_mnist_files(dir, io::MnistSplit::train);
    const Dataset<std::uint8_t> all = io::load_mnist(dir, io::MnistSplit::train);
    for (int r = 0; r < 3; ++r) {
        const RowRange s = shard_range(all.size(), 3, r);
        REQUIRE(io::read_idx_image_rows(files.images, s.begin, s.count) == all.features().middleRows(s.begin, s.count));
        REQUIRE(io::read_idx_label_rows(files.labels, s.begin, s.count) == all.labels().segment(s.begin, s.count));
    }
}

}  // namespace shard_test
