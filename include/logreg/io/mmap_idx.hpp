// logreg/io/mmap_idx.hpp - training on an uncompressed IDX image file larger than memory.
//
// The pixels stay on disk: the file is memory-mapped one window of rows at a time (so the
// address space stays bounded too, and a `ulimit -v` below the file size does not stop it), the
// rows of each mini-batch are copied out of the mapping as bytes (B x 784 bytes for MNIST-shaped
// data) and converted to Scalar by the usual gather of the training step. Only the labels
// (one int per row) are held in memory.
//
// Order of an epoch: the windows in a random order, the rows of each window in a random order,
// batches cut from that stream (a batch may straddle two windows). Reading a window is then a
// sequential scan of the disk rather than one random page per row - the price is that the
// shuffle is "local within windows", not a full permutation of the file (docs/scaling.md).
//
// POSIX only (mmap). A gzip file cannot be mapped: decompress it first (gunzip).
//
// A file that shrinks while mapped (truncated, or rewritten in place by another program) makes
// every read of a page past its new end raise SIGBUS, which by default kills the process without
// a word. Two defences, on purpose, because neither is enough alone:
//   - MappedBatches checks the file's size with fstat() before each batch (one system call per
//     batch, nothing next to the batch's gradient) and throws IoError naming the file. The usual
//     case - the file replaced or truncated while training runs - then ends like any other bad
//     input: an exception, the trainer's state intact, the program's own error path.
//   - The size can still change between that check and the copy. Only a SIGBUS handler catches
//     that, and a signal disposition belongs to the whole process, so the library never installs
//     one by itself: a program opts in with install_mapped_file_guard(). The handler cannot turn
//     the fault into an exception (unwinding out of a signal handler is undefined behaviour), so
//     it writes one line naming the file (write(2), async-signal-safe) and ends the process with
//     _exit(2); a SIGBUS at any other address goes to the handler that was installed before.
//     Mappings are registered in a fixed table (max_guarded_mappings) that the handler reads
//     with lock-free atomics.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/distributed/shard.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/input_file.hpp>
#include <logreg/io/idx.hpp>
#include <logreg/train.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>

namespace logreg::io {

/// How many mappings the SIGBUS guard can tell apart at once (each MmapIdxDataset holds one).
inline constexpr std::size_t max_guarded_mappings = 64;

namespace detail {

/// One mapped byte range and the file it shows; begin == 0 marks a free slot.
struct GuardedMapping {
    std::atomic<bool> used{false};
    std::atomic<std::uintptr_t> begin{0};
    std::atomic<std::uintptr_t> end{0};
    std::atomic<const char*> path{nullptr};
};
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free && std::atomic<const char*>::is_always_lock_free,
              "the SIGBUS guard reads the mapping table from a signal handler: it needs lock-free atomics");

// Constant-initialised: the handler never runs a static initialiser.
inline GuardedMapping guarded_mappings[max_guarded_mappings];
inline std::atomic<bool> mapped_file_guard_installed{false};
inline std::atomic<int> mapped_file_guard_exit_code{2};
inline struct sigaction previous_sigbus_action {};

/// Registers [p, p + n) as a mapping of `path` (whose text must outlive the registration); the
/// slot to pass to unguard_mapping, or -1 when the table is full (the mapping is then unguarded).
inline int guard_mapping(const void* p, std::size_t n, const char* path) {
    for (std::size_t i = 0; i < max_guarded_mappings; ++i) {
        GuardedMapping& m = guarded_mappings[i];
        if (m.used.exchange(true, std::memory_order_acq_rel)) continue;
        m.path.store(path, std::memory_order_relaxed);
        m.end.store(reinterpret_cast<std::uintptr_t>(p) + n, std::memory_order_relaxed);
        m.begin.store(reinterpret_cast<std::uintptr_t>(p), std::memory_order_release);  // published last
        return static_cast<int>(i);
    }
    return -1;
}

inline void unguard_mapping(int slot) {
    if (slot < 0) return;
    GuardedMapping& m = guarded_mappings[static_cast<std::size_t>(slot)];
    m.begin.store(0, std::memory_order_release);
    m.end.store(0, std::memory_order_relaxed);
    m.path.store(nullptr, std::memory_order_relaxed);
    m.used.store(false, std::memory_order_release);
}

/// The file mapped at `addr`, or nullptr. Async-signal-safe.
inline const char* guarded_mapping_at(std::uintptr_t addr) {
    for (const GuardedMapping& m : guarded_mappings) {
        const std::uintptr_t b = m.begin.load(std::memory_order_acquire);
        if (b != 0 && addr >= b && addr < m.end.load(std::memory_order_relaxed))
            return m.path.load(std::memory_order_relaxed);
    }
    return nullptr;
}

/// write(2) of a C string, for the signal handler (no strlen: it need not be async-signal-safe).
inline void write_to_stderr(const char* s) {
    std::size_t n = 0;
    while (s[n] != '\0') ++n;
    while (n > 0) {
        const ssize_t w = ::write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w;
        n -= static_cast<std::size_t>(w);
    }
}

extern "C" inline void logreg_mapped_file_sigbus(int sig, siginfo_t* info, void* context) {
    const char* path = info ? guarded_mapping_at(reinterpret_cast<std::uintptr_t>(info->si_addr)) : nullptr;
    if (path) {
        write_to_stderr("logreg: error: the memory-mapped file '");
        write_to_stderr(path);
        write_to_stderr(
            "' became shorter while it was being read (truncated or rewritten by another program); "
            "stopping (SIGBUS)\n");
        ::_exit(mapped_file_guard_exit_code.load(std::memory_order_relaxed));
    }
    // Not a mapping of ours: whatever handled SIGBUS before.
    const struct sigaction& prev = previous_sigbus_action;
    if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
        prev.sa_sigaction(sig, info, context);
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
        prev.sa_handler(sig);
    } else {
        // The default action (a fault cannot be ignored): reset it and let the signal end the
        // process as it would have without us. raise() leaves it pending until this handler returns.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        ::sigaction(sig, &dfl, nullptr);
        ::raise(sig);
    }
}

}  // namespace detail

