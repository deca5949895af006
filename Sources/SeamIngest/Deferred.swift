import Dispatch
import Foundation

/// A value computed on another thread: `wait()` blocks until it is there. Ingest parses the next window with
/// it while the current one lands, so parsing and landing overlap.
final class Deferred<T: Sendable>: @unchecked Sendable {
    // Written once by the worker before `group.leave()`, read only after `group.wait()`: the group orders them.
    private var value: T?
    private let group = DispatchGroup()

    /// `onOwnThread`: run on a thread of its own instead of Dispatch's pool. The pool runs as many threads as there
    /// are cores; with both busy parsing, a short job queued behind them (reading the next window) waited for a
    /// parse to finish while the landing thread waited for it: about a second of an ingest's 5 s on 2 cores.
    init(onOwnThread: Bool = false, _ work: @escaping @Sendable () -> T) {
        group.enter()
        let run: @Sendable () -> Void = {
            self.value = work()
            self.group.leave()
        }
        if onOwnThread { Thread(block: run).start() } else { DispatchQueue.global().async(execute: run) }
    }

    /// The value, once there; the box gives it up, so the caller decides where it is freed.
    func wait() -> T {
        group.wait()
        defer { value = nil }
        return value!
    }
}
