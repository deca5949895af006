import Synchronization

/// The steps of a commit, in order, at which a fault can be injected.
public enum CommitStep: Sendable, Hashable, CustomStringConvertible {
    case writeSegment(Int)
    case syncSegment(Int)
    case syncDataDirectory
    case writeManifest
    case syncManifest
    case renameManifest
    case syncTableDirectory
    case removeReplaced

    public var description: String {
        switch self {
        case .writeSegment(let i): return "write-segment-\(i)"
        case .syncSegment(let i): return "sync-segment-\(i)"
        case .syncDataDirectory: return "sync-data-dir"
        case .writeManifest: return "write-manifest"
        case .syncManifest: return "sync-manifest"
        case .renameManifest: return "rename-manifest"
        case .syncTableDirectory: return "sync-table-dir"
        case .removeReplaced: return "remove-replaced"
        }
    }
}

public enum CommitPhase: String, Sendable { case before, after }

/// Called before and after every commit step; a hook that throws (or exits the process) simulates a crash there.
public struct CommitFaults: Sendable {
    public var hook: @Sendable (CommitStep, CommitPhase) throws -> Void
    public init(_ hook: @escaping @Sendable (CommitStep, CommitPhase) throws -> Void) { self.hook = hook }
    public static let none = CommitFaults { _, _ in }

    /// Faults read from `SEAM_CRASH_AT=step:phase` (for example `rename-manifest:before`): the process exits
    /// at once with status 86 there, as a kill would stop it. Used by the end-to-end crash tests.
    /// `step:phase:n` exits at the n-th time that point is reached (1-based), across the commits of the process.
    public static func fromEnvironment(_ value: String?) -> CommitFaults {
        guard let value, !value.isEmpty else { return .none }
        let parts = value.split(separator: ":")
        let point = parts.prefix(2).joined(separator: ":")
        let nth = parts.count > 2 ? Int(parts[2]) ?? 1 : 1
        let seen = Mutex(0)
        return CommitFaults { step, phase in
            guard "\(step):\(phase.rawValue)" == point else { return }
            if seen.withLock({ n in n += 1; return n }) == nth { exitImmediately(86) }
        }
    }
}

#if canImport(Glibc)
import Glibc
private func exitImmediately(_ code: Int32) -> Never { _exit(code) }
#elseif canImport(Darwin)
import Darwin
private func exitImmediately(_ code: Int32) -> Never { _exit(code) }
#endif
