#pragma once

// Parallel loops over the rows (examples) whose reductions come out the same, bit for bit, on
// every run at a given thread count: the rows are cut into a number of chunks fixed by the
// thread count, each chunk sums into its own slot, and the slots are added in chunk order.

#include <algorithm>
#include <cstdint>

#include <ATen/Parallel.h>

namespace twolayer {
namespace cpu {

// Below this many rows per chunk, a thread costs more than it saves.
constexpr int64_t kRowsPerChunk = 2048;

inline int64_t row_chunk_count(int64_t rows) {
  const int64_t wanted = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
  return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), wanted));
}

// The number of distinct threads that run the chunks of `rows` rows (row_chunk_threads.cpp).
int64_t row_chunk_threads(int64_t rows);

// Runs body(chunk, first_row, end_row) for each of `chunks` chunks of [0, rows).
template <typename Body>
void for_each_row_chunk(int64_t rows, int64_t chunks, const Body& body) {
  if (chunks == 1) {
    body(int64_t{0}, int64_t{0}, rows);
    return;
  }
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) body(c, rows * c / chunks, rows * (c + 1) / chunks);
  });
}

}  // namespace cpu
}  // namespace twolayer
