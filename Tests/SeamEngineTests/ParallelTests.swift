import Foundation
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
}
