public import Foundation
import SeamSQL
import Synchronization

/// Wraps a value for a closure the compiler asks to be `Sendable`, when the code around it guarantees that
/// workers touch disjoint parts (or synchronize themselves).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
}

/// Cancels a running query: Ctrl-C, a timeout, or the first error of any worker.
public final class CancellationToken: @unchecked Sendable {
    private let state = Mutex<(cancelled: Bool, reason: String)>((false, ""))
    let deadline: Date?

    public init(timeout: TimeInterval? = nil) {
        deadline = timeout.map { Date().addingTimeInterval($0) }
    }

    public func cancel(_ reason: String = "query cancelled") {
        state.withLock {
            if !$0.cancelled { $0 = (true, reason) }
        }
    }

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Throws when cancelled or past the deadline.
    func check() throws {
        if let deadline, Date() > deadline { cancel("query timed out") }
        let s = state.withLock { $0 }
        if s.cancelled { throw SQLError(.interrupted, s.reason) }
    }
}

/// Morsel-driven parallel loop: `workers` threads pull indices 0..<count in order; an error stops every worker from
/// taking more, and the error of the lowest failing index is rethrown, as one thread would have met it first (which
/// worker fails first depends on timing; which morsel fails first in order does not).
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
    let next = Mutex(0)
    let firstError = Mutex<(index: Int, error: any Error)?>(nil)
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            while true {
                let i = next.withLock { v -> Int in
                    defer { v += 1 }
                    return v
                }
                if i >= count { return }
                do {
                    try token.check()
                    try work.value(w, i)
                } catch {
                    firstError.withLock { if $0 == nil || i < $0!.index { $0 = (i, error) } }
                    next.withLock { $0 = count }
                    return
                }
            }
        }
    }
    if let e = firstError.withLock({ $0 }) { throw e.error }
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
