/* Memory-read bandwidth probe for `make compare`: THREADS threads each sum their slice of a buffer much larger than
   the caches, several passes; prints the best pass in GB/s (10^9 bytes per second). The sum is printed too, so the
   compiler cannot drop the reads. Usage: membw THREADS [MIB] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { const uint64_t *p; size_t n; uint64_t sum; } slice_t;

static void *sum_slice(void *arg) {
    slice_t *s = arg;
    /* Four independent accumulators so the loop is bound by loads, not by one add chain; -O3 vectorizes it. */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 4 <= s->n; i += 4) { a += s->p[i]; b += s->p[i + 1]; c += s->p[i + 2]; d += s->p[i + 3]; }
    for (; i < s->n; i++) a += s->p[i];
    s->sum = a + b + c + d;
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 2048;
    if (threads < 1 || threads > 256 || mib < 64) { fprintf(stderr, "usage: membw THREADS [MIB>=64]\n"); return 2; }
    size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
    uint64_t *buf = malloc(n * sizeof(uint64_t));
    if (!buf) { fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib); return 1; }
    for (size_t i = 0; i < n; i++) buf[i] = i; /* touch every page before timing */
    pthread_t tid[256];
    slice_t sl[256];
    double best = 1e30;
    uint64_t total = 0;
    for (int pass = 0; pass < 7; pass++) {
        double t0 = now();
        for (int t = 0; t < threads; t++) {
            size_t lo = n * t / threads, hi = n * (t + 1) / threads;
            sl[t] = (slice_t){ buf + lo, hi - lo, 0 };
            pthread_create(&tid[t], NULL, sum_slice, &sl[t]);
        }
        total = 0;
        for (int t = 0; t < threads; t++) { pthread_join(tid[t], NULL); total += sl[t].sum; }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("%.2f GB/s (%d thread(s), %zu MiB, best of 7 passes, checksum %llu)\n",
           n * sizeof(uint64_t) / best / 1e9, threads, mib, (unsigned long long)total);
    free(buf);
    return 0;
}
