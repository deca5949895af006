public import CCPU  // public: the inlinable hint below calls its static inline C function from other modules

/// Cache hints for memory a scan will read next (Swift has no prefetch of its own).
public enum Prefetch {
    /// Asks the CPU to bring the `bytes` from `start` into the cache, one hint per 64-byte line, without waiting.
    /// A hint touches no memory as far as the program can tell (it never faults, also past the end of a mapping),
    /// so a kernel may hint beyond the buffer it reads.
    @inlinable @inline(__always)
    public static func read(_ start: UnsafeRawPointer, bytes: Int) {
        var line = 0
        // Four hints a turn: a turn per line spent three instructions of loop on each hint (a scan hints a block's
        // first 4 KiB, 64 lines, per block).
        while line &+ 256 <= bytes {
            seam_prefetch_for_read(start + line)
            seam_prefetch_for_read(start + line + 64)
            seam_prefetch_for_read(start + line + 128)
            seam_prefetch_for_read(start + line + 192)
            line &+= 256
        }
        while line < bytes {
            seam_prefetch_for_read(start + line)
            line &+= 64
        }
    }
}
