#ifndef SEAM_CPU_FEATURES_H
#define SEAM_CPU_FEATURES_H

/// The name of the first instruction-set extension this build was compiled to use (its -march level, as the
/// compiler's feature macros say) that the running CPU lacks, or NULL when it has them all. A program built for
/// x86-64-v2 or v3 checks this before its own code runs, so an older CPU gets a message instead of SIGILL.
const char *seam_cpu_missing_feature(void);

/// The instruction-set level this build was compiled for: "x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4" or the
/// architecture's name elsewhere.
const char *seam_cpu_build_level(void);

/// 1 when this build's code may use 256-bit integer vectors (AVX2: compiled for x86-64-v3 or above), else 0. Swift
/// sees the same compiler flags, so a kernel whose fast form needs AVX2 picks it by this constant at compile time.
#if defined(__AVX2__)
#define SEAM_BUILD_HAS_AVX2 1
#else
#define SEAM_BUILD_HAS_AVX2 0
#endif

#endif
