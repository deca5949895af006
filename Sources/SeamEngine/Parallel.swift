public import Foundation
import SeamSQL
import SeamKernels
import Synchronization

/// Wraps a value for a closure the compiler asks to be `Sendable`, when the code around it guarantees that
/// workers touch disjoint parts (or synchronize themselves).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
}

/// Cancels a running query: Ctrl-C, a timeout, or the first error of any worker.
public final class CancellationToken: @unchecked Sendable {
    private let state = Mutex<(cancelled: Bool, reason: String)>((false, ""))
    /// Set once `state` is cancelled: what ``check()`` reads per morsel (the lock, taken per morsel by every worker,
    /// was contended: about 2 % of a 2-thread filtered sum over 10M events).
    private let cancelled = Atomic<Bool>(false)
    let deadline: Date?

    public init(timeout: TimeInterval? = nil) {
        deadline = timeout.map { Date().addingTimeInterval($0) }
    }

    public func cancel(_ reason: String = "query cancelled") {
        state.withLock {
            if !$0.cancelled { $0 = (true, reason) }
        }
        cancelled.store(true, ordering: .releasing)
    }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Throws when cancelled or past the deadline.
    func check() throws {
        if let deadline, Date() > deadline { cancel("query timed out") }
        guard cancelled.load(ordering: .acquiring) else { return }
        throw SQLError(.interrupted, state.withLock { $0.reason })
    }
}

/// Morsel-driven parallel loop: `workers` threads pull indices 0..<count in order; an error stops every worker from
/// taking more, and the error of the lowest failing index is rethrown, as one thread would have met it first (which
/// worker fails first depends on timing; which morsel fails first in order does not). The calling thread is worker 0
/// and starts at once; the others come from ``WorkerPool``.
func parallelFor(_ count: Int, threads: Int, token: CancellationToken, _ body: (_ worker: Int, _ index: Int) throws -> Void) throws {
    if count == 0 { return }
    let workers = max(1, min(threads, count))
    if workers == 1 {
        for i in 0..<count {
            try token.check()
            try body(0, i)
        }
        return
    }
    let next = Atomic<Int>(0)
    let firstError = Mutex<(index: Int, error: any Error)?>(nil)
    WorkerPool.shared.run(workers: workers) { w in
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { return }
            do {
                try token.check()
                try body(w, i)
            } catch {
                firstError.withLock { if $0 == nil || i < $0!.index { $0 = (i, error) } }
                next.store(count, ordering: .relaxed)
                return
            }
        }
    }
    if let e = firstError.withLock({ $0 }) { throw e.error }
}

/// ``parallelFor(_:threads:token:_:)`` for loops whose indices may begin in any order: worker `w` first takes the
/// indices of its own share, the `w`-th contiguous part of `0..<count`, from the front; a worker whose share is done
/// takes from the back of another's. The same loop run again over the same data gives each worker nearly the same
/// indices as the time before, whose bytes its core's cache may still hold: a count over 10M events reads 2.44 MB,
/// 1.2 MB a core, which a core's 2 MB L2 keeps between statements, where indices handed out first come first served
/// went to either core by timing and came from L3 each time.
///
/// Errors are reported as parallelFor reports them, the lowest failing index's: as indices do not begin in order, an
/// index below a failed one may not have begun yet, so after a failure the indices below it still run (one of them may
/// fail too) and those above it are skipped.
func parallelForInShares(_ count: Int, threads: Int, token: CancellationToken, _ body: (_ worker: Int, _ index: Int) throws -> Void) throws {
    let workers = max(1, min(threads, count))
    if workers <= 1 {
        try parallelFor(count, threads: 1, token: token, body)
        return
    }
    let shares = ShareRanges(count: count, workers: workers)
    defer { shares.release() }
    let firstError = Mutex<(index: Int, error: any Error)?>(nil)
    /// Indices from here on are skipped: the lowest that failed.
    let limit = Atomic<Int>(count)
    WorkerPool.shared.run(workers: workers) { w in
        var victim = w
        while true {
            let taken = victim == w ? shares.takeFront(w) : shares.takeBack(victim)
            guard let i = taken else {
                victim = (victim + 1) % workers
                if victim == w { return }
                continue
            }
            if i >= limit.load(ordering: .relaxed) { continue }
            do {
                try token.check()
                try body(w, i)
            } catch {
                firstError.withLock { if $0 == nil || i < $0!.index { $0 = (i, error) } }
                var seen = limit.load(ordering: .relaxed)
                while i < seen {
                    let (done, now) = limit.compareExchange(expected: seen, desired: i, ordering: .relaxed)
                    if done { break }
                    seen = now
                }
            }
        }
    }
    if let e = firstError.withLock({ $0 }) { throw e.error }
}

/// The remaining indices of each worker's share as one atomic word, `front | back << 32` (front ..< back): its owner
/// takes from the front, others from the back, each by compare-and-exchange, so every index is taken once.
private struct ShareRanges {
    let words: UnsafeMutablePointer<Atomic<UInt64>>
    let workers: Int

    init(count: Int, workers: Int) {
        precondition(count < Int(UInt32.max), "parallelForInShares counts up to 2^32 - 1 indices")
        self.workers = workers
        words = .allocate(capacity: workers)
        for w in 0..<workers {
            let lo = UInt64(count * w / workers), hi = UInt64(count * (w + 1) / workers)
            (words + w).initialize(to: Atomic(lo | hi << 32))
        }
    }

    func release() {
        words.deinitialize(count: workers)
        words.deallocate()
    }

