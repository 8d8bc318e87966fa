// `leadbench run --nproc N`: N local data-parallel ranks, started as torchrun would start them.
#pragma once

#include <string>
#include <vector>

namespace lb {

// Starts N copies of `leadbench run ARGS` (this executable) with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free MASTER_PORT, and waits for them. When a rank
// fails (non-zero exit or a signal), it says which, gives the others a few seconds to stop on
// their own (their collectives fail when a peer's connection closes, or after runtime.dist_timeout),
// then terminates them. SIGINT/SIGTERM to the launcher go to every rank. Returns 0 when all ranks
// succeed, else the failed rank's exit status (1 for a signal).
int launch_local_ranks(int nproc, const std::vector<std::string>& run_args);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_local_port();

}  // namespace lb
