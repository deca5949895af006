import Foundation
import Synchronization
import Testing

@testable import SeamEngine

@Suite struct ParallelTests {
    struct Failure: Error, Equatable { let index: Int }
    typealias Loop = @Sendable (Int, Int, CancellationToken, (Int, Int) throws -> Void) throws -> Void
    /// Both loops keep the same contract: every index once, the lowest failing index's error.
    static let loops: [(name: String, run: Loop)] = [
        ("first come", { try parallelFor($0, threads: $1, token: $2, $3) }),
        ("in shares", { try parallelForInShares($0, threads: $1, token: $2, $3) }),
    ]

    /// Two morsels fail; the later one fails first in time. The loop reports the earlier morsel's error, as one
    /// thread would (which error a query shows must not depend on thread timing).
    @Test(arguments: [0, 1]) func theLowestFailingMorselsErrorIsRethrown(loop: Int) {
        let parallelFor = Self.loops[loop].run
        for _ in 0..<5 {
            #expect(throws: Failure(index: 3)) {
                try parallelFor(40, 2, CancellationToken()) { _, i in
                    if i == 3 {
                        Thread.sleep(forTimeInterval: 0.05)  // still running when morsel 7 has failed
                        throw Failure(index: 3)
                    }
                    if i == 7 { throw Failure(index: 7) }
                }
            }
            // Morsel 3 has not begun when morsel 7 fails: its worker is held up at morsel 0 (in shares, the other
            // worker has meanwhile gone through its own share and down the first from its back to 7).
            #expect(throws: Failure(index: 3)) {
                try parallelFor(40, 2, CancellationToken()) { _, i in
                    if i == 0 { Thread.sleep(forTimeInterval: 0.05) }
                    if i == 3 { throw Failure(index: 3) }
                    if i == 7 { throw Failure(index: 7) }
                }
            }
        }
    }

    /// Every index runs once, on a worker numbered below the loop's worker count: loops back to back (the pool's
    /// helpers still awake, or asleep after a pause), a loop inside a loop's body, and loops from several threads at
    /// once (the pool runs one loop at a time; the others take Dispatch's threads).
    @Test(arguments: [0, 1]) func everyIndexRunsOnceWhateverTheNestingOrConcurrency(loop: Int) throws {
        let parallelFor = Self.loops[loop].run
        /// Returns the workers that ran an index. `slow`: each index takes 0.2 ms, long enough for helpers to join
        /// and still be busy when the caller runs out of indices (a loop that returned before they finished fails).
        @Sendable @discardableResult func check(_ count: Int, threads: Int, slow: Bool = false) throws -> Set<Int> {
            let runs = Mutex([Int](repeating: 0, count: count))
            let workers = Mutex(Set<Int>())
            try parallelFor(count, threads, CancellationToken()) { w, i in
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
        try parallelFor(8, 2, CancellationToken()) { _, _ in
            try parallelFor(10, 2, CancellationToken()) { _, _ in inner.withLock { $0 += 1 } }
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

    /// In shares, each worker begins at the front of its own share and goes up it; what others take of a share
    /// comes from its back, going down, above all its owner took.
    @Test func sharesAreTakenFromTheFrontByTheirOwnerAndFromTheBackByOthers() throws {
        for threads in 2...3 {
            for _ in 0..<10 {
                let count = 30
                let order = Mutex([[Int]](repeating: [], count: threads))
                try parallelForInShares(count, threads: threads, token: CancellationToken()) { w, i in
                    usleep(100)
                    order.withLock { $0[w].append(i) }
                }
                let ran = order.withLock { $0 }
                #expect(ran.flatMap { $0 }.sorted() == Array(0..<count))
                for w in 0..<threads where !ran[w].isEmpty {
                    let share = (count * w / threads)..<(count * (w + 1) / threads)
                    let own = ran[w].filter { share.contains($0) }
                    #expect(own == Array(share.prefix(own.count)), "worker \(w) took its share's front in order: \(ran[w])")
                    for v in 0..<threads where v != w {
                        let other = (count * v / threads)..<(count * (v + 1) / threads)
                        let stolen = ran[w].filter { other.contains($0) }
                        let owners = ran[v].filter { other.contains($0) }
                        #expect(stolen == stolen.sorted(by: >), "worker \(w) went down share \(v): \(ran[w])")
                        #expect(stolen.allSatisfy { s in owners.allSatisfy { $0 < s } }, "share \(v): \(ran[v]), worker \(w): \(ran[w])")
                    }
                }
            }
        }
    }
}
