// logreg/distributed/shard.hpp - how P processes split the data and each global mini-batch.
//
// MPI-free on purpose: the single-process reference in the tests replays exactly the batches that
// P processes train on, so the scheme has to be computable without a communicator.
//
// The scheme (docs/scaling.md):
//   * rank r owns the contiguous rows [floor(r N / P), floor((r + 1) N / P)) and reads only those;
//   * each epoch, rank r shuffles its own rows with a seed derived from (seed, epoch, r);
//   * every global step takes B rows (the last step of the epoch: what is left), split across the
//     ranks in proportion to the rows each still has (largest remainder, ties to the lower rank),
//     so that all ranks run out together and every rank can compute everybody's share locally;
//   * the global batch is the concatenation, in rank order, of the ranks' local batches.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/random.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace logreg::distributed {

/// Rows [begin, begin + count) of a data set of n rows.
struct RowRange {
    Index begin = 0;
    Index count = 0;
};

/// The contiguous rows that rank `rank` of `ranks` owns: [floor(rank n / ranks), floor((rank + 1) n / ranks)).
inline RowRange shard_range(Index n, int ranks, int rank) {
    if (ranks < 1 || rank < 0 || rank >= ranks)
        throw InvalidParameter(detail::cat("shard_range: rank ", rank, " of ", ranks, " ranks is invalid"));
    if (n < 0) throw InvalidParameter(detail::cat("shard_range: n is ", n, "; it must be >= 0"));
    // n * rank may overflow 64 bits only beyond 2^54 rows with 512 ranks: not a concern here.
    const Index b = n * rank / ranks, e = n * (rank + 1) / ranks;
    return {b, e - b};
}

/// The seed of rank `rank`'s shuffle in epoch `epoch` (0-based): a SplitMix64 mix, so that the
/// streams of neighbouring ranks and epochs are unrelated.
inline std::uint64_t shard_seed(std::uint64_t seed, int epoch, int rank) {
    std::uint64_t z = seed;
    for (std::uint64_t v : {static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(rank)}) {
        z += 0x9e3779b97f4a7c15ULL + v;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
    }
    return z;
}

/// The order in which a rank visits its `local_rows` rows in an epoch (indices into its shard).
inline IndexVector shard_order(Index local_rows, std::uint64_t seed, int epoch, int rank, bool shuffle = true) {
    return shuffle ? shuffled_indices(local_rows, shard_seed(seed, epoch, rank)) : iota(local_rows);
}

/// Splits every global batch of one epoch across the ranks; identical on every rank.
class BatchPlan {
public:
    /// `shard_rows[r]`: rows rank r trains on this epoch; `global_batch`: B.
    BatchPlan(std::vector<Index> shard_rows, Index global_batch)
        : remaining_(std::move(shard_rows)), batch_(global_batch), counts_(remaining_.size()),
          order_(remaining_.size()) {
        if (global_batch < 1)
            throw InvalidParameter(detail::cat("BatchPlan: global batch is ", global_batch, "; it must be >= 1"));
        if (remaining_.empty()) throw InvalidParameter("BatchPlan: no ranks");
        for (Index n : remaining_) {
            if (n < 0) throw InvalidParameter("BatchPlan: a shard has a negative row count");
            total_ += n;
        }
    }

    /// Global steps in the epoch: ceil(N / B).
    Index steps() const { return (total_ + batch_ - 1) / batch_; }
    /// Rows not yet handed out.
    Index remaining() const { return total_; }

    /// The next step's local batch sizes, one per rank (valid until the next call); empty at the end.
    const std::vector<Index>& next() {
        if (total_ == 0) {
            counts_.clear();
            return counts_;
        }
        const Index take = std::min(batch_, total_);
        Index given = 0;
        for (std::size_t r = 0; r < remaining_.size(); ++r) {
            // take * remaining <= B * N: fine in 64 bits for any realistic B and N.
            counts_[r] = take * remaining_[r] / total_;
            given += counts_[r];
            order_[r] = r;
        }
        // The rows still to hand out go to the largest remainders (ties: lower rank first).
        // (std::sort with an explicit tie-break: deterministic, and unlike stable_sort it never allocates.)
        std::sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
            const Index ra = take * remaining_[a] % total_, rb = take * remaining_[b] % total_;
            return ra != rb ? ra > rb : a < b;
        });
        for (std::size_t k = 0; given < take; ++k, ++given) ++counts_[order_[k]];
        for (std::size_t r = 0; r < remaining_.size(); ++r) remaining_[r] -= counts_[r];
        total_ -= take;
        return counts_;
    }

private:
    std::vector<Index> remaining_;
    Index batch_ = 1;
    Index total_ = 0;
    std::vector<Index> counts_;
    std::vector<std::size_t> order_;
};

}  // namespace logreg::distributed
