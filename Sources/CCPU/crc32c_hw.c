// The one thing Swift cannot emit: the x86-64 CRC-32C instruction (SSE4.2). The function carries its own target
// attribute, so the rest of the build stays portable; callers check seam_crc32c_hw_available() once.
#include "crc32c_hw.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int seam_crc32c_hw_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t seam_crc32c_hw_update(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n > 0) {
        c32 = _mm_crc32_u8(c32, *p);
        p += 1;
        n -= 1;
    }
    return c32;
}
#else
int seam_crc32c_hw_available(void) { return 0; }
uint32_t seam_crc32c_hw_update(uint32_t crc, const void *data, size_t n) {
    (void)data;
    (void)n;
    return crc;
}
#endif
