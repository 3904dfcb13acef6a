// Run under mpirun -np P: one epoch of data-parallel SGD on MNIST (each rank reads only its
// slice of the training files) must equal, up to summation order, one process stepping through
// the same global batches - rebuilt here by concatenating the ranks' local batches in rank order.
// Rank 0 replays the reference and fails (exit 1) if max |W_mpi - W_ref| >= 1e-5.
#include <logreg/distributed/mpi.hpp>
#include <logreg/io/mnist.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main() {
    using namespace logreg;
    distributed::Environment env;
    distributed::Communicator comm(MPI_COMM_WORLD, 120.0);
    try {
        const char* dir = std::getenv("LOGREG_MNIST_DIR");
        if (!dir || !*dir) {
            if (comm.is_root()) std::printf("skipped: no MNIST data: LOGREG_MNIST_DIR is not set\n");
            return 0;
        }
        const io::MnistFiles files = io::find_mnist_files(dir, io::MnistSplit::train);
        const Index n = io::read_idx_images_info(files.images).count;
        const int ranks = comm.size(), rank = comm.rank();
        const distributed::RowRange mine = distributed::shard_range(n, ranks, rank);
        const Dataset<std::uint8_t> shard(io::read_idx_image_rows(files.images, mine.begin, mine.count),
                                          io::read_idx_label_rows(files.labels, mine.begin, mine.count), 10);

        TrainOptions opt;
        opt.batch_size = 64;
        opt.epochs = 1;
        opt.seed = 11;
        opt.sgd.lr = 0.5;
        opt.sgd.momentum = 0.5;  // exercise the optimizer state too
        opt.sgd.weight_decay = 1e-4;
        const auto pre = Preprocessor<float>::unit(784);
        const LinearSoftmax<float> init(784, 10, Init::uniform, opt.seed);

        Trainer<float> trainer(init, opt);
        const TrainReport report = distributed::fit_sharded(trainer, shard, pre, comm);
        const double spread = distributed::weight_divergence(comm, trainer.model());
        if (!comm.is_root()) return spread == 0.0 ? 0 : 1;

        // The single-process reference on the whole file, with the same global batches.
        const Dataset<std::uint8_t> all = io::load_mnist(dir, io::MnistSplit::train);
        std::vector<Index> sizes, begins;
        std::vector<IndexVector> orders;
        for (int r = 0; r < ranks; ++r) {
            const distributed::RowRange s = distributed::shard_range(n, ranks, r);
            sizes.push_back(s.count);
            begins.push_back(s.begin);
            orders.push_back(distributed::shard_order(s.count, opt.seed, 0, r));
        }
        Trainer<float> ref(init, opt);
        distributed::BatchPlan plan(sizes, opt.batch_size);
        std::vector<Index> pos(static_cast<std::size_t>(ranks), 0), rows;
        Index steps = 0;
        for (;;) {
            const std::vector<Index>& counts = plan.next();
            if (counts.empty()) break;
            rows.clear();
            for (std::size_t r = 0; r < counts.size(); ++r) {
                for (Index i = 0; i < counts[r]; ++i) rows.push_back(begins[r] + orders[r][pos[r] + i]);
                pos[r] += counts[r];
            }
            ref.step(all, rows.data(), static_cast<Index>(rows.size()), pre);
            ++steps;
        }
        const double dw = (trainer.model().weight() - ref.model().weight()).cwiseAbs().maxCoeff();
        const double db = (trainer.model().bias() - ref.model().bias()).cwiseAbs().maxCoeff();
        const Evaluation ev = evaluate(trainer.model(), io::load_mnist(dir, io::MnistSplit::test), pre);
        std::printf("%d ranks, %lld steps, train loss %.4f, test accuracy %.4f\n", ranks, static_cast<long long>(steps),
                    report.history.at(0).train_loss, ev.accuracy);
        std::printf("max |W_mpi - W_ref| = %.3g, max |b_mpi - b_ref| = %.3g, max spread between ranks = %.3g\n", dw, db,
                    spread);
        const bool ok =
            dw < 1e-5 && db < 1e-5 && spread == 0.0 && static_cast<Index>(report.batch_losses.size()) == steps;
        std::printf("%s\n", ok ? "PASSED" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d: error: %s\n", comm.rank(), e.what());
        comm.abort(2);
    }
}