/// Makes a SIGBUS in a mapping of MmapIdxDataset (its file shrank while mapped; see the top of this
/// file) end the process with one line on stderr naming the file and the exit code `exit_code`,
/// instead of a silent kill. Opt-in, because a signal handler belongs to the whole process; a
/// SIGBUS anywhere else goes to the previously installed handler (or the default action). Call it
/// once, early, from the main thread; later calls only update the exit code. Returns false if
/// sigaction() failed.
inline bool install_mapped_file_guard(int exit_code = 2) {
    detail::mapped_file_guard_exit_code.store(exit_code);
    if (detail::mapped_file_guard_installed.exchange(true)) return true;
    struct sigaction sa {};
    sa.sa_sigaction = detail::logreg_mapped_file_sigbus;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO;
    if (::sigaction(SIGBUS, &sa, &detail::previous_sigbus_action) != 0) {
        detail::mapped_file_guard_installed.store(false);
        return false;
    }
    return true;
}

/// An IDX image file (magic 0x00000803, uncompressed) mapped a window of rows at a time, with its labels.
class MmapIdxDataset {
public:
    /// `window_bytes`: how much of the file is mapped at once (rounded to whole rows, at least one).
    /// Only regular files are opened (a FIFO or device is refused at once, never waited on).
    MmapIdxDataset(const std::string& images_path, const std::string& labels_path, int num_classes,
                   std::uint64_t window_bytes = std::uint64_t{64} << 20)
        : path_(images_path), file_(images_path), num_classes_(num_classes) {
        using logreg::detail::cat;
        read_header();
        // The label file's header first: a count that differs is refused before its body is read.
        const IdxInfo labels_info = read_idx_labels_info(labels_path);
        if (labels_info.count != rows_)
            throw FormatError(cat(images_path, " holds ", rows_, " images but ", labels_path, " holds ",
                                  labels_info.count, " labels"));
        IdxExpect labels_expect;
        labels_expect.count = static_cast<std::uint32_t>(rows_);
        labels_ = read_idx_labels(labels_path, num_classes, labels_expect);
        window_rows_ = std::max<Index>(1, static_cast<Index>(window_bytes / static_cast<std::uint64_t>(cols_)));
        page_ = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    }
    MmapIdxDataset(const MmapIdxDataset&) = delete;
    MmapIdxDataset& operator=(const MmapIdxDataset&) = delete;
    ~MmapIdxDataset() { unmap(); }

    Index size() const { return rows_; }
    Index num_features() const { return cols_; }
    int num_classes() const { return num_classes_; }
    const LabelVector& labels() const { return labels_; }
    /// Rows per mapped window.
    Index window_rows() const { return window_rows_; }
    /// Windows in the file: ceil(size / window_rows).
    Index windows() const { return (rows_ + window_rows_ - 1) / window_rows_; }

