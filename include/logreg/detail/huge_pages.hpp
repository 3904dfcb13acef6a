// logreg/detail/huge_pages.hpp - asks the OS to back a large array with huge pages.
//
// A shuffled epoch reads the rows of the data set in random order. With 4 KiB pages nearly
// every row lies on a page the TLB has not seen, so each row costs a page walk on top of its
// cache misses (MNIST: 47 MB = 11,500 pages, far beyond the TLB). With 2 MiB pages the whole
// set needs 23 TLB entries, and an epoch no longer waits on page walks.
//
// This is advice only: where transparent huge pages are off or unsupported (not Linux), nothing
// happens and nothing fails. Arrays under 32 MiB are left alone: they are cheap to walk anyway,
// a synchronous collapse would cost more than it saves for short-lived ones (partial_fit's
// batches), and glibc serves only allocations of 32 MiB and more from their own mappings for
// sure (smaller ones may share the heap, where the advice would outlive the array).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace logreg::detail {

/// Advises the kernel to use transparent huge pages for the 2 MiB-aligned part of
/// [data, data + bytes), and to collapse pages already touched into huge pages now rather than
/// whenever the kernel's background thread gets to them.
inline void advise_huge_pages(const void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t huge = std::uintptr_t{1} << 21;
    const auto begin = reinterpret_cast<std::uintptr_t>(data);
    const std::uintptr_t first = (begin + huge - 1) & ~(huge - 1);
    const std::uintptr_t last = (begin + bytes) & ~(huge - 1);
    constexpr std::size_t min_bytes = std::size_t{32} << 20;
    if (data == nullptr || bytes < min_bytes || last <= first) return;
    void* range = reinterpret_cast<void*>(first);
    const std::size_t length = last - first;
    if (madvise(range, length, MADV_HUGEPAGE) != 0) return;  // THP disabled: keep 4 KiB pages
    // MADV_COLLAPSE (Linux >= 6.1; older kernels return EINVAL, which is fine). Its value is
    // spelled out because glibc 2.36's <sys/mman.h> does not name it yet.
    constexpr int madv_collapse = 25;
    (void)madvise(range, length, madv_collapse);
#else
    (void)data, (void)bytes;
#endif
}

}  // namespace logreg::detail
