// Which instruction-set extensions the build assumed (the compiler's feature macros under -march) against those the
// CPU has (cpuid through __builtin_cpu_supports). The check itself is compiled for the x86-64 baseline, so it runs
// on any x86-64 CPU whatever level the rest of the build targets.
#include "cpu_features.h"
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#if defined(__x86_64__)
__attribute__((target("arch=x86-64")))
const char *seam_cpu_missing_feature(void) {
    __builtin_cpu_init();
#if defined(__SSE4_2__)
    if (!__builtin_cpu_supports("sse4.2")) return "SSE4.2";
#endif
#if defined(__POPCNT__)
    if (!__builtin_cpu_supports("popcnt")) return "POPCNT";
#endif
#if defined(__AVX__)
    if (!__builtin_cpu_supports("avx")) return "AVX";
#endif
#if defined(__AVX2__)
    if (!__builtin_cpu_supports("avx2")) return "AVX2";
#endif
#if defined(__BMI2__)
    if (!__builtin_cpu_supports("bmi2")) return "BMI2";
#endif
#if defined(__FMA__)
    if (!__builtin_cpu_supports("fma")) return "FMA";
#endif
#if defined(__AVX512F__)
    if (!__builtin_cpu_supports("avx512f")) return "AVX-512F";
#endif
    return NULL;
}

// Runs when the program is loaded, before main and before any Swift code of ours: with -march=x86-64-v3 the compiler
// uses AVX instructions anywhere (copies, zeroing), so a check in Swift's main can itself die of an illegal
// instruction on an older CPU (seen under qemu-x86_64 -cpu Nehalem: SIGILL before main's check). Baseline code.
__attribute__((constructor(101), target("arch=x86-64")))
static void seam_cpu_check_at_load(void) {
    const char *missing = seam_cpu_missing_feature();
    if (missing == NULL) return;
    fprintf(stderr,
            "seam: this build was compiled for %s and this CPU lacks %s; rebuild for it with "
            "`make build MARCH=x86-64-v2` (SSE4.2, CPUs since 2009), `make build MARCH=x86-64` (every x86-64 CPU) "
            "or `swift build -c release`.\n",
            seam_cpu_build_level(), missing);
    _exit(2);
}

__attribute__((target("arch=x86-64")))
const char *seam_cpu_build_level(void) {
#if defined(__AVX512F__)
    return "x86-64-v4";
#elif defined(__AVX2__)
    return "x86-64-v3";
#elif defined(__SSE4_2__) && defined(__POPCNT__)
    return "x86-64-v2";
#else
    return "x86-64";
#endif
}
#else
const char *seam_cpu_missing_feature(void) { return NULL; }
#if defined(__aarch64__)
const char *seam_cpu_build_level(void) { return "arm64"; }
#else
const char *seam_cpu_build_level(void) { return "unknown"; }
#endif
#endif