    /// Throws IoError naming the file if it is now shorter than its header says (it was truncated
    /// or rewritten while mapped): reading the missing pages would raise SIGBUS. One fstat().
    void check_file_size() const {
        using logreg::detail::cat;
        struct stat st {};
        if (::fstat(file_.fd(), &st) != 0) throw IoError(cat(path_, ": cannot stat: ", std::strerror(errno)));
        const std::uint64_t expected = header_ + static_cast<std::uint64_t>(rows_) * static_cast<std::uint64_t>(cols_);
        if (static_cast<std::uint64_t>(st.st_size) < expected)
            throw IoError(cat(path_, ": the file shrank to ", st.st_size,
                              " bytes while memory-mapped (its header needs ", expected,
                              "): it was truncated or rewritten while training read it"));
    }

    /// Maps window `w` (replacing the previous mapping) and returns a pointer to its first row;
    /// valid until the next call. Rows of the window: [w * window_rows, min(size, (w + 1) * window_rows)).
    /// Checks the file size first (check_file_size); reads through the pointer are guarded against a
    /// file that shrinks later only by install_mapped_file_guard().
    const std::uint8_t* map_window(Index w) {
        using logreg::detail::cat;
        if (w < 0 || w >= windows())
            throw InvalidParameter(cat("MmapIdxDataset: window ", w, " is outside [0, ", windows(), ")"));
        unmap();
        check_file_size();
        const Index first = w * window_rows_, count = std::min(window_rows_, rows_ - first);
        const std::uint64_t begin = header_ + static_cast<std::uint64_t>(first) * static_cast<std::uint64_t>(cols_);
        const std::uint64_t aligned = begin / page_ * page_;  // mmap offsets must be page-aligned
        length_ = static_cast<std::size_t>(begin - aligned +
                                           static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(cols_));
        void* p = ::mmap(nullptr, length_, PROT_READ, MAP_PRIVATE, file_.fd(), static_cast<off_t>(aligned));
        if (p == MAP_FAILED) {
            length_ = 0;
            throw IoError(cat(path_, ": cannot map rows [", first, ", ", first + count, "): ", std::strerror(errno)));
        }
        map_ = p;
        guard_slot_ = detail::guard_mapping(map_, length_, path_.c_str());
        // The rows of a window are visited in random order: read the whole window ahead.
        ::madvise(map_, length_, MADV_WILLNEED);
        return static_cast<const std::uint8_t*>(map_) + (begin - aligned);
    }

private:
    void read_header() {
        using logreg::detail::cat;
        unsigned char h[16];
        if (::pread(file_.fd(), h, sizeof h, 0) != static_cast<ssize_t>(sizeof h))
            throw FormatError(cat(path_, ": too short for an IDX image header (16 bytes)"));
        if (h[0] == 0x1f && h[1] == 0x8b)
            throw FormatError(cat(path_,
                                  ": the file is gzip-compressed; memory mapping needs the raw IDX file "
                                  "(decompress it first with gunzip)"));
        if (h[0] != 0 || h[1] != 0 || h[2] != 0x08 || h[3] != 3)
            throw FormatError(cat(path_, ": not an IDX image file of unsigned bytes (magic 0x00000803 expected)"));
        const auto be32 = [&](int at) {
            return (std::uint64_t{h[at]} << 24) | (std::uint64_t{h[at + 1]} << 16) | (std::uint64_t{h[at + 2]} << 8) |
                   std::uint64_t{h[at + 3]};
        };
        const std::uint64_t n = be32(4), r = be32(8), c = be32(12);
        if (n == 0 || r == 0 || c == 0) throw FormatError(cat(path_, ": IDX header has a zero dimension"));
        const std::uint64_t size = file_.size();
        // n, r, c < 2^32 each: n * (r * c) fits 64 bits unless r * c >= 2^32, which no image has.
        const std::uint64_t expected = 16 + n * (r * c);
        if (r * c >= (std::uint64_t{1} << 31) || size != expected)
            throw FormatError(cat(path_, ": header claims ", n, " images of ", r, "x", c, " (", expected,
                                  " bytes with the header) but the file has ", size, " bytes"));
        rows_ = static_cast<Index>(n);
        cols_ = static_cast<Index>(r * c);
        header_ = 16;
    }

    void unmap() {
        detail::unguard_mapping(guard_slot_);  // before munmap: the range may be reused by the next mmap
        guard_slot_ = -1;
        if (map_) ::munmap(map_, length_);
        map_ = nullptr;
        length_ = 0;
    }