    func takeFront(_ w: Int) -> Int? {
        var old = words[w].load(ordering: .relaxed)
        while true {
            let lo = old & 0xFFFF_FFFF, hi = old >> 32
            if lo >= hi { return nil }
            let (done, seen) = words[w].compareExchange(expected: old, desired: (lo + 1) | hi << 32, ordering: .relaxed)
            if done { return Int(lo) }
            old = seen
        }
    }

    func takeBack(_ w: Int) -> Int? {
        var old = words[w].load(ordering: .relaxed)
        while true {
            let lo = old & 0xFFFF_FFFF, hi = old >> 32
            if lo >= hi { return nil }
            let (done, seen) = words[w].compareExchange(expected: old, desired: lo | (hi - 1) << 32, ordering: .relaxed)
            if done { return Int(hi - 1) }
            old = seen
        }
    }
}

/// Threads kept for the life of the process to run the other workers' share of ``parallelFor(_:threads:token:_:)``.
///
/// Waking a sleeping thread takes 36-230 µs on this machine (a C condition-variable round trip, median 119 µs), as long
/// as a whole small query: so the caller works from the start instead of waiting for its helpers, never sleeps while
/// they finish their last morsel (it spins: a morsel is a few blocks at most), and a helper spins ``lingerNanos`` after a loop
/// before it sleeps, for the next loop of the same query. One loop runs on the pool at a time; a loop started while
/// another runs (a second query in the same process) takes Dispatch's threads instead.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long a helper waits for the next loop awake before it sleeps.
    static let lingerNanos: UInt64 = 1_000_000

    /// One loop as the helpers see it.
    private final class Job {
        let run: (Int) -> Void
        let helpers: Int
        /// Helpers that joined (under the pool's lock); the next one to join is worker `joined + 1`.
        var joined = 0
        init(run: @escaping (Int) -> Void, helpers: Int) {
            self.run = run
            self.helpers = helpers
        }
    }

    private let lock = NSCondition()
    // Under `lock`:
    private var job: Job?
    private var threads = 0
    private var sleepers = 0
    /// Bumped (under `lock`) for every loop; helpers spin on it before they sleep.
    private let generation = Atomic<Int>(0)
    /// Helpers inside a loop's body: the caller returns when it is 0 again.
    private let active = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)

    /// Calls `body(w)` for `w` in `0..<workers`, `body(0)` on the calling thread, and returns when all have returned.
    /// A helper that comes too late for a loop skips it: `body` must do the loop's work whichever workers run it (as
    /// parallelFor's shared index does).
    func run(workers: Int, _ body: (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable(value: body)
                DispatchQueue.concurrentPerform(iterations: workers) { work.value($0) }
            }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            let job = Job(run: body, helpers: workers - 1)
            lock.lock()
            while threads < workers - 1 {
                threads += 1
                let t = Thread { [unowned self] in helperLoop() }
                t.name = "seam-worker"
                t.start()
            }
            self.job = job
            generation.add(1, ordering: .releasing)
            if sleepers > 0 { lock.broadcast() }
            lock.unlock()
            body(0)
            lock.lock()
            self.job = nil
            lock.unlock()
            // No helper joins from here on; those that did finish their last morsel. A helper the system has
            // descheduled could hold this core for a whole time slice: past 2,000 pauses (tens of µs) the wait yields.
            var turns = 0
            while active.load(ordering: .acquiring) > 0 {
                Spin.relax()
                turns &+= 1
                if turns > 2_000 { sched_yield() }
            }
        }
    }

    private func helperLoop() {
        var seen = 0
        while true {
            if generation.load(ordering: .acquiring) == seen {
                let start = DispatchTime.now().uptimeNanoseconds
                while generation.load(ordering: .acquiring) == seen && DispatchTime.now().uptimeNanoseconds &- start < Self.lingerNanos {
                    for _ in 0..<16 { Spin.relax() }
                }
            }
            lock.lock()
            while generation.load(ordering: .relaxed) == seen {
                sleepers += 1
                lock.wait()
                sleepers -= 1
            }
            seen = generation.load(ordering: .relaxed)
            var mine: Job? = nil
            var worker = 0
            if let j = job, j.joined < j.helpers {
                j.joined += 1
                worker = j.joined
                active.add(1, ordering: .relaxed)
                mine = j
            }
            lock.unlock()
            guard worker > 0 else { continue }
            mine!.run(worker)
            // The loop's body must not outlive `run` (it does not escape): drop it before saying so.
            mine = nil
            active.subtract(1, ordering: .releasing)
        }
    }
}

/// Transforms `batches` on up to `threads` workers, two batches per worker at a time, and hands the results to
/// `consume` in order: what a collected result goes through on its way to an export (memory bounded by those few
/// batches' results).
func transformInOrder<T: Sendable>(
    _ batches: [Batch], threads: Int, token: CancellationToken, _ transform: @Sendable (Batch) -> T, _ consume: (T) -> Void
) throws {
    var start = 0
    while start < batches.count {
        let end = min(batches.count, start + 2 * max(1, threads))
        let from = start
        let done = Mutex<[Int: T]>([:])
        try parallelFor(end - start, threads: threads, token: token) { _, j in
            let t = transform(batches[from + j])
            done.withLock { $0[j] = t }
        }
        done.withLock { d in for j in 0..<(end - from) { consume(d[j]!) } }
        start = end
    }
}

extension QueryResult {
    /// This result's batches through `transform` on every core, handed to `consume` in order (see
    /// ``QueryEngine/stream(_:token:start:consume:)`` for a result not yet collected).
    public func deliver<T: Sendable>(
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, transform: @Sendable (Batch) -> T, consume: (T) -> Void
    ) {
        // A fresh token: nothing cancels a collected result's formatting, so this cannot throw.
        try! transformInOrder(batches, threads: threads, token: CancellationToken(), transform, consume)
    }
}
