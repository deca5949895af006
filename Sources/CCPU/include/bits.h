#ifndef SEAM_BITS_H
#define SEAM_BITS_H
#include <stdint.h>

/// 1 when this build may use BMI2's PEXT and PDEP (compiled for x86-64-v3 or above, which the start-up check
/// confirms the CPU has), else 0. Swift has no way to emit them.
#if defined(__BMI2__)
#define SEAM_BUILD_HAS_BMI2 1
#else
#define SEAM_BUILD_HAS_BMI2 0
#endif

/// The bits of `x` at the set bits of `mask`, packed into the low bits in order (x86 PEXT; a loop without BMI2).
static inline uint64_t seam_bits_extract(uint64_t x, uint64_t mask) {
#if defined(__BMI2__)
    return __builtin_ia32_pext_di(x, mask);
#else
    uint64_t out = 0;
    for (uint64_t k = 1; mask != 0; k <<= 1, mask &= mask - 1) {
        if (x & mask & (0 - mask)) out |= k;
    }
    return out;
#endif
}

/// The low bits of `x`, in order, placed at the set bits of `mask` (x86 PDEP; a loop without BMI2).
static inline uint64_t seam_bits_deposit(uint64_t x, uint64_t mask) {
#if defined(__BMI2__)
    return __builtin_ia32_pdep_di(x, mask);
#else
    uint64_t out = 0;
    for (uint64_t k = 1; mask != 0; k <<= 1, mask &= mask - 1) {
        if (x & k) out |= mask & (0 - mask);
    }
    return out;
#endif
}

#endif
