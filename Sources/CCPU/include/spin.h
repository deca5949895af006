#ifndef SEAM_SPIN_H
#define SEAM_SPIN_H

/// Tells the CPU this thread is spinning on a flag (x86's PAUSE: the loop stops hogging the core's shared pipeline
/// and leaves it without a memory-order flush when the flag changes). Swift has no such hint of its own.
static inline void seam_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
