// mnist_train --distributed: data-parallel training over MPI (mpirun -np P mnist_train --distributed).
//
// Each rank reads only its slice of the training files (by offset for raw files), holds out the
// --val-split fraction of its slice for validation, and trains with logreg::distributed::fit_sharded;
// the batch size is the global one. Rank 0 alone prints, evaluates the test set and writes the
// model, the metrics JSON, the report and the --checkpoint after every epoch (and when stopped:
// SIGINT or SIGTERM reaching any rank stops all of them after the same batch; --resume continues
// with the same number of processes). An error on any rank aborts the whole job (MPI_Abort), and a
// rank that stops answering makes the others fail after --mpi-timeout seconds.
// Kept out of mnist_train.cpp so that the program compiles without MPI.
#pragma once

#include "common/console.hpp"
#include "common/outputs.hpp"
#include "common/train_options.hpp"

#include <logreg/distributed/mpi.hpp>
#include <logreg/io/atomic_file.hpp>
#include <logreg/io/checkpoint.hpp>
#include <logreg/io/mnist.hpp>
#include <logreg/io/report.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <utility>

namespace examples {

/// What --checkpoint and --resume need from the program: its stop flag (set by SIGINT/SIGTERM) and
/// the record of the options that determine the weights, with a way to name what differs.
struct ResumeSupport {
    const std::atomic<bool>* stop = nullptr;
    std::string training_options;
    std::function<std::string(const std::string& saved)> differences;
};

template <typename Scalar, typename Options, typename Optimizer>
int run_distributed_checked(const Options& o, nlohmann::json settings, logreg::distributed::Communicator& comm,
                            const ResumeSupport& resume, Optimizer optimizer) {
    using namespace logreg;
    const bool root = comm.is_root();
    if (o.normalize != "unit")
        throw InvalidParameter("--normalize " + o.normalize + " is not supported with --distributed (use unit)");
    if (o.limit_train > 0) throw InvalidParameter("--limit-train is not supported with --distributed");
    if (root) print_build_info(std::cout, o.threads);

    // This rank's rows of the training files: [r N / P, (r + 1) N / P).
    // Both headers first (28x28 images, the byte limit, as many labels as images), then only this
    // rank's rows, read with the same expectations.
    const io::MnistFiles files = io::find_mnist_files(o.data, io::MnistSplit::train);
    const Index n = io::read_idx_images_info(files.images, io::mnist_image_expect()).count;
    const Index n_labels = io::read_idx_labels_info(files.labels).count;
    if (n_labels != n)
        throw FormatError(
            detail::cat(files.images, " holds ", n, " images but ", files.labels, " holds ", n_labels, " labels"));
    io::IdxExpect labels_expect;
    labels_expect.count = static_cast<std::uint32_t>(n);
    const distributed::RowRange mine = distributed::shard_range(n, comm.size(), comm.rank());
    const Dataset<std::uint8_t> slice(io::read_idx_image_rows(files.images, mine.begin, mine.count,
                                                              io::mnist_image_expect(static_cast<std::uint32_t>(n))),
                                      io::read_idx_label_rows(files.labels, mine.begin, mine.count, 10, labels_expect),
                                      10);
    // Validation: the same fraction of every slice, chosen with a per-rank seed.
    Dataset<std::uint8_t> train = slice, val;
    if (o.val_split > 0) {
        const Split s =
            train_validation_split(slice.size(), o.val_split, distributed::shard_seed(o.seed, -1, comm.rank()));
        train = slice.subset(s.train);
        val = slice.subset(s.validation);
    }
    if (root && !o.quiet)
        std::cout << "data: " << o.data << " (" << n << " train images over " << comm.size()
                  << " processes; rank 0 reads rows [" << mine.begin << ", " << mine.begin + mine.count
                  << "), global batch " << o.batch_size << ")\n";

    TrainOptions topt = examples::train_options(o);
    topt.validation_fraction = 0;  // each rank holds out its own part below
    const auto pre = Preprocessor<Scalar>::unit(784);
    Trainer<Scalar, Optimizer> trainer(LinearSoftmax<Scalar>(784, 10, parse_init(o.init), o.seed), topt,
                                       std::move(optimizer));
    // A checkpoint holds the same state on every rank; it records the number of processes, because
    // the shards and the batch plan depend on it. Every rank reads it; rank 0 alone writes it.
    const std::map<std::string, std::string> checkpoint_extra = {{"training_options", resume.training_options},
                                                                 {"processes", std::to_string(comm.size())}};
    if (!o.resume.empty()) {
        const std::map<std::string, std::string> extra = io::load_checkpoint(o.resume, trainer);
        const auto options = extra.find("training_options");
        const auto processes = extra.find("processes");
        if (options == extra.end())
            throw FormatError("--resume " + o.resume +
                              ": the checkpoint was not written by mnist_train (no training_options)");
        if (processes == extra.end() || processes->second != std::to_string(comm.size()))
            throw InvalidParameter("--resume " + o.resume + ": the checkpoint was written by " +
                                   (processes == extra.end() ? std::string("mnist_train without --distributed")
                                                             : "mpirun -np " + processes->second) +
                                   ", this run has " + std::to_string(comm.size()) +
                                   " processes; resume it with the same number");
        if (options->second != resume.training_options)
            throw InvalidParameter("--resume " + o.resume + ": the checkpoint was made with other options (" +
                                   resume.differences(options->second) +
                                   "); resume with the options of the interrupted run");
        TrainOptions rest = topt;
        rest.epochs = o.epochs - trainer.epochs_done();
        trainer.set_options(rest);
        if (root && !o.quiet)
            std::cout << "resumed from " << o.resume << " after epoch " << trainer.epochs_done() << "\n";
    }
    const auto save_checkpoint = [&] {
        if (root && !o.checkpoint.empty()) io::save_checkpoint(o.checkpoint, trainer, checkpoint_extra);
    };
    Callbacks cb;
    cb.on_epoch = [&](const EpochRecord& e) {
        save_checkpoint();
        if (!root || o.quiet) return true;
        std::printf("epoch %3d  train loss %.4f", e.epoch, e.train_loss);
        if (std::isfinite(e.val_loss)) std::printf("  val loss %.4f  val acc %.4f", e.val_loss, e.val_accuracy);
        std::printf("  lr %.4g  %.3fs\n", e.lr, e.seconds);
        std::fflush(stdout);
        return true;
    };
    cb.stop = resume.stop;
    trainer.set_callbacks(cb);
    const TrainReport report = distributed::fit_sharded(trainer, train, pre, comm, o.val_split > 0 ? &val : nullptr);
    if (report.reason == StopReason::diverged) {
        if (root) std::cerr << "mnist_train: error: " << report.message << "\n";
        return 3;
    }
    if (report.reason == StopReason::interrupted) {  // on every rank after the same batch
        save_checkpoint();
        if (root)
            std::cerr << "mnist_train: " << report.message
                      << (o.checkpoint.empty()
                              ? " (no --checkpoint given: the progress is lost)"
                              : "; checkpoint saved to " + o.checkpoint +
                                    " (continue with the same options and --resume " + o.checkpoint + ")")
                      << "\n";
        return 130;
    }
    if (!root) return 0;  // rank 0 alone evaluates, prints and writes

    double train_seconds = 0;
    for (const auto& e : report.history) train_seconds += e.seconds;
    const auto test = io::load_mnist(o.data, io::MnistSplit::test);
    const Evaluation ev = evaluate(trainer.model(), test, pre);
    const ClassificationReport cls = classification_report(ev.predictions, ev.labels, 10);
    std::printf("test accuracy %.4f  test loss %.4f  (%zu epochs, %d processes, %.2fs training, %.1f ms/epoch)\n",
                ev.accuracy, ev.loss, report.history.size(), comm.size(), train_seconds,
                1000 * train_seconds / static_cast<double>(std::max<std::size_t>(1, report.history.size())));
    if (!o.quiet) print_classification(std::cout, cls, digit_names());
    settings["distributed"] = true;
    settings["ranks"] = comm.size();

    examples::write_outputs(o, settings, "logreg on MNIST (" + std::to_string(comm.size()) + " processes)",
                            trainer.model(), pre, test, ev, cls, report, train_seconds);
    return 0;
}

/// The --distributed entry point: an error on any rank ends the whole job with its message.
template <typename Options>
int run_distributed(const Options& o, const nlohmann::json& settings, const ResumeSupport& resume) {
    logreg::distributed::Environment env;
    logreg::distributed::Communicator comm(MPI_COMM_WORLD, o.mpi_timeout);
    try {
        return with_optimizer<float>(o, [&](auto optimizer) {
            return run_distributed_checked<float>(o, settings, comm, resume, std::move(optimizer));
        });
    } catch (const std::exception& e) {
        std::cerr << "mnist_train: error (rank " << comm.rank() << " of " << comm.size() << "): " << e.what() << "\n";
        std::cerr.flush();
        comm.abort(2);  // the other ranks would otherwise wait in the next collective
    }
}

}  // namespace examples
