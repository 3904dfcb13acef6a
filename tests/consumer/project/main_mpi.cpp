// logreg::mpi as a downstream user links it: MPI initialised, a communicator over the world.
#include <logreg/distributed/mpi.hpp>
#include <logreg/version.hpp>

#include <iostream>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int ranks = 0;
    {
        logreg::distributed::Communicator comm;
        ranks = comm.size();
        std::cout << "logreg " << logreg::version << " consumer_mpi rank " << comm.rank() << " of " << ranks << "\n";
    }
    MPI_Finalize();
    return ranks >= 1 ? 0 : 1;
}
