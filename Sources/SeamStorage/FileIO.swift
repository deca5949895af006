#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls the commit protocol depends on; every failure names the path.
package enum FileIO {
    static func error(_ what: String, _ path: String) -> StorageError {
        StorageError(.io, "\(what) failed: \(String(cString: strerror(errno)))", file: path)
    }

    /// Writes `bytes` to a new file at `path` (failing if it exists) and optionally fsyncs it.
    package static func writeNew(_ path: String, _ bytes: [UInt8]) throws(StorageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error("create", path) }
        defer { close(fd) }
        try writeAll(fd, bytes, path)
    }

    /// Appends `bytes` to `path` (created when missing) and fsyncs it: the bytes are durable on return.
    package static func appendDurably(_ path: String, _ bytes: [UInt8]) throws(StorageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error("open for append", path) }
        defer { close(fd) }
        try writeAll(fd, bytes, path)
        guard fsync(fd) == 0 else { throw error("fsync", path) }
    }

    /// Replaces `path` with `bytes` atomically: a temporary file, fsync, rename, fsync of the directory.
    package static func replaceDurably(_ path: String, _ bytes: [UInt8]) throws(StorageError) {
        let tmp = path + ".tmp"
        try remove(tmp)
        try writeNew(tmp, bytes)
        try sync(tmp)
        try rename(tmp, path)
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try sync(dir.isEmpty ? "." : dir, directory: true)
    }

    /// Writes all of `bytes` to `fd` (retrying interrupted calls); a failure names `path`.
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            written += n
        }
    }

    /// fsync of a file or directory.
    package static func sync(_ path: String, directory: Bool = false) throws(StorageError) {
        let fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw error("open for fsync", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync", path) }
    }

    package static func rename(_ from: String, _ to: String) throws(StorageError) {
        #if canImport(Glibc)
        let rc = Glibc.rename(from, to)
        #else
        let rc = Darwin.rename(from, to)
        #endif
        guard rc == 0 else { throw error("rename to \(to)", from) }
    }

    package static func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw error("unlink", path) }
    }

    /// `mkdir -p`: creates `path` and its missing parents.
    package static func makeDirectory(_ path: String) throws(StorageError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw error("mkdir", prefix) }
        }
    }

    package static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    package static func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    /// Names in a directory, sorted, without `.` and `..`.
    package static func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw error("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    package static func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        try readAllStamped(path).bytes
    }

    /// ``readAll(_:)``, and the stamp of the file those bytes were read from (nil when it could not be had).
    package static func readAllStamped(_ path: String) throws(StorageError) -> (bytes: [UInt8], stamp: FileStamp?) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open", path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var st = stat()
        let stamp: FileStamp?
        if fstat(fd, &st) == 0 {
            out.reserveCapacity(Int(st.st_size))
            stamp = FileStamp(st)
        } else {
            stamp = nil
        }
        // Read through an uninitialized temporary buffer: zeroing a 64 KiB array per call cost more than a small
        // file's read (the manifest, read by every query).
        let failure = withUnsafeTemporaryAllocation(byteCount: 1 << 16, alignment: 16) { buf -> Int32? in
            while true {
                let n = read(fd, buf.baseAddress!, buf.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno  // taken before the buffer is freed
                }
                if n == 0 { return nil }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            }
        }
        if let failure {
            errno = failure
            throw error("read", path)
        }
        return (out, stamp)
    }

    /// The stamp of the file now at `path`, nil when there is none (one stat).
    package static func stamp(_ path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(st)
    }

    /// Sets the access and modification times of the file at `path` to this second, with `nanoseconds`; false when
    /// the file system refused.
    @discardableResult
    package static func setTimes(_ path: String, nanoseconds: Int) -> Bool {
        let now = timespec(tv_sec: time(nil), tv_nsec: nanoseconds)
        var times = [now, now]
        return utimensat(AT_FDCWD, path, &times, 0) == 0
    }
}

/// What tells one file at a path from another: device, inode, size, and the modification and change times to the
/// nanosecond. A file that is only ever replaced by rename, never written in place, has the same stamp for as long
/// as the same file is there; a new file could repeat every field only by taking the old one's freed inode, its size
/// and its times to the clock tick, which ``Store`` rules out for manifests by writing the version into the
/// nanoseconds of each manifest's modification time.
package struct FileStamp: Equatable, Sendable {
    let device: UInt64, inode: UInt64, size: Int64
    let modifiedSeconds: Int, modifiedNanoseconds: Int, changedSeconds: Int, changedNanoseconds: Int

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        #if canImport(Darwin)
        let (m, c) = (st.st_mtimespec, st.st_ctimespec)
        #else
        let (m, c) = (st.st_mtim, st.st_ctim)
        #endif
        modifiedSeconds = Int(m.tv_sec)
        modifiedNanoseconds = Int(m.tv_nsec)
        changedSeconds = Int(c.tv_sec)
        changedNanoseconds = Int(c.tv_nsec)
    }
}

/// An exclusive advisory lock on a file, held until released or the process ends (a crash releases it).
package struct FileLock: ~Copyable {
    private let fd: Int32

    /// Takes the lock without waiting; throws `.locked` when another process holds it.
    package init(path: String) throws(StorageError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIO.error("open lock", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StorageError(.locked, "another process is writing to this store", file: path)
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