    std::string path_;
    detail::InputFile file_;
    int num_classes_ = 0;
    Index rows_ = 0, cols_ = 0, window_rows_ = 1;
    std::uint64_t header_ = 16, page_ = 4096;
    LabelVector labels_;
    void* map_ = nullptr;
    std::size_t length_ = 0;
    int guard_slot_ = -1;
};

/// The batch source of a memory-mapped data set (logreg/batch_source.hpp): each batch's rows are
/// copied from the mapping into a batch-sized buffer made once, in the order described at the top
/// of this file, which depends only on the seed and the epoch. The data set must outlive it.
class MappedBatches {
public:
    using feature_type = std::uint8_t;

    explicit MappedBatches(MmapIdxDataset& data) : data_(&data) {}

    Index num_features() const { return data_->num_features(); }
    Index num_classes() const { return data_->num_classes(); }
    Index max_batch_rows(Index batch_size) const { return std::min(batch_size, data_->size()); }

    Index begin_epoch(const EpochInfo& info) {
        const Index n = data_->size();
        batch_ = std::min(info.batch_size, n);
        if (x_.rows() != batch_) {
            x_.resize(batch_, data_->num_features());
            y_.resize(batch_);
            rows_ = iota(batch_);  // a staged batch is rows 0..count of the buffer
        }
        seed_ = info.seed;
        epoch_ = info.epoch;
        shuffle_ = info.shuffle;
        window_order_ = distributed::shard_order(data_->windows(), seed_, epoch_, 0, shuffle_);
        next_window_ = 0;
        window_ = nullptr;
        window_count_ = window_at_ = 0;
        return (n + batch_ - 1) / batch_;
    }

    void seek(Index batch) {
        for (Index skip = batch * batch_; skip > 0;) {  // whole windows are skipped without mapping them
            if (window_at_ == window_count_) {
                const Index w = window_order_[next_window_];
                const Index rows = std::min(data_->window_rows(), data_->size() - w * data_->window_rows());
                if (rows <= skip) {
                    ++next_window_;
                    skip -= rows;
                    continue;
                }
                open_next_window();
            }
            const Index take = std::min(skip, window_count_ - window_at_);
            window_at_ += take;
            skip -= take;
        }
    }

    BatchView<std::uint8_t> next_batch() {
        // A file truncated since the last batch: an IoError naming it, not a SIGBUS (see the top of the file).
        data_->check_file_size();
        const Index d = data_->num_features();
        Index filled = 0;
        while (filled < batch_ && (window_at_ < window_count_ || next_window_ < window_order_.size())) {
            if (window_at_ == window_count_) open_next_window();
            for (; filled < batch_ && window_at_ < window_count_; ++filled, ++window_at_) {
                const Index r = local_order_[window_at_];
                std::memcpy(x_.row(filled).data(), window_ + r * d, static_cast<std::size_t>(d));
                y_[filled] = data_->labels()[window_first_ + r];
            }
        }
        return BatchView<std::uint8_t>{&x_, &y_, &no_weights_, rows_.data(), filled};
    }

private:
    void open_next_window() {
        const Index w = window_order_[next_window_++];
        window_ = data_->map_window(w);
        window_first_ = w * data_->window_rows();
        window_count_ = std::min(data_->window_rows(), data_->size() - window_first_);
        window_at_ = 0;
        // Rows within the window: a seed per (epoch, window), so the order is reproducible.
        local_order_ = distributed::shard_order(window_count_, seed_ ^ 0x6a09e667f3bcc909ULL, epoch_,
                                                static_cast<int>(w), shuffle_);
    }

    MmapIdxDataset* data_;
    RowMatrix<std::uint8_t> x_;
    LabelVector y_;
    IndexVector rows_, window_order_, local_order_;
    const Vector<double> no_weights_;
    Index batch_ = 1, next_window_ = 0, window_first_ = 0, window_count_ = 0, window_at_ = 0;
    const std::uint8_t* window_ = nullptr;
    std::uint64_t seed_ = 0;
    int epoch_ = 0;
    bool shuffle_ = true;
};

/// Trains trainer.options().epochs epochs on a memory-mapped data set (see the top of this file)
/// with the trainer's epoch driver: the same callbacks, divergence checks, early stopping (with a
/// validator), interruption and resume as in memory.
template <typename Scalar, typename Optimizer, typename Loss>
TrainReport fit_mapped(Trainer<Scalar, Optimizer, Loss>& trainer, MmapIdxDataset& data, const Preprocessor<Scalar>& pre,
                       const typename Trainer<Scalar, Optimizer, Loss>::Validator& validate = {}) {
    MappedBatches source(data);
    return trainer.fit(source, pre, validate);
}

}  // namespace logreg::io
