// How many distinct threads run the row chunks of a batch: what tells, without timing, that
// the row loops really run in parallel (at::parallel_for is a #pragma omp region compiled into
// this library, so a build without the compiler's OpenMP flag runs them all on one thread).

#include <mutex>
#include <set>
#include <thread>

#include "ops/cpu/row_chunks.h"

namespace twolayer {
namespace cpu {

int64_t row_chunk_threads(int64_t rows) {
  TORCH_CHECK(rows >= 1, "twolayer: rows must be >= 1, but got ", rows);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  for_each_row_chunk(rows, row_chunk_count(rows), [&](int64_t, int64_t, int64_t) {
    const std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  return static_cast<int64_t>(threads.size());
}

}  // namespace cpu
}  // namespace twolayer
