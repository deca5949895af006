import Foundation
import SeamTestSupport
import Testing

/// End-to-end: the `seam` executable as a user runs it.
@Suite(.serialized) struct CLITests {
    static let binary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for config in ["debug", "release"] {
            let p = root.appendingPathComponent(".build/\(config)/seam").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return root.appendingPathComponent(".build/debug/seam").path
    }()

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func seam(_ args: [String], env: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func generateStatsVerifyAndDetectAFlippedByte() throws {
        let dir = VectorFixtures.temporaryDirectory("cli")
        let gen = try Self.seam(["generate", "--customers", "200", "--seed", "5", "--out", dir + "/raw", "--store", dir + "/store"])
        #expect(gen.status == 0, "\(gen.stderr)")
        #expect(gen.stdout.contains("web_events.jsonl") && gen.stdout.contains("loaded"))
        let stats = try Self.seam(["stats", "--store", dir + "/store"])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("events: ") && stats.stdout.contains("bytes/row"))
        let ok = try Self.seam(["verify", "--store", dir + "/store"])
        #expect(ok.status == 0 && ok.stdout.contains("OK"), "\(ok.stdout)")

        // Flip one byte in the middle of the first segment's data (inside some block).
        let data = dir + "/store/tables/events/data"
        let seg = data + "/" + (try FileManager.default.contentsOfDirectory(atPath: data).sorted().first!)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: seg))
        bytes[200] ^= 0x5A
        try bytes.write(to: URL(fileURLWithPath: seg))
        let bad = try Self.seam(["verify", "--store", dir + "/store"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("DAMAGED") && bad.stdout.contains(seg) && bad.stdout.contains("column 'event_id', block 0"), "\(bad.stdout)")
    }

    /// A process killed in the middle of a commit loses nothing committed; the next writer cleans up and says so.
    @Test(arguments: ["write-segment-0:after", "sync-data-dir:after", "write-manifest:after", "rename-manifest:before"])
    func killedCommitIsRecovered(at crash: String) throws {
        let dir = VectorFixtures.temporaryDirectory("crash")
        let store = dir + "/store"
        let first = try Self.seam(["generate", "--customers", "50", "--no-files", "--store", store])
        #expect(first.status == 0)
        let before = try Self.seam(["stats", "--store", store]).stdout
        let killed = try Self.seam(["generate", "--customers", "60", "--seed", "9", "--no-files", "--store", store], env: ["SEAM_CRASH_AT": crash])
        #expect(killed.status == 86, "\(killed.stderr)")
        // Readers see the last commit, untouched; verify names the leftovers but finds no damage.
        #expect(try Self.seam(["stats", "--store", store]).stdout == before)
        let check = try Self.seam(["verify", "--store", store])
        #expect(check.status == 0 && check.stdout.contains("left by an interrupted commit"), "\(check.stdout)")
        // The next writer removes the leftovers and reports them; then its own commit lands.
        let next = try Self.seam(["generate", "--customers", "60", "--seed", "9", "--no-files", "--store", store])
        #expect(next.status == 0)
        #expect(next.stderr.contains("recovered") && next.stderr.contains("interrupted commit"), "\(next.stderr)")
        #expect(try Self.seam(["verify", "--store", store]).status == 0)
    }
}
