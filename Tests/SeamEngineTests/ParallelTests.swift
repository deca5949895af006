import Foundation
import Synchronization
import Testing

@testable import SeamEngine

@Suite struct ParallelTests {
    struct Failure: Error, Equatable { let index: Int }

    /// Two morsels fail; the later one fails first in time. The loop reports the earlier morsel's error, as one
    /// thread would (which error a query shows must not depend on thread timing).
    @Test func theLowestFailingMorselsErrorIsRethrown() {
        for _ in 0..<5 {
            #expect(throws: Failure(index: 3)) {
                try parallelFor(40, threads: 2, token: CancellationToken()) { _, i in
                    if i == 3 {
                        Thread.sleep(forTimeInterval: 0.05)  // still running when morsel 7 has failed
                        throw Failure(index: 3)
                    }
                    if i == 7 { throw Failure(index: 7) }
                }
            }
        }
    }

    /// Every index runs once, on a worker numbered below the loop's worker count: loops back to back (the pool's
    /// helpers still awake, or asleep after a pause), a loop inside a loop's body, and loops from several threads at
    /// once (the pool runs one loop at a time; the others take Dispatch's threads).
    @Test func everyIndexRunsOnceWhateverTheNestingOrConcurrency() throws {
        /// Returns the workers that ran an index. `slow`: each index takes 0.2 ms, long enough for helpers to join
        /// and still be busy when the caller runs out of indices (a loop that returned before they finished fails).
        @Sendable @discardableResult func check(_ count: Int, threads: Int, slow: Bool = false) throws -> Set<Int> {
            let runs = Mutex([Int](repeating: 0, count: count))
            let workers = Mutex(Set<Int>())
            try parallelFor(count, threads: threads, token: CancellationToken()) { w, i in
                if slow { usleep(200) }
                runs.withLock { $0[i] += 1 }
                _ = workers.withLock { $0.insert(w) }
            }
            #expect(runs.withLock { $0 } == [Int](repeating: 1, count: count), "\(count) indices on \(threads) threads")
            let seen = workers.withLock { $0 }
            #expect(seen.allSatisfy { $0 >= 0 && $0 < min(threads, count) })
            return seen
        }
        for k in 0..<300 {
            try check(k % 37 + 1, threads: 1 + k % 4)
            if k % 100 == 99 { Thread.sleep(forTimeInterval: 0.01) }  // past the helpers' linger: they sleep
        }
        // Helpers take part: across slow loops on two threads, worker 1 ran some index.
        var helped = Set<Int>()
        for _ in 0..<20 { helped.formUnion(try check(40, threads: 2, slow: true)) }
        #expect(helped == [0, 1])
        let inner = Mutex(0)
        try parallelFor(8, threads: 2, token: CancellationToken()) { _, _ in
            try parallelFor(10, threads: 2, token: CancellationToken()) { _, _ in inner.withLock { $0 += 1 } }
        }
        #expect(inner.withLock { $0 } == 80)
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            for k in 0..<100 {
                do { try check(k % 20 + 1, threads: 2) } catch { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }
}
