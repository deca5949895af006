#ifndef SEAM_CRC32C_HW_H
#define SEAM_CRC32C_HW_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction (x86-64 SSE4.2), else 0.
int seam_crc32c_hw_available(void);

/// CRC-32C of `n` bytes continuing from the raw (inverted) state `crc`, with the CPU's instruction.
/// Call only when seam_crc32c_hw_available() is 1.
uint32_t seam_crc32c_hw_update(uint32_t crc, const void *data, size_t n);

#endif
