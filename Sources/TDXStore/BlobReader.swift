import CSQLite
import Foundation

/// Reads one blob sequentially, straight from SQLite's pages into the caller's memory
/// (incremental blob I/O: no intermediate copy of a chunk). Valid only inside the closure that
/// received it, which holds a read transaction so the blob cannot vanish mid-read.
public final class BlobReader {
    public let info: BlobInfo
    private let db: Database
    /// (rowid, length) of each chunk in order.
    private let chunks: [(rowid: Int64, length: Int)]
    private var handle: OpaquePointer?
    private var openChunk = -1
    private var chunkIndex = 0
    private var offsetInChunk = 0
    public private(set) var position = 0

    init(db: Database, blobID: Int64, info: BlobInfo) throws {
        self.db = db
        self.info = info
        chunks = try db.rows("SELECT rowid, length(data) FROM chunk WHERE blob_id = ? ORDER BY idx", [blobID]) {
            ($0.int64(0), $0.int(1))
        }
        let stored = chunks.reduce(0) { $0 + $1.length }
        if stored != info.size {
            throw StoreError.corrupt(path: db.path,
                                     detail: "blob `\(info.name)` has \(stored) bytes in its chunks, expected \(info.size)")
        }
    }

    deinit { close() }

    /// Closes the open chunk handle. An open blob handle keeps the connection's read snapshot alive,
    /// so the owning transaction closes it before it ends (never leave it to ARC's timing).
    func close() {
        if let handle { sqlite3_blob_close(handle) }
        handle = nil
        openChunk = -1
    }

    public var remaining: Int { info.size - position }

    /// Fills as much of `destination` as the blob has left; returns the bytes written (0 at the end).
    public func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < destination.count && chunkIndex < chunks.count {
            let chunk = chunks[chunkIndex]
            let n = min(chunk.length - offsetInChunk, destination.count - written)
            if n > 0 {
                try openBlob(chunkIndex)
                let rc = sqlite3_blob_read(handle, destination.baseAddress! + written, Int32(n), Int32(offsetInChunk))
                if rc != SQLITE_OK { throw db.mapped(rc, "sqlite3_blob_read(chunk)") }
                written += n
                offsetInChunk += n
            }
            if offsetInChunk == chunk.length { chunkIndex += 1; offsetInChunk = 0 }
        }
        position += written
        return written
    }

    /// Calls `body` with consecutive spans of the blob, at most `bufferSize` bytes each, reusing one buffer.
    public func forEachSpan(bufferSize: Int = Store.chunkSize, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, min(bufferSize, max(remaining, 1))), alignment: 64)
        defer { buf.deallocate() }
        while true {
            let n = try read(into: buf)
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
    }

    private func openBlob(_ index: Int) throws {
        if openChunk == index { return }
        let rowid = chunks[index].rowid
        let rc: Int32
        if let handle {
            rc = sqlite3_blob_reopen(handle, rowid)
        } else {
            rc = sqlite3_blob_open(db.handle, "main", "chunk", "data", rowid, 0, &handle)
        }
        if rc != SQLITE_OK { throw db.mapped(rc, "sqlite3_blob_open(chunk)") }
        openChunk = index
    }
}
