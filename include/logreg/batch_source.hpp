// logreg/batch_source.hpp - where the trainer's batches come from.
//
// The trainer's epoch driver (Trainer::fit) asks a batch source for the batches of each epoch and
// does everything else itself: the steps, schedules, divergence checks, callbacks, early stopping,
// interruption and resume. The library has three sources: DatasetBatches (an in-memory Dataset,
// below), io::MappedBatches (a memory-mapped IDX file, io/mmap_idx.hpp) and
// distributed::ShardBatches (one MPI rank's shard, distributed/mpi.hpp). A user's own source is a
// class with these members (docs/design.md, "Adding a batch source"):
//
//   using feature_type = ...;            uint8_t, float or double: the type of the stored features
//   Index num_features() const;  Index num_classes() const;
//   Index max_batch_rows(Index batch_size) const;
//       the most rows a batch of this source will have (sizes the workspaces once per fit)
//   Index begin_epoch(const EpochInfo&);
//       starts an epoch and returns its number of batches (>= 1); may shuffle with info.rng, which
//       the trainer rewinds on an interruption so that a resumed epoch draws the same order
//   void seek(Index batch);
//       skips to batch `batch` of the epoch just begun (a resume after an interruption)
//   BatchView<feature_type> next_batch();
//       the next batch: rows of a feature matrix, valid until the next call. A batch may be empty
//       (an MPI rank whose shard has run out still takes part in the step)
//
// A source must hand out the same batches for the same EpochInfo and RNG state: that is what
// makes an interrupted run resume bitwise.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/random.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace logreg {

/// The random number generator the trainer shuffles with (a fixed, portable sequence).
using Rng = detail::Rng;

/// What a batch source learns at the start of an epoch (from the trainer's options and state).
struct EpochInfo {
    int epoch = 0;           ///< 0-based: the number of epochs completed before this one
    Index batch_size = 64;   ///< TrainOptions::batch_size
    bool shuffle = true;     ///< TrainOptions::shuffle
    std::uint64_t seed = 0;  ///< TrainOptions::seed, for sources that derive their order from it
    Rng* rng = nullptr;      ///< the trainer's RNG, for sources that shuffle with it
};

/// One batch: rows[0..count) of `features` (with their labels and, if not empty, sample weights).
/// next_rows[0..next_count) may name the following batch's rows, which are then prefetched.
template <typename Feature>
struct BatchView {
    const RowMatrix<Feature>* features = nullptr;
    const LabelVector* labels = nullptr;
    const Vector<double>* sample_weights = nullptr;  ///< null or empty: every row weighs 1
    const Index* rows = nullptr;
    Index count = 0;
    const Index* next_rows = nullptr;
    Index next_count = 0;
};

/// The in-memory source: the given rows of a Dataset in batches of batch_size, reshuffled every
/// epoch with the trainer's RNG (like PyTorch's RandomSampler). Allocates nothing after the first
/// epoch. The Dataset must outlive the source.
template <typename Feature>
class DatasetBatches {
public:
    using feature_type = Feature;

    DatasetBatches(const Dataset<Feature>& data, IndexVector rows) : data_(&data), rows_(std::move(rows)) {
        if (rows_.size() == 0) throw DataError("DatasetBatches: no training rows");
        for (Index i = 0; i < rows_.size(); ++i)
            if (rows_[i] < 0 || rows_[i] >= data.size())
                throw InvalidParameter(
                    detail::cat("DatasetBatches: row ", rows_[i], " is out of range [0, ", data.size(), ")"));
    }
    /// Every row of `data`.
    explicit DatasetBatches(const Dataset<Feature>& data) : DatasetBatches(data, iota(data.size())) {}

    Index num_features() const { return data_->num_features(); }
    Index num_classes() const { return data_->num_classes(); }
    Index max_batch_rows(Index batch_size) const { return std::min(batch_size, rows_.size()); }

    Index begin_epoch(const EpochInfo& info) {
        const Index n = rows_.size();
        batch_ = std::min(info.batch_size, n);
        order_ = rows_;  // a fresh permutation each epoch: the order depends on the RNG state only
        if (info.shuffle) detail::shuffle(order_.data(), n, *info.rng);
        done_ = 0;
        return (n + batch_ - 1) / batch_;
    }

    void seek(Index batch) { done_ = std::min(batch * batch_, order_.size()); }

    BatchView<Feature> next_batch() {
        const Index n = order_.size();
        const Index count = std::min(batch_, n - done_);
        const Index next = std::min(batch_, n - done_ - count);  // 0 after the last batch
        BatchView<Feature> view{&data_->features(),
                                &data_->labels(),
                                &data_->sample_weights(),
                                order_.data() + done_,
                                count,
                                order_.data() + done_ + count,
                                next};
        done_ += count;
        return view;
    }

private:
    const Dataset<Feature>* data_;
    IndexVector rows_, order_;
    Index batch_ = 1, done_ = 0;
};

namespace detail {

template <typename S, typename = void>
struct is_batch_source : std::false_type {};
template <typename S>
struct is_batch_source<S,
                       std::void_t<typename S::feature_type, decltype(Index(std::declval<const S&>().num_features())),
                                   decltype(Index(std::declval<const S&>().num_classes())),
                                   decltype(Index(std::declval<const S&>().max_batch_rows(Index{}))),
                                   decltype(Index(std::declval<S&>().begin_epoch(std::declval<const EpochInfo&>()))),
                                   decltype(std::declval<S&>().seek(Index{})),
                                   decltype(BatchView<typename S::feature_type>(std::declval<S&>().next_batch()))>>
    : std::true_type {};

}  // namespace detail
}  // namespace logreg
