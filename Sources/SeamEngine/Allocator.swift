#if canImport(Glibc)
import Glibc
#endif
import SeamColumnar

/// Process-wide allocator settings for query and ingest work. Call once at start-up (the `seam` command does); an application
/// embedding Seam decides for itself, since they apply to the whole process.
public enum Allocator {
    /// Caps glibc's malloc arenas at one per core (its default allows eight per core). An ingest's workers allocate
    /// the records the landing thread frees, and memory freed into one thread's arena is not reused by another:
    /// measured on a 10M-record ingest here, the peak resident set went from 1.51 to 1.39 GB at the same speed.
    public static func tuneForIngest(cores: Int) {
        #if canImport(Glibc)
        typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MalloptFunction.self)
        let arenaMax: Int32 = -8  // M_ARENA_MAX in <malloc.h>
        _ = mallopt(arenaMax, Int32(max(1, min(cores, 64))))
        // Freed memory stays in the arenas for the next window and segment (a commit gathers every column into
        // fresh buffers): glibc's moving thresholds handed much of it back, and taking it again cost a page fault
        // and a cleared page per 4 KiB. Blocks past 32 MiB are still mapped apart and unmapped when freed.
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 1 << 30)
        #endif
        // Each commit gathers its segments' columns into fresh column-sized buffers (past 8 MiB, mapped apart from
        // malloc), and fresh pages are dear on this VM (about 3 ms per 2 MiB page). Keeping up to 512 MiB of freed
        // ones took the huge-page faults of a 1.16M-record ingest from 150 to 64 (`thp_fault_alloc`) and their share
        // of its cycles from 5.1 % to 2.0 % (`perf record`). Since commits gather one segment at a time, 128 MiB
        // gives the same 36 faults as 512 MiB, and a 10M-event ingest peaks at 1.51-1.55 GB instead of 1.90 GB.
        Buffer.keepFreedLargeBuffers(upTo: 128 << 20)
    }

    /// Keeps glibc's malloc from handing every large block buffer back to the kernel. By default blocks above a
    /// threshold that glibc adjusts at run time are mmapped and unmapped each time, so each query pays a page fault
    /// and a zero-fill per 4 KiB it decodes; measured here, the same revenue-by-category query over 10M events took
    /// 60 ms or 125 ms with 1 thread depending only on how that threshold had drifted. Fixed thresholds (64 MiB to
    /// mmap, 512 MiB to trim) keep block-sized buffers in the heap for reuse.
    ///
    /// Column-sized buffers (past 8 MiB) bypass malloc; freed ones are kept mapped for the next query's columns
    /// (``Buffer/keepFreedLargeBuffers(upTo:)``): a window query over 66M rows spent a quarter of its CPU time in the
    /// kernel clearing fresh pages, and ran 4.5 s warm without the reuse and 3.2 s with it.
    public static func tuneForQueries() {
        Buffer.keepFreedLargeBuffers()
        #if canImport(Glibc)
        // `mallopt` is declared in <malloc.h>, which the Glibc module does not export: look it up instead.
        typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }  // nil: RTLD_DEFAULT
        let mallopt = unsafeBitCast(symbol, to: MalloptFunction.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD in <malloc.h>
        _ = mallopt(mmapThreshold, 64 << 20)
        _ = mallopt(trimThreshold, 512 << 20)
        #endif
    }
}
