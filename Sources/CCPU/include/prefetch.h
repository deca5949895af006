#ifndef SEAM_PREFETCH_H
#define SEAM_PREFETCH_H

/// Asks the CPU to bring the cache line at `p` in for writing, without waiting for it (Swift has no prefetch).
static inline void seam_prefetch_for_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// The same for reading.
static inline void seam_prefetch_for_read(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
