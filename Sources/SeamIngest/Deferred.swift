import Dispatch

/// A value computed on another thread: `wait()` blocks until it is there. Ingest parses the next window with
/// it while the current one lands, so parsing and landing overlap.
final class Deferred<T: Sendable>: @unchecked Sendable {
    // Written once by the worker before `group.leave()`, read only after `group.wait()`: the group orders them.
    private var value: T?
    private let group = DispatchGroup()

    init(_ work: @escaping @Sendable () -> T) {
        group.enter()
        DispatchQueue.global().async {
            self.value = work()
            self.group.leave()
        }
    }

    /// The value, once there; the box gives it up, so the caller decides where it is freed.
    func wait() -> T {
        group.wait()
        defer { value = nil }
        return value!
    }
}
