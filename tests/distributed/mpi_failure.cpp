// Run under mpirun -np 2: rank 1 dies (SIGKILL) or hangs after a few allreduces. The job must end
// with a clear message and a non-zero exit instead of waiting forever: a death is noticed by
// mpirun, a hang by the Communicator's watchdog on rank 0 (which then aborts the job).
// `kernels`: the ranks run different kernel sets (portable, sse2), which distributed training
// must refuse on every rank with a message naming both.
//   mpi_failure die|hang|kernels TIMEOUT_SECONDS
#include <logreg/distributed/mpi.hpp>

#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace logreg;
    if (argc != 3) {
        std::fprintf(stderr, "usage: mpi_failure die|hang|kernels TIMEOUT_SECONDS\n");
        return 2;
    }
    const std::string mode = argv[1];
    distributed::Environment env;
    distributed::Communicator comm(MPI_COMM_WORLD, std::atof(argv[2]));
    if (mode == "kernels") {
        const std::vector<Isa> sets = supported_isas();
        if (std::find(sets.begin(), sets.end(), Isa::sse2) == sets.end()) {
            std::printf("skipped: this CPU has one kernel set only\n");
            return 0;
        }
        const detail::ScopedKernelIsa set(comm.rank() == 0 ? Isa::portable : Isa::sse2);
        try {
            distributed::check_same_kernel_set(comm);
        } catch (const InvalidParameter& e) {
            std::fprintf(stderr, "mpi_failure: rank %d: error: %s\n", comm.rank(), e.what());
            return 3;
        }
        std::printf("different kernel sets were not noticed\n");
        return 0;
    }
    std::vector<float> buffer(7864, 1.0f);  // the size of an MNIST gradient
    try {
        for (int step = 0; step < 1000; ++step) {
            if (comm.rank() == 1 && step == 5) {
                std::fprintf(stderr, "rank 1: %s now (test)\n", mode == "die" ? "dying" : "hanging");
                if (mode == "die") std::raise(SIGKILL);
                ::sleep(3600);  // mpirun kills it when rank 0 aborts
            }
            comm.allreduce_sum(buffer.data(), static_cast<Index>(buffer.size()), "gradient");
            std::fill(buffer.begin(), buffer.end(), 1.0f);
        }
    } catch (const distributed::CommunicationError& e) {
        std::fprintf(stderr, "mpi_failure: error: %s\n", e.what());
        comm.abort(3);
    }
    std::printf("no failure happened\n");
    return 0;
}
