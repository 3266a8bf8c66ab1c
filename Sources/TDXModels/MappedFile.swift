import Foundation

/// A read-only memory map of a whole file. Owns the mapping; unmaps on deinit.
final class MappedFile: @unchecked Sendable {
    let path: String
    let base: UnsafeRawPointer
    let count: Int

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelError.fileNotFound(path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelError.fileNotFound(path) }
        count = Int(st.st_size)
        guard count > 0 else { throw ModelError.truncated(path, detail: "the file is empty") }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelError.fileNotFound(path)
        }
        base = UnsafeRawPointer(p)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), count) }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// Bounds-checked little-endian reader over a mapped file; every overrun is a `.truncated` error.
struct ByteCursor {
    let file: MappedFile
    var offset: Int

    mutating func need(_ n: Int, _ what: String) throws {
        guard n >= 0, offset + n <= file.count else {
            throw ModelError.truncated(file.path, detail: "ends inside \(what) at byte \(offset)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        try need(MemoryLayout<T>.size, what)
        let v = file.base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func bytes(_ n: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        try need(n, what)
        defer { offset += n }
        return UnsafeRawBufferPointer(start: file.base + offset, count: n)
    }
}
